// Package ledger owns the record of payable work: one entry per annotation, arbitration, gold
// answer and quality bonus, in files under ledger/<month>/<project>/ (internal/layout). Payroll
// pays only what is here, and only from files of the exact form the ledger writes, read back
// through Read and checked with Mismatch.
package ledger

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/store"
)

// Entry is one payable piece of work. Its ID is unique per (project, chunk, item, role, worker):
// the same work can only ever produce the same entry.
type Entry struct {
	ID         string    `json:"id"`
	Worker     string    `json:"worker"`
	Project    string    `json:"project"`
	Chunk      int       `json:"chunk"`
	Item       string    `json:"item"`
	Role       string    `json:"role"` // annotation | arbitration | gold | bonus
	Amount     int64     `json:"amount"`
	Currency   string    `json:"currency"`
	Month      string    `json:"month"`
	AcceptedAt time.Time `json:"accepted_at"`
	Seconds    int       `json:"seconds"`
}

// Roles of ledger entries: the kind of work an entry pays.
const (
	Annotation  = "annotation"
	Arbitration = "arbitration"
	Gold        = "gold"
	Bonus       = "bonus"
)

// EntryID is the id of the entry for one person's work in one role on one item of a chunk.
func EntryID(project string, chunk int, item, role, worker string) string {
	return fmt.Sprintf("%s/%06d/%s/%s/%s", project, chunk, item, role, worker)
}

// BonusID is the id of a person's quality bonus on a project: one per project.
func BonusID(project, worker string) string { return fmt.Sprintf("%s/bonus/%s", project, worker) }

// Encode renders entries as a ledger file: one JSON line per entry, in the order given.
func Encode(entries []Entry) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, e := range entries {
		if err := enc.Encode(e); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

// LineError is an entry that cannot be read: the file and line name it. Retrying does not fix it.
type LineError struct {
	Key  string
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("%s line %d: %v", e.Key, e.Line, e.Err) }

func (e *LineError) Unwrap() error { return e.Err }

// Read reads the entries of a ledger file (or of a file of entries set aside under a rejection,
// which has the same form). A file holds one chunk's entries: it fits in memory. An entry that is
// not JSON is a *LineError.
func Read(ctx context.Context, s *store.Store, key string) ([]Entry, error) {
	r, err := s.OpenIn(ctx, s.Bucket, key)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var entries []Entry
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		var e Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, &LineError{Key: key, Line: n, Err: err}
		}
		entries = append(entries, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	return entries, nil
}

// NotLedgerFile is why payroll ignores an object under ledger/ that layout.ParseLedgerKey refuses.
const NotLedgerFile = "not a ledger file LabelFlow writes (ledger/<YYYY-MM>/<project>/chunk-NNNNNN.jsonl or bonus.jsonl)"

// Mismatch says how an entry differs from the file it was read from; "" when it belongs there.
// An entry that does not belong to its file was not written there by the ledger, and is not paid.
func Mismatch(f layout.LedgerFile, e Entry) string {
	switch {
	case e.Project != f.Project:
		return fmt.Sprintf("an entry of project %q in a file of project %s", e.Project, f.Project)
	case e.Month != f.Month:
		return fmt.Sprintf("an entry of month %q in a file of %s", e.Month, f.Month)
	case f.Bonus && e.Role != Bonus:
		return fmt.Sprintf("a %q entry in a bonus file", e.Role)
	case !f.Bonus && e.Role == Bonus:
		return "a bonus entry in a chunk file"
	case !f.Bonus && e.Chunk != f.Chunk:
		return fmt.Sprintf("an entry of chunk %d in the file of chunk %d", e.Chunk, f.Chunk)
	}
	return ""
}
