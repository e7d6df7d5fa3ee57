package workflows

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"

	"go.temporal.io/sdk/converter"
)

// jsonKeys returns the top-level keys of v as the Temporal data converter writes it.
func jsonKeys(t *testing.T, v any) map[string]any {
	t.Helper()
	p, err := converter.GetDefaultDataConverter().ToPayload(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(p.Data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func sameKeys(t *testing.T, what string, got map[string]any, want []string) {
	t.Helper()
	keys := slices.Sorted(maps.Keys(got))
	slices.Sort(want)
	if !slices.Equal(keys, want) {
		t.Fatalf("%s keys = %v, want %v", what, keys, want)
	}
}

// Summaries are signal payloads in histories and totals travel in project state and status:
// both keep the JSON they had when each carried Arbitrations beside Arbitrated.
func TestChunkSummaryAndTotalsKeepTheirJSON(t *testing.T) {
	counts := ChunkCounts{Items: 10, Annotations: 21, Agreed: 7, Arbitrated: 2, Overlap: 1, LeasesExpired: 3, Delivered: 10}
	sum := jsonKeys(t, ChunkSummary{Chunk: 4, ChunkCounts: counts, DeliveredKey: "k"})
	sameKeys(t, "summary", sum, []string{"Chunk", "Items", "Annotations", "Arbitrations", "Agreed", "Arbitrated",
		"Overlap", "LeasesExpired", "Delivered", "DeliveredKey", "Webhook"})
	if sum["Arbitrations"] != 2.0 || sum["Arbitrated"] != 2.0 || sum["Items"] != 10.0 {
		t.Fatalf("summary = %v", sum)
	}

	totals := jsonKeys(t, ChunkTotals{Chunks: 2, ChunkCounts: counts})
	sameKeys(t, "totals", totals, []string{"Chunks", "Items", "Annotations", "Arbitrations", "Agreed", "Arbitrated",
		"Overlap", "LeasesExpired", "Delivered", "Webhooks"})
	if totals["Arbitrations"] != 2.0 || totals["Chunks"] != 2.0 {
		t.Fatalf("totals = %v", totals)
	}

	// Through the structs that carry them: project state (continue-as-new) and status (query).
	state := jsonKeys(t, ProjectState{Done: ChunkTotals{ChunkCounts: counts}})
	status := jsonKeys(t, ProjectStatus{Done: ChunkTotals{ChunkCounts: counts}})
	for what, done := range map[string]any{"state": state["Done"], "status": status["done"]} {
		if m, ok := done.(map[string]any); !ok || m["Arbitrations"] != 2.0 || m["Arbitrated"] != 2.0 {
			t.Fatalf("%s done = %v", what, done)
		}
	}
}

// A summary or state written before the counts were shared still reads whole.
func TestEarlierSummaryAndStateDecode(t *testing.T) {
	dc := converter.GetDefaultDataConverter()
	old := `{"Chunk":4,"Items":10,"Annotations":21,"Arbitrations":2,"Agreed":7,"Arbitrated":2,"Overlap":1,` +
		`"LeasesExpired":3,"Delivered":10,"DeliveredKey":"k","Webhook":{"Sent":true}}`
	p, err := dc.ToPayload(json.RawMessage(old))
	if err != nil {
		t.Fatal(err)
	}
	var sum ChunkSummary
	if err := dc.FromPayload(p, &sum); err != nil {
		t.Fatal(err)
	}
	want := ChunkCounts{Items: 10, Annotations: 21, Agreed: 7, Arbitrated: 2, Overlap: 1, LeasesExpired: 3, Delivered: 10}
	if sum.Chunk != 4 || sum.ChunkCounts != want || sum.DeliveredKey != "k" || !sum.Webhook.Sent {
		t.Fatalf("summary = %+v", sum)
	}

	oldState := `{"Stage":"annotating","NextChunk":3,"Running":[2],"Done":{"Chunks":2,"Items":10,"Annotations":21,` +
		`"Arbitrations":2,"Agreed":7,"Arbitrated":2,"Overlap":1,"LeasesExpired":3,"Delivered":10,"Webhooks":{"sent":2,"failed":0}}}`
	if p, err = dc.ToPayload(json.RawMessage(oldState)); err != nil {
		t.Fatal(err)
	}
	var st ProjectState
	if err := dc.FromPayload(p, &st); err != nil {
		t.Fatal(err)
	}
	if st.Done.Chunks != 2 || st.Done.ChunkCounts != want || st.Done.Webhooks.Sent != 2 || st.NextChunk != 3 {
		t.Fatalf("state = %+v", st)
	}
}

func TestTotalsAddSummaries(t *testing.T) {
	var tot ChunkTotals
	tot.add(ChunkSummary{Chunk: 1, ChunkCounts: ChunkCounts{Items: 5, Annotations: 10, Agreed: 4, Arbitrated: 1, Delivered: 5}})
	tot.add(ChunkSummary{Chunk: 2, ChunkCounts: ChunkCounts{Items: 3, Annotations: 7, Agreed: 2, Overlap: 1, LeasesExpired: 2, Delivered: 3}})
	want := ChunkCounts{Items: 8, Annotations: 17, Agreed: 6, Arbitrated: 1, Overlap: 1, LeasesExpired: 2, Delivered: 8}
	if tot.Chunks != 2 || tot.ChunkCounts != want {
		t.Fatalf("totals = %+v", tot)
	}
}
