package delivery

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/labelflow/labelflow/internal/pseudonym"
	"github.com/labelflow/labelflow/internal/quality"
)

func testNames(t *testing.T) *pseudonym.Namer {
	n, err := pseudonym.New("delivery-test-pseudonym-key-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A client's copy of the results names every person by their pseudonym for that client and
// keeps everything else of the line, byte for byte.
func TestClientResultsNameNoOne(t *testing.T) {
	names := testNames(t)
	recorded := []byte(`{"id":"x","source":"amina's review","label":"cat","label-metadata":{"method":"arbitrated","annotators":["amina","grace"],"reviewer":"kofi","answers":["cat","dog"],"confidence":0.9,"times":[]}}` + "\n")
	got, err := ClientResults(recorded, names, "acme")
	if err != nil {
		t.Fatal(err)
	}
	a, g, k := names.Of("acme", "amina"), names.Of("acme", "grace"), names.Of("acme", "kofi")
	want := `{"id":"x","source":"amina's review","label":"cat","label-metadata":{"method":"arbitrated","annotators":["` + a + `","` + g + `"],"reviewer":"` + k + `","answers":["cat","dog"],"confidence":0.9,"times":[]}}` + "\n"
	if string(got) != want {
		t.Fatalf("client copy\n got %s\nwant %s", got, want)
	}
	other, _ := ClientResults(recorded, names, "globex")
	if bytes.Contains(other, []byte(a)) {
		t.Fatal("two clients see the same pseudonym")
	}
	if _, err := ClientResults(recorded, nil, "acme"); !errors.Is(err, ErrNoPseudonyms) {
		t.Fatalf("delivered without a key: %v", err)
	}
	if _, err := ClientResults([]byte(`{"label-metadata":{"annotators":"amina"}}`), names, "acme"); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("bad line: %v", err)
	}
}

// The quality report a client receives names people by pseudonym; the platform's stays as it was.
func TestClientReportNamesNoOne(t *testing.T) {
	names := testNames(t)
	r := quality.Report{Project: "p", People: map[string]quality.AnnotatorStats{"amina": {Answers: 3}},
		Chunks: []quality.ChunkStats{{Chunk: 0, People: map[string]quality.AnnotatorStats{"grace": {Answers: 1}}}}}
	got, err := ClientReport(r, names, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if got.People[names.Of("acme", "amina")].Answers != 3 || len(got.People) != 1 || got.Chunks[0].People[names.Of("acme", "grace")].Answers != 1 {
		t.Fatalf("client report %+v", got)
	}
	if _, ok := r.People["amina"]; !ok || r.Chunks[0].People["grace"].Answers != 1 {
		t.Fatal("the platform's report was changed")
	}
}
