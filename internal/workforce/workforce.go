// Package workforce keeps the roster of annotators, reviewers, finance and ops people. People
// sign in to the gateway with a bearer token that LabelFlow issues (see NewToken); only its
// HMAC-SHA256 under a server-side key is stored.
package workforce

import (
	"context"
	"crypto/subtle"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/linecheck"
	"github.com/labelflow/labelflow/internal/payoutdetails"
	"github.com/labelflow/labelflow/internal/role"
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
	// TokenHash is the person's token as Roster.TokenHash stores it; empty when they have no
	// token and cannot sign in.
	TokenHash string `json:"token_hash"`
	// Simulated marks a person the crowd simulator made up. They are in the roster only while a
	// simulation runs, and payroll pays them only on the embedded stack.
	Simulated bool `json:"simulated,omitempty"`
	// Inactive marks a person ops deactivated: they cannot sign in, whatever token they hold, but
	// stay in the roster so that the work they did is still paid. Issuing them a token
	// re-activates them; a roster import does not.
	Inactive bool `json:"inactive,omitempty"`
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

// Roles a person may have: annotators and reviewers do the work, finance pays it, ops launch
// projects.
var Roles = role.All

// Columns of a roster CSV, in any order; the header row names them. A token column is for moving
// tokens LabelFlow issued elsewhere; people normally get theirs with IssueToken. The payout detail
// columns (payoutdetails.Columns) give where a person is paid; they are kept apart from the
// roster, encrypted.
var (
	requiredColumns = []string{"id", "name", "country", "role"}
	optionalColumns = append([]string{"token", "skills", "languages", "payout_method", "payout_currency"}, payoutdetails.Columns...)
)

var (
	idPattern       = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	countryPattern  = regexp.MustCompile(`^[A-Z]{2}$`)
	currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
)

// storableID is what Get looks up: roster ids and the simulator's longer ones, never a path.
var storableID = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,127}$`)

// LineError is a bad roster line; ImportError lists them all.
type (
	LineError   = linecheck.LineError
	ImportError = linecheck.ImportError
)

// Entry is one line of a roster file: the person, and the token the line gives them (empty: they
// keep the token they have, if any), and their payout details when the line gives them (nil: they
// keep the details they have, if any).
type Entry struct {
	Person        Person
	Token         string
	PayoutDetails *payoutdetails.Details
	File          string
	Line          int
}

// ParseCSV reads a roster. Skills and languages are separated by ';'.
func ParseCSV(file string, r io.Reader) ([]Entry, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	col, err := readHeader(file, cr)
	if err != nil {
		return nil, err
	}
	rl := rosterLines{file: file, col: col, ids: map[string]int{}, tokens: map[string]int{}}
	var entries []Entry
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			// A malformed record has no fields to ask FieldPos about (it panics): its line is in
			// the parse error. Any other error is the reader's, and reading on would repeat it.
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return nil, fmt.Errorf("%s: %w", file, err)
			}
			rl.bad = append(rl.bad, LineError{File: file, Line: pe.StartLine, Field: "(line)", Msg: err.Error()})
			continue
		}
		line, _ := cr.FieldPos(0)
		entries = append(entries, rl.entry(line, rec))
	}
	if len(rl.bad) > 0 {
		return nil, &ImportError{What: "roster", Lines: rl.bad}
	}
	return entries, nil
}

// columns maps a roster's column names to their positions.
type columns map[string]int

// value is the trimmed field of column name in rec; "" when the file has no such column or the
// record is short.
func (c columns) value(rec []string, name string) string {
	if i, ok := c[name]; ok && i < len(rec) {
		return strings.TrimSpace(rec[i])
	}
	return ""
}

// readHeader reads the header row: known columns only, each once, the required ones all there.
func readHeader(file string, cr *csv.Reader) (columns, error) {
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s:1: header: %w", file, err)
	}
	col := columns{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		if !slices.Contains(requiredColumns, h) && !slices.Contains(optionalColumns, h) {
			return nil, fmt.Errorf("%s:1: header: unknown column %q (columns: %s)", file, h, strings.Join(slices.Concat(requiredColumns, optionalColumns), ","))
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
	return col, nil
}

// rosterLines checks the lines of one roster file, remembering the line each id and token first
// appeared on so that a second use names the first.
type rosterLines struct {
	file        string
	col         columns
	ids, tokens map[string]int
	bad         []LineError
}

func (rl *rosterLines) fail(line int, field, format string, args ...any) {
	rl.bad = append(rl.bad, LineError{File: rl.file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// entry reads record rec, on line line, noting its problems.
func (rl *rosterLines) entry(line int, rec []string) Entry {
	get := func(c string) string { return rl.col.value(rec, c) }
	p := Person{ID: get("id"), Name: get("name"), Country: get("country"), Role: get("role"),
		Skills: split(get("skills")), Languages: split(get("languages")), PayoutMethod: get("payout_method"),
		PayoutCurrency: get("payout_currency")}
	details := rl.payoutDetails(line, &p, get)
	if p.PayoutMethod == "" {
		p.PayoutMethod = "bank-transfer"
	}
	token := get("token")
	rl.checkPerson(line, p)
	rl.checkToken(line, token)
	return Entry{Person: p, Token: token, PayoutDetails: details, File: rl.file, Line: line}
}

// payoutDetails reads the payout details a line gives, if any, noting their problems. Details
// decide the payout method a line leaves empty, and must agree with the one it names.
func (rl *rosterLines) payoutDetails(line int, p *Person, get func(string) string) *payoutdetails.Details {
	d, ok := payoutdetails.FromColumns(p.ID, get)
	if !ok {
		return nil
	}
	for _, fe := range d.Check() {
		rl.fail(line, fe.Field, "%s", fe.Msg)
	}
	switch {
	case p.PayoutMethod == "":
		p.PayoutMethod = d.Method()
	case p.PayoutMethod != d.Method() && (p.PayoutMethod == payoutdetails.BankTransfer || p.PayoutMethod == payoutdetails.MobileMoney):
		rl.fail(line, "payout_method", "is %s, but the line gives %s details", p.PayoutMethod, d.Method())
	}
	return &d
}

func (rl *rosterLines) checkPerson(line int, p Person) {
	if !idPattern.MatchString(p.ID) {
		rl.fail(line, "id", "must be lowercase letters, digits, '.', '_' or '-', got %q", p.ID)
	} else if first, dup := rl.ids[p.ID]; dup {
		rl.fail(line, "id", "%q already on line %d", p.ID, first)
	} else {
		rl.ids[p.ID] = line
	}
	if p.Name == "" {
		rl.fail(line, "name", "is required")
	}
	if !countryPattern.MatchString(p.Country) {
		rl.fail(line, "country", "must be an ISO 3166-1 alpha-2 code such as KE, got %q", p.Country)
	}
	if !slices.Contains(Roles, p.Role) {
		rl.fail(line, "role", "must be one of %s, got %q", strings.Join(Roles, ", "), p.Role)
	}
	if p.PayoutCurrency != "" && !currencyPattern.MatchString(p.PayoutCurrency) {
		rl.fail(line, "payout_currency", "must be an ISO 4217 code such as KES, got %q", p.PayoutCurrency)
	}
	if p.PayoutMethod != "bank-transfer" && p.PayoutMethod != "mobile-money" {
		rl.fail(line, "payout_method", "must be bank-transfer or mobile-money, got %q", p.PayoutMethod)
	}
}

// checkToken checks a token the line moves in; no token is fine (the person keeps theirs).
func (rl *rosterLines) checkToken(line int, token string) {
	if token == "" {
		return
	}
	if err := CheckToken(token); err != nil {
		rl.fail(line, "token", "%v", err)
	} else if first, dup := rl.tokens[token]; dup {
		rl.fail(line, "token", "same token as line %d", first)
	} else {
		rl.tokens[token] = line
	}
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

// Roster reads and writes people in the platform store. Pepper is the server-side key of token
// hashes (LABELFLOW_TOKEN_PEPPER): reading people needs none; signing in and giving tokens do.
// Details keeps the payout details a roster file gives: importing one that does needs it.
type Roster struct {
	Store   *store.Store
	Pepper  []byte
	Details payoutdetails.Vault
}

func personKey(id string) string  { return layout.PersonKey(id) }
func tokenKey(hash string) string { return layout.TokenKey(hash) }

// tokenRecord names the holder of a token hash, so that a sign-in costs two reads: the record,
// then the person.
type tokenRecord struct {
	ID string `json:"id"`
}

// ErrUnknownToken is returned for a token nobody holds.
var ErrUnknownToken = errors.New("unknown token")

// TokenHeldError refuses to give a person a token that another person holds: whoever knows it
// would act as both.
type TokenHeldError struct{ Person, Holder string }

func (e *TokenHeldError) Error() string {
	return fmt.Sprintf("%s: the token is already held by %s; nothing was saved", e.Person, e.Holder)
}

// Save stores people as given. Every person is checked before any is written: a token hash that
// another person holds refuses the whole call with a *TokenHeldError. A person's previous token
// stops working when they are given another one, or none.
func (r Roster) Save(ctx context.Context, people []Person) error {
	for _, p := range people {
		if !storableID.MatchString(p.ID) {
			return fmt.Errorf("%q is not a roster id; nothing was saved", p.ID)
		}
	}
	held, err := r.heldTokens(ctx, people)
	if err != nil {
		return err
	}
	var errs []error
	for i, p := range people {
		if holder, ok := held[i]; ok {
			errs = append(errs, &TokenHeldError{Person: p.ID, Holder: holder})
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return r.putAll(ctx, people)
}

// Import saves the people of a roster file. A line with a token gives it to the person (their old
// one stops working); a line without keeps the token they have. A person ops deactivated stays
// inactive: a roster file says who people are, not who may sign in, and re-activating someone
// takes issuing them a token. Every line is checked before anything is written: a token another
// person holds fails the import, naming its line.
func (r Roster) Import(ctx context.Context, entries []Entry) ([]Person, error) {
	people := make([]Person, len(entries))
	for i, e := range entries {
		people[i] = e.Person
		if e.Token != "" && len(r.Pepper) == 0 {
			return nil, ErrNoPepper
		}
		if e.PayoutDetails != nil {
			if err := r.Details.Ready(); err != nil {
				return nil, fmt.Errorf("%s:%d: the roster gives payout details: %w; nothing was imported", e.File, e.Line, err)
			}
		}
	}
	if err := store.Parallel(len(entries), 16, func(i int) error {
		old, err := r.Get(ctx, people[i].ID)
		if errors.Is(err, store.ErrNotFound) {
			old, err = Person{}, nil
		}
		people[i].Inactive = old.Inactive
		people[i].TokenHash = old.TokenHash
		if t := entries[i].Token; t != "" {
			people[i].TokenHash = r.TokenHash(t)
		}
		return err
	}); err != nil {
		return nil, err
	}
	held, err := r.heldTokens(ctx, people)
	if err != nil {
		return nil, err
	}
	ie := &ImportError{What: "roster"}
	for i, e := range entries {
		if holder, ok := held[i]; ok {
			ie.Lines = append(ie.Lines, LineError{File: e.File, Line: e.Line, Field: "token", Msg: "already held by " + holder + "; a token belongs to one person"})
		}
	}
	if len(ie.Lines) > 0 {
		return nil, ie
	}
	// Details first: details of someone not yet in the roster are harmless, a person paid by a
	// method without their details is held at payout.
	if err := r.saveDetails(ctx, entries); err != nil {
		return nil, err
	}
	return people, r.putAll(ctx, people)
}

// saveDetails keeps the payout details the entries give, sealed.
func (r Roster) saveDetails(ctx context.Context, entries []Entry) error {
	var details []payoutdetails.Details
	for _, e := range entries {
		if e.PayoutDetails != nil {
			details = append(details, *e.PayoutDetails)
		}
	}
	if len(details) == 0 {
		return nil
	}
	return r.Details.Save(ctx, details)
}

// heldTokens returns, by index in people, who else holds each person's token hash: someone in the
// store, or someone earlier in people.
func (r Roster) heldTokens(ctx context.Context, people []Person) (map[int]string, error) {
	holders := make([]string, len(people))
	if err := store.Parallel(len(people), 16, func(i int) error {
		var err error
		if people[i].TokenHash != "" {
			holders[i], err = r.tokenHolder(ctx, people[i].TokenHash)
		}
		return err
	}); err != nil {
		return nil, err
	}
	held := map[int]string{}
	inBatch := map[string]string{}
	for i, p := range people {
		if p.TokenHash == "" {
			continue
		}
		if other, ok := inBatch[p.TokenHash]; ok && other != p.ID {
			held[i] = other
			continue
		}
		inBatch[p.TokenHash] = p.ID
		if holders[i] != "" && holders[i] != p.ID {
			held[i] = holders[i]
		}
	}
	return held, nil
}

// tokenHolder is the id a token record names, or "" when there is none.
func (r Roster) tokenHolder(ctx context.Context, hash string) (string, error) {
	var ref tokenRecord
	err := r.Store.GetJSON(ctx, tokenKey(hash), &ref)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	return ref.ID, err
}

// putAll writes people one by one, then names them in the roster index (see Everyone).
func (r Roster) putAll(ctx context.Context, people []Person) error {
	written := make([]indexEntry, 0, len(people))
	for _, p := range people {
		etag, err := r.put(ctx, p)
		if err != nil {
			return err
		}
		written = append(written, indexEntry{ID: p.ID, ETag: etag, Person: p})
	}
	_, err := r.writeIndex(ctx, written)
	return err
}

// put writes one person: their token record first, then the person, then it removes their old
// token record. ByToken also checks the person's own hash, so a token works only once the person
// names it, and an old one stops as soon as they no longer do. It returns the ETag the store gave
// the person's record.
func (r Roster) put(ctx context.Context, p Person) (string, error) {
	var old Person
	if err := r.Store.GetJSON(ctx, personKey(p.ID), &old); err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	if p.TokenHash != "" {
		if err := r.Store.PutJSON(ctx, tokenKey(p.TokenHash), tokenRecord{ID: p.ID}); err != nil {
			return "", err
		}
	}
	etag, err := r.putRecord(ctx, p)
	if err != nil {
		return "", err
	}
	if old.TokenHash != "" && old.TokenHash != p.TokenHash {
		return etag, r.Store.Delete(ctx, tokenKey(old.TokenHash))
	}
	return etag, nil
}

// Remove takes a person out of the roster, token and all. Their ledger stays; payroll does not
// pay people who are not in the roster.
func (r Roster) Remove(ctx context.Context, id string) error {
	p, err := r.Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if p.TokenHash != "" {
		if err := r.Store.Delete(ctx, tokenKey(p.TokenHash)); err != nil {
			return err
		}
	}
	return r.Store.Delete(ctx, personKey(id))
}

// Get returns a person by id. An id no roster line could have (such as one that names a path)
// is nobody's, and is not looked up.
func (r Roster) Get(ctx context.Context, id string) (Person, error) {
	var p Person
	if !storableID.MatchString(id) {
		return p, fmt.Errorf("%w: %q is not a roster id", store.ErrNotFound, id)
	}
	err := r.Store.GetJSON(ctx, personKey(id), &p)
	return p, err
}

// peoplePrefix holds every person of the roster (layout.PersonKey).
var peoplePrefix = strings.TrimSuffix(layout.PersonKey(""), ".json")

// listWidth is how many people List reads side by side.
const listWidth = 16

// List returns every person of the roster, by id. It reads one object per person: ops list the
// roster now and then, nothing lists it per request of the work.
func (r Roster) List(ctx context.Context) ([]Person, error) {
	var keys []string
	err := r.Store.List(ctx, peoplePrefix, func(key string, _ int64) error {
		if strings.HasSuffix(key, ".json") {
			keys = append(keys, key)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	people := make([]Person, len(keys))
	gone := make([]bool, len(keys))
	err = store.Parallel(len(keys), listWidth, func(i int) error {
		err := r.Store.GetJSON(ctx, keys[i], &people[i])
		if errors.Is(err, store.ErrNotFound) {
			gone[i], err = true, nil // removed since it was listed
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]Person, 0, len(people))
	for i, p := range people {
		if !gone[i] {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b Person) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// ByToken authenticates a bearer token in two reads: the token record, then the person, whose own
// hash must still be the token's and who must be active. A string that is not shaped like an
// issued token costs no read.
func (r Roster) ByToken(ctx context.Context, token string) (Person, error) {
	if tokenShape(token) != nil {
		return Person{}, ErrUnknownToken
	}
	if len(r.Pepper) == 0 {
		return Person{}, ErrNoPepper
	}
	hash := r.TokenHash(token)
	id, err := r.tokenHolder(ctx, hash)
	if err != nil {
		return Person{}, err
	}
	if id == "" {
		return Person{}, ErrUnknownToken
	}
	p, err := r.Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Person{}, ErrUnknownToken
	} else if err != nil {
		return Person{}, err
	}
	if subtle.ConstantTimeCompare([]byte(p.TokenHash), []byte(hash)) != 1 || p.Inactive {
		return Person{}, ErrUnknownToken
	}
	return p, nil
}
