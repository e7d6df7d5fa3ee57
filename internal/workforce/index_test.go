package workforce

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/labelflow/labelflow/internal/layout"
)

func TestIndexIsOutsideThePeople(t *testing.T) {
	if strings.HasPrefix(indexPrefix, peoplePrefix) {
		t.Fatalf("index %q lies among the people %q: List would read it as a person", indexPrefix, peoplePrefix)
	}
}

// indexObjects lists the keys of the roster index.
func indexObjects(t *testing.T, ctx context.Context, r Roster) []string {
	t.Helper()
	var keys []string
	if err := r.Store.List(ctx, indexPrefix, func(key string, _ int64) error {
		keys = append(keys, key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return keys
}

// everyone fails t unless Everyone answers.
func everyone(t *testing.T, ctx context.Context, r Roster) map[string]Person {
	t.Helper()
	all, err := r.Everyone(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// Everyone answers what the records say now, whatever the index holds: people written past the
// roster, changed, removed or planted under a stale entry.
func TestEveryoneFollowsTheRecordsAgainstARealStore(t *testing.T) {
	r, ctx := rosterEnv(t)
	const people = "id,name,country,role,payout_currency\namina,Amina W.,KE,annotator,USD\ngrace,Grace O.,NG,annotator,\nbrian,Brian K.,UG,reviewer,\n"
	if _, err := importCSV(ctx, r, people); err != nil {
		t.Fatal(err)
	}
	if _, err := r.IssueToken(ctx, "amina"); err != nil {
		t.Fatal(err)
	}
	// Writing people names them in the index with their records' ETags as a listing gives them.
	index, _, err := r.readIndex(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for id, etag := range listedETags(t, ctx, r) {
		if _, ok := index[[2]string{id, etag}]; !ok {
			t.Errorf("the index lacks %s as their record is (ETag %s): %v", id, etag, index)
		}
	}
	all := everyone(t, ctx, r)
	if len(all) != 3 || all["amina"].PayoutCurrency != "USD" || all["grace"].Country != "NG" || all["brian"].Role != "reviewer" {
		t.Fatalf("Everyone = %+v, want the three imported", all)
	}
	if all["amina"].TokenHash != "" {
		t.Fatalf("Everyone gives amina's token hash %q: it is for paying people, not signing them in", all["amina"].TokenHash)
	}
	if keys := indexObjects(t, ctx, r); len(keys) != 1 {
		t.Fatalf("index = %v, want the objects of the import and the token folded into one", keys)
	}

	// Written past the roster: a changed record, a new one, a removed one.
	changed := all["grace"]
	changed.PayoutCurrency = "GHS"
	if err := r.Store.PutJSON(ctx, layout.PersonKey("grace"), changed); err != nil {
		t.Fatal(err)
	}
	if err := r.Store.PutJSON(ctx, layout.PersonKey("chen"), Person{ID: "chen", Name: "Chen", Country: "KE", Role: "annotator"}); err != nil {
		t.Fatal(err)
	}
	if err := r.Store.Delete(ctx, layout.PersonKey("brian")); err != nil {
		t.Fatal(err)
	}
	all = everyone(t, ctx, r)
	if _, ok := all["brian"]; ok || len(all) != 3 || all["grace"].PayoutCurrency != "GHS" || all["chen"].Name != "Chen" {
		t.Fatalf("Everyone = %+v, want amina, grace paid in GHS and chen, without brian", all)
	}
	// Changed back to bytes an earlier index entry had: that entry is gone with its ETag.
	changed.PayoutCurrency = ""
	if err := r.Store.PutJSON(ctx, layout.PersonKey("grace"), changed); err != nil {
		t.Fatal(err)
	}
	if got := everyone(t, ctx, r)["grace"].PayoutCurrency; got != "" {
		t.Fatalf("grace is paid in %q, want her country's currency again", got)
	}

	// An entry whose ETag is not the record's is not believed; one whose ETag is, is used as is.
	etags := listedETags(t, ctx, r)
	planted, _ := json.Marshal(indexObject{People: []indexEntry{
		{ID: "amina", ETag: "not-" + etags["amina"], Person: Person{ID: "amina", Country: "KE", PayoutCurrency: "EUR"}},
		{ID: "chen", ETag: etags["chen"], Person: Person{ID: "chen", Name: "Chen, from the index", Country: "KE", Role: "annotator"}},
	}})
	if err := r.Store.Put(ctx, indexPrefix+"planted.json", planted); err != nil {
		t.Fatal(err)
	}
	all = everyone(t, ctx, r)
	if all["amina"].PayoutCurrency != "USD" || all["chen"].Name != "Chen, from the index" {
		t.Fatalf("Everyone = %+v, want amina from her record and chen from the index", all)
	}
}

// listedETags are the ETags of the people's records, by id.
func listedETags(t *testing.T, ctx context.Context, r Roster) map[string]string {
	t.Helper()
	etags, err := r.listRecords(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return etags
}
