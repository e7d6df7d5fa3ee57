package activities

import (
	"context"
	"testing"
	"time"
)

// A re-delivery copies a run of chunks in one activity: each chunk gets the receipt DeliverChunk
// would write, with the original delivery's counts, and the manifest is built from them.
func TestDeliverChunksRedeliversARunOfChunks(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)
	var originals []DeliveryReceipt
	for c := 0; c < 2; c++ {
		res := settled(at)
		if c == 1 {
			res = res[:1] // the second chunk holds one item
		}
		if _, err := f.acts.RecordChunk(ctx, RecordChunkInput{ProjectID: "p1", Chunk: c, Results: res}); err != nil {
			t.Fatal(err)
		}
		r, err := f.acts.DeliverChunk(ctx, DeliverChunkInput{ProjectID: "p1", Chunk: c, Agreed: 1 + c, Arbitrated: 1})
		if err != nil {
			t.Fatal(err)
		}
		originals = append(originals, r)
	}
	re := Redelivery{ID: "again"}
	res, err := f.acts.DeliverChunks(ctx, DeliverChunksInput{ProjectID: "p1", First: 0, Count: 2, Redelivery: re})
	if err != nil || res.Chunks != 2 || res.Items != originals[0].Items+originals[1].Items || res.Items != 3 {
		t.Fatalf("DeliverChunks = %+v, %v", res, err)
	}
	for c, o := range originals {
		var r DeliveryReceipt
		if err := f.env.Store.GetJSON(ctx, re.ReceiptKey("p1", c), &r); err != nil {
			t.Fatal(err)
		}
		if r.Key != o.Key || r.SHA256 != o.SHA256 || r.Items != o.Items || r.Agreed != 1+c || r.Arbitrated != 1 {
			t.Errorf("chunk %d: re-delivery receipt %+v, original %+v", c, r, o)
		}
	}
	m, err := f.acts.WriteDeliveryManifest(ctx, DeliveryManifestInput{ProjectID: "p1", Chunks: 2, CompletedAt: at, Redelivery: re})
	if err != nil || m.Items != res.Items {
		t.Fatalf("manifest = %+v, %v", m, err)
	}
	if _, err := f.acts.DeliverChunks(ctx, DeliverChunksInput{ProjectID: "p1", Count: 1}); err == nil {
		t.Fatal("DeliverChunks delivered a project's own delivery, which needs each chunk's counts")
	}
}
