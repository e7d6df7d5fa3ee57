package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"

	"github.com/labelflow/labelflow/internal/spec"
	"github.com/labelflow/labelflow/workflows"
)

// maxBodyBytes caps every request before routing: a submission carries a suite's answers, which
// boxes and transcriptions make long; routes with small bodies set smaller caps of their own.
const maxBodyBytes = 1 << 20

// checkPathIDs checks each id a route takes from its path against the id's rule, so that a
// malformed id is refused before anything (the token, the store, Temporal) is looked up, and
// never reaches a cache.
func checkPathIDs(r *http.Request) error {
	if id := r.PathValue("project"); id != "" && !spec.ValidID(id) {
		return fmt.Errorf("project: %s is not a project id (lowercase letters, digits and dashes, at most 63)", excerpt(id))
	}
	if id := r.PathValue("suite"); id != "" {
		if _, err := workflows.ParseSuiteID(id); err != nil {
			return fmt.Errorf("suite: %s is not a suite id (of the form c000000-s00000)", excerpt(id))
		}
	}
	if m := r.PathValue("month"); m != "" && !workflows.ValidMonth(m) {
		return fmt.Errorf("month: must be YYYY-MM, got %s", excerpt(m))
	}
	if id := r.PathValue("person"); id != "" && !personIDPattern.MatchString(id) {
		return fmt.Errorf("person: %s is not a roster id (lowercase letters, digits, '.', '_' and '-', at most 128)", excerpt(id))
	}
	if id := r.PathValue("id"); id != "" && !rejectionIDPattern.MatchString(id) {
		return fmt.Errorf("id: %s is not a rejection id (letters, digits, '.', '_' and '-')", excerpt(id))
	}
	return nil
}

var (
	// personIDPattern is any id the roster stores: its people's, and the crowd simulator's longer ones.
	personIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,127}$`)
	// rejectionIDPattern is the shape of a rejection's id (project-person-time, the time with its T and Z).
	rejectionIDPattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]{0,200}$`)
)

// excerpt quotes at most 40 bytes of a client's text, so that an error never echoes a huge id.
func excerpt(s string) string {
	if len(s) > 40 {
		return fmt.Sprintf("%q… (%d bytes)", s[:40], len(s))
	}
	return fmt.Sprintf("%q", s)
}

// decodeJSON reads a request body of at most limit bytes into v: exactly one JSON value, with no
// field v does not have and nothing after it, so that a body never means more than it says. On
// failure it answers the request (400 naming the field where the decoder gives it, or 413) and
// returns false.
func decodeJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, next := dec.Token(); next != io.EOF {
			err = fmt.Errorf("more data after the JSON value (at byte %d)", dec.InputOffset())
			if errors.As(next, new(*http.MaxBytesError)) {
				err = next
			}
		}
	}
	if err == nil {
		return true
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		writeError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("body: larger than %d bytes", tooLarge.Limit))
		return false
	}
	writeError(w, http.StatusBadRequest, "invalid_request", "body: "+bodyProblem(err))
	return false
}

// bodyProblem says what is wrong with a body in the client's terms.
func bodyProblem(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return "empty; send a JSON object"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "ends in the middle of the JSON value"
	case errors.As(err, &syntax):
		return fmt.Sprintf("not JSON at byte %d: %s", syntax.Offset, syntax.Error())
	case errors.As(err, &typ) && typ.Field != "":
		return fmt.Sprintf("%s: want %s, got %s", typ.Field, typ.Type, typ.Value)
	case errors.As(err, &typ):
		return fmt.Sprintf("want %s, got %s", typ.Type, typ.Value)
	}
	// The decoder reports an unknown field as `json: unknown field "name"`.
	return strings.TrimPrefix(err.Error(), "json: ")
}
