package quality

import (
	"context"
	"testing"
	"time"

	"github.com/labelflow/labelflow/internal/devstack/devstacktest"
	"github.com/labelflow/labelflow/internal/layout"
)

// The score cache serves a person's summed records for its TTL, then reads them again; without
// a TTL it always reads.
func TestScoreCacheKeepsRecordsForItsTTL(t *testing.T) {
	env := devstacktest.Start(t)
	ctx := context.Background()
	put := func(project string, answers, accepted int) {
		if err := env.Store.PutJSON(ctx, layout.ScoreKey("single-label", "ann-a", project), ScoreRecord{Answers: answers, Accepted: accepted}); err != nil {
			t.Fatal(err)
		}
	}
	put("p1", 6, 6)
	cached, fresh := &ScoreCache{TTL: time.Hour}, &ScoreCache{}
	first, n, err := cached.EstimatedAccuracy(ctx, env.Store, "single-label", "ann-a", "p9")
	if err != nil || n != 6 || Round4(first) != 0.92 { // (3.2 + 6) / 10
		t.Fatalf("first estimate = %v from %d answers, %v", first, n, err)
	}
	put("p2", 10, 0)
	if again, n, _ := cached.EstimatedAccuracy(ctx, env.Store, "single-label", "ann-a", "p9"); again != first || n != 6 {
		t.Fatalf("within the TTL the estimate changed to %v (%d answers)", again, n)
	}
	if now, n, _ := fresh.EstimatedAccuracy(ctx, env.Store, "single-label", "ann-a", "p9"); n != 16 || Round4(now) != 0.46 { // (3.2 + 6) / 20
		t.Fatalf("uncached estimate = %v from %d answers", now, n)
	}
	cached.TTL = time.Nanosecond
	if later, n, _ := cached.EstimatedAccuracy(ctx, env.Store, "single-label", "ann-a", "p9"); n != 16 || later == first {
		t.Fatalf("after the TTL the estimate is still %v (%d answers)", later, n)
	}
}

// A record counts gold answers and a reviewer's gold arbitrations, with the known answer as judge.
func TestRecordOfCountsJudgedAnswers(t *testing.T) {
	rec := RecordOf(AnnotatorStats{Answers: 10, Accepted: 8, GoldAnswers: 4, GoldCorrect: 3, GoldArbitrations: 2, GoldArbitrationsCorrect: 1, Arbitrated: 50})
	if rec != (ScoreRecord{Answers: 16, Accepted: 12}) {
		t.Fatalf("record = %+v", rec)
	}
}
