// Package workforce keeps the roster of annotators and reviewers. People authenticate to the
// gateway with a bearer token; only its SHA-256 is stored.
package workforce

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/labelflow/labelflow/internal/store"
)

// Person is one member of the workforce.
type Person struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	Country      string   `json:"country"` // ISO 3166-1 alpha-2
	Role         string   `json:"role"`    // annotator | reviewer
	Skills       []string `json:"skills,omitempty"`
	Languages    []string `json:"languages,omitempty"`
	PayoutMethod string   `json:"payout_method"` // bank-transfer | mobile-money
	// PayoutCurrency is the currency the person is paid in; empty means their country's currency.
	PayoutCurrency string `json:"payout_currency,omitempty"`
	TokenSHA256    string `json:"token_sha256"`
}

// localCurrency is the currency of the countries LabelFlow's people work from.
var localCurrency = map[string]string{"KE": "KES", "UG": "UGX", "RW": "RWF", "NG": "NGN", "GH": "GHS", "ET": "ETB",
	"TZ": "TZS", "ZA": "ZAR", "SN": "XOF", "CI": "XOF", "CM": "XAF", "EG": "EGP", "MA": "MAD", "ZM": "ZMW", "MW": "MWK"}

// Currency is the currency p is paid in.
func (p Person) Currency() string {
	if p.PayoutCurrency != "" {
		return p.PayoutCurrency
	}
	return localCurrency[p.Country]
}

// Columns of a roster CSV, in any order; the header row names them.
var (
	requiredColumns = []string{"id", "name", "country", "role", "token"}
	optionalColumns = []string{"skills", "languages", "payout_method", "payout_currency"}
)

var (
	idPattern       = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	countryPattern  = regexp.MustCompile(`^[A-Z]{2}$`)
	currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
)

// LineError is a bad roster line.
type LineError struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (e LineError) Error() string {
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Field, e.Msg)
}

// ImportError lists every bad line; nothing is imported when there is one.
type ImportError struct{ Lines []LineError }

func (e *ImportError) Error() string {
	msgs := make([]string, len(e.Lines))
	for i, l := range e.Lines {
		msgs[i] = l.Error()
	}
	return fmt.Sprintf("%d bad roster line(s):\n  %s", len(e.Lines), strings.Join(msgs, "\n  "))
}

// HashToken returns the stored form of a token.
func HashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// ParseCSV reads a roster. Skills and languages are separated by ';'.
func ParseCSV(file string, r io.Reader) ([]Person, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s:1: header: %w", file, err)
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		if !slices.Contains(requiredColumns, h) && !slices.Contains(optionalColumns, h) {
			return nil, fmt.Errorf("%s:1: header: unknown column %q (columns: %s)", file, h, strings.Join(append(requiredColumns, optionalColumns...), ","))
		}
		if _, dup := col[h]; dup {
			return nil, fmt.Errorf("%s:1: header: column %q appears twice", file, h)
		}
		col[h] = i
	}
	for _, c := range requiredColumns {
		if _, ok := col[c]; !ok {
			return nil, fmt.Errorf("%s:1: header: column %q is missing", file, c)
		}
	}
	var people []Person
	var bad []LineError
	ids, tokens := map[string]int{}, map[string]int{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			bad = append(bad, LineError{file, line, "(line)", err.Error()})
			continue
		}
		get := func(c string) string {
			if i, ok := col[c]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		fail := func(field, format string, args ...any) {
			bad = append(bad, LineError{file, line, field, fmt.Sprintf(format, args...)})
		}
		p := Person{ID: get("id"), Name: get("name"), Country: get("country"), Role: get("role"),
			Skills: split(get("skills")), Languages: split(get("languages")), PayoutMethod: get("payout_method"),
			PayoutCurrency: get("payout_currency")}
		if p.PayoutMethod == "" {
			p.PayoutMethod = "bank-transfer"
		}
		token := get("token")
		if !idPattern.MatchString(p.ID) {
			fail("id", "must be lowercase letters, digits, '.', '_' or '-', got %q", p.ID)
		} else if first, dup := ids[p.ID]; dup {
			fail("id", "%q already on line %d", p.ID, first)
		} else {
			ids[p.ID] = line
		}
		if p.Name == "" {
			fail("name", "is required")
		}
		if !countryPattern.MatchString(p.Country) {
			fail("country", "must be an ISO 3166-1 alpha-2 code such as KE, got %q", p.Country)
		}
		if p.Role != "annotator" && p.Role != "reviewer" && p.Role != "finance" {
			fail("role", "must be annotator, reviewer or finance, got %q", p.Role)
		}
		if p.PayoutCurrency != "" && !currencyPattern.MatchString(p.PayoutCurrency) {
			fail("payout_currency", "must be an ISO 4217 code such as KES, got %q", p.PayoutCurrency)
		}
		if p.PayoutMethod != "bank-transfer" && p.PayoutMethod != "mobile-money" {
			fail("payout_method", "must be bank-transfer or mobile-money, got %q", p.PayoutMethod)
		}
		if len(token) < 16 {
			fail("token", "must be at least 16 characters")
		} else if first, dup := tokens[token]; dup {
			fail("token", "same token as line %d", first)
		} else {
			tokens[token] = line
		}
		p.TokenSHA256 = HashToken(token)
		people = append(people, p)
	}
	if len(bad) > 0 {
		return nil, &ImportError{Lines: bad}
	}
	return people, nil
}

func split(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ";") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// Roster reads and writes people in the platform store.
type Roster struct{ Store *store.Store }

func personKey(id string) string { return "workforce/people/" + id + ".json" }
func tokenKey(sha string) string { return "workforce/tokens/" + sha + ".json" }

// ErrUnknownToken is returned for a token nobody holds.
var ErrUnknownToken = errors.New("unknown token")

// Save stores people. A person's previous token stops working when a new one is given.
func (r Roster) Save(ctx context.Context, people []Person) error {
	for _, p := range people {
		var old Person
		if err := r.Store.GetJSON(ctx, personKey(p.ID), &old); err == nil && old.TokenSHA256 != p.TokenSHA256 {
			if err := r.Store.Delete(ctx, tokenKey(old.TokenSHA256)); err != nil {
				return err
			}
		}
		if err := r.Store.PutJSON(ctx, personKey(p.ID), p); err != nil {
			return err
		}
		if err := r.Store.PutJSON(ctx, tokenKey(p.TokenSHA256), map[string]string{"id": p.ID}); err != nil {
			return err
		}
	}
	return nil
}

// Get returns a person by id.
func (r Roster) Get(ctx context.Context, id string) (Person, error) {
	var p Person
	err := r.Store.GetJSON(ctx, personKey(id), &p)
	return p, err
}

// ByToken authenticates a bearer token.
func (r Roster) ByToken(ctx context.Context, token string) (Person, error) {
	var ref struct{ ID string }
	if err := r.Store.GetJSON(ctx, tokenKey(HashToken(token)), &ref); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return Person{}, ErrUnknownToken
		}
		return Person{}, err
	}
	p, err := r.Get(ctx, ref.ID)
	if err != nil {
		return Person{}, err
	}
	if p.TokenSHA256 != HashToken(token) {
		return Person{}, ErrUnknownToken
	}
	return p, nil
}
