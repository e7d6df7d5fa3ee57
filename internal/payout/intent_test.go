package payout

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/labelflow/labelflow/internal/devstack/devstacktest"
)

// One intent per batch file, however many payouts it holds; after a crash between the intent and
// the batch, the same payouts rebuild the very same batch, and a key is never in two batches.
func TestFileProviderWritesOneIntentPerBatchAndRebuildsAnUnwrittenBatch(t *testing.T) {
	env := devstacktest.Start(t)
	ctx := context.Background()
	p := &FileProvider{Store: env.Store, Details: InventedDetails{}}
	var payouts []Payout
	for i := 0; i < 40; i++ {
		w := fmt.Sprintf("w%02d", i)
		payouts = append(payouts, Payout{IdempotencyKey: "2026-09/" + w + "/KES/after-0", Worker: w, Month: "2026-09", Currency: "KES", Amount: int64(100 + i), Method: "mobile-money"})
	}
	first, err := p.Pay(ctx, "2026-09", payouts)
	if err != nil || len(first) != 40 {
		t.Fatalf("first = %d outcomes, %v", len(first), err)
	}
	batch := first[0].BatchKey
	if n := countKeys(ctx, t, env, "payouts/"); n != 1 {
		t.Fatalf("%d intent and marker objects for one batch of 40, want 1", n)
	}
	// A crash after the intent, before the batch: the batch is not there.
	if err := env.Store.Delete(ctx, batch); err != nil {
		t.Fatal(err)
	}
	again, err := p.Pay(ctx, "2026-09", payouts)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range again {
		if o.AlreadyPaid || o.BatchKey != batch {
			t.Fatalf("outcome %+v: the unwritten batch %s must be written now", o, batch)
		}
	}
	third, err := p.Pay(ctx, "2026-09", payouts)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range third {
		if !o.AlreadyPaid || o.BatchKey != batch {
			t.Fatalf("paid twice: %+v", o)
		}
	}
	if n := countKeys(ctx, t, env, "finance/payouts/2026-09/"); n != 1 {
		t.Fatalf("%d batch files, want 1", n)
	}
}

func countKeys(ctx context.Context, t *testing.T, env *devstacktest.Env, prefix string) int {
	t.Helper()
	n := 0
	if err := env.Store.List(ctx, prefix, func(key string, _ int64) error {
		if !strings.HasSuffix(key, "/") {
			n++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}
