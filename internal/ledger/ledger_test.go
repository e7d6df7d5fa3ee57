package ledger

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/labelflow/labelflow/internal/devstack/devstacktest"
	"github.com/labelflow/labelflow/internal/layout"
)

// An entry belongs to the file it was read from only when its project, month, chunk and kind are
// the file's.
func TestMismatchNamesHowAnEntryStrays(t *testing.T) {
	chunk, _ := layout.ParseLedgerKey(layout.LedgerKey("2026-11", "p1", 7))
	bonus, _ := layout.ParseLedgerKey(layout.BonusKey("2026-11", "p1"))
	good := Entry{Project: "p1", Month: "2026-11", Chunk: 7, Role: Annotation}
	if why := Mismatch(chunk, good); why != "" {
		t.Fatalf("a good entry mismatches: %s", why)
	}
	if why := Mismatch(bonus, Entry{Project: "p1", Month: "2026-11", Role: Bonus}); why != "" {
		t.Fatalf("a good bonus mismatches: %s", why)
	}
	for _, c := range []struct {
		file layout.LedgerFile
		e    Entry
		want string
	}{
		{chunk, Entry{Project: "p2", Month: "2026-11", Chunk: 7, Role: Annotation}, `project "p2"`},
		{chunk, Entry{Project: "p1", Month: "2026-10", Chunk: 7, Role: Annotation}, `month "2026-10"`},
		{chunk, Entry{Project: "p1", Month: "2026-11", Chunk: 8, Role: Annotation}, "chunk 8 in the file of chunk 7"},
		{chunk, Entry{Project: "p1", Month: "2026-11", Chunk: 7, Role: Bonus}, "a bonus entry in a chunk file"},
		{bonus, Entry{Project: "p1", Month: "2026-11", Role: Annotation}, `a "annotation" entry in a bonus file`},
	} {
		if why := Mismatch(c.file, c.e); !strings.Contains(why, c.want) {
			t.Errorf("Mismatch(%+v) = %q, want %q", c.e, why, c.want)
		}
	}
}

func TestIDsNameTheWork(t *testing.T) {
	if id := EntryID("p1", 7, "i3", Arbitration, "rev"); id != "p1/000007/i3/arbitration/rev" {
		t.Fatalf("entry id = %s", id)
	}
	if id := BonusID("p1", "ann-a"); id != "p1/bonus/ann-a" {
		t.Fatalf("bonus id = %s", id)
	}
}

// Read gives back what Encode wrote, and names the file and line of an entry it cannot read.
func TestReadNamesTheLineItCannotRead(t *testing.T) {
	s := devstacktest.Start(t).Store
	ctx := context.Background()
	entries := []Entry{{ID: "a", Worker: "ann-a", Amount: 350}, {ID: "b", Worker: "ann-b", Amount: 350}}
	data, err := Encode(entries)
	if err != nil {
		t.Fatal(err)
	}
	key := layout.LedgerKey("2026-11", "p1", 0)
	if err := s.Put(ctx, key, data); err != nil {
		t.Fatal(err)
	}
	got, err := Read(ctx, s, key)
	if err != nil || len(got) != 2 || got[1] != entries[1] {
		t.Fatalf("read %+v, %v", got, err)
	}
	if err := s.Put(ctx, key, append(data, "not json\n"...)); err != nil {
		t.Fatal(err)
	}
	_, err = Read(ctx, s, key)
	var bad *LineError
	if !errors.As(err, &bad) || bad.Line != 3 || !strings.HasPrefix(err.Error(), key+" line 3: ") {
		t.Fatalf("a bad line gave %v", err)
	}
}
