package delivery

import (
	"errors"

	"github.com/labelflow/labelflow/internal/formats"
	"github.com/labelflow/labelflow/internal/pseudonym"
	"github.com/labelflow/labelflow/internal/quality"
)

// What a client receives names no one: the platform's records keep roster ids (payroll, scores
// and finance need them), and every file that leaves for a client names each person by their
// pseudonym for that client (internal/pseudonym). These functions make the client's copy.

// ErrNoPseudonyms: a delivery cannot be made without the key that names people for clients.
var ErrNoPseudonyms = errors.New("deliveries name annotators by pseudonyms, and this process has no LABELFLOW_PSEUDONYM_KEY")

// ClientResults is a chunk's recorded results (JSON Lines) as client receives them: every
// annotator and reviewer under their pseudonym. Every delivered format is made from these.
func ClientResults(results []byte, names *pseudonym.Namer, client string) ([]byte, error) {
	if names == nil {
		return nil, ErrNoPseudonyms
	}
	return formats.RenameAnnotators(results, remembered(names.For(client)))
}

// remembered computes each person's name once per call: a chunk names the same few people on
// thousands of lines, and each pseudonym is an HMAC.
func remembered(name func(string) string) func(string) string {
	seen := map[string]string{}
	return func(person string) string {
		n, ok := seen[person]
		if !ok {
			n = name(person)
			seen[person] = n
		}
		return n
	}
}

// ClientReport is the quality report as client receives it: each person's figures under their
// pseudonym. The report given is left as it is; the platform keeps it with roster ids.
func ClientReport(r quality.Report, names *pseudonym.Namer, client string) (quality.Report, error) {
	if names == nil {
		return r, ErrNoPseudonyms
	}
	name := names.For(client)
	rename := func(people map[string]quality.AnnotatorStats) map[string]quality.AnnotatorStats {
		if people == nil {
			return nil
		}
		out := make(map[string]quality.AnnotatorStats, len(people))
		for id, p := range people {
			out[name(id)] = p
		}
		return out
	}
	out := r
	out.People = rename(r.People)
	out.Chunks = make([]quality.ChunkStats, len(r.Chunks))
	for i, c := range r.Chunks {
		c.People = rename(c.People)
		out.Chunks[i] = c
	}
	if r.Chunks == nil {
		out.Chunks = nil
	}
	return out, nil
}
