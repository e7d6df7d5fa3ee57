package activities

import (
	"context"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/labelflow/labelflow/internal/clientbucket"
	"github.com/labelflow/labelflow/internal/delivery"
)

// deliveryHeartbeatEvery is how often a delivery heartbeats while an object or a part is in
// flight. Parts stay at clientbucket.PartSize: S3 accepts no part below 5 MiB, so smaller parts
// could not keep a slow link inside the heartbeat timeout; a ticker does, whatever the link.
const deliveryHeartbeatEvery = 5 * time.Second

// deliveryProgress is what a delivery activity records in its heartbeats, so that its retry
// skips what is delivered and resumes the upload in flight. It is JSON-compatible.
type deliveryProgress struct {
	// Delivered holds the receipts of the objects in place, in the order they were written.
	Delivered []delivery.ManifestObject `json:"delivered,omitempty"`
	// Upload is the multipart upload in flight, if any.
	Upload *clientbucket.Upload `json:"upload,omitempty"`
	// CompletedAt is when the last object before the manifest was in place: fixed once, so that
	// a retry writes the same manifest bytes.
	CompletedAt *time.Time `json:"completed_at,omitempty"`
}

// progress keeps a delivery's progress and heartbeats it: at each step, and from a ticker while
// a step is in flight.
type progress struct {
	mu   sync.Mutex
	p    deliveryProgress
	beat func(deliveryProgress) // nil outside an activity
	stop func()                 // stops the ticker
}

// startProgress resumes from the progress an earlier attempt of the activity recorded.
func startProgress(ctx context.Context) *progress {
	if !activity.IsActivity(ctx) {
		return newProgress(ctx, deliveryProgress{}, nil)
	}
	p := lastProgress[deliveryProgress](ctx)
	return newProgress(ctx, p, func(d deliveryProgress) { activity.RecordHeartbeat(ctx, d) })
}

// newProgress starts from p and, with beat, heartbeats every deliveryHeartbeatEvery until close.
func newProgress(ctx context.Context, p deliveryProgress, beat func(deliveryProgress)) *progress {
	pr := &progress{p: p, beat: beat, stop: func() {}}
	if beat != nil {
		pr.stop = tick(ctx, deliveryHeartbeatEvery, func() { pr.update(func(*deliveryProgress) {}) })
	}
	return pr
}

func (pr *progress) close() { pr.stop() }

// update changes the progress and heartbeats it.
func (pr *progress) update(change func(*deliveryProgress)) {
	pr.mu.Lock()
	change(&pr.p)
	p := pr.p
	pr.mu.Unlock()
	if pr.beat != nil {
		pr.beat(p)
	}
}

// delivered returns the receipt of the object at key if it is in place.
func (pr *progress) delivered(key string) (delivery.ManifestObject, bool) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	for _, o := range pr.p.Delivered {
		if o.Key == key {
			return o, true
		}
	}
	return delivery.ManifestObject{}, false
}

// add records an object in place; the upload that wrote it is over.
func (pr *progress) add(obj delivery.ManifestObject) {
	pr.update(func(p *deliveryProgress) {
		p.Delivered = append(p.Delivered, obj)
		p.Upload = nil
	})
}

// uploading records the multipart upload in flight.
func (pr *progress) uploading(u clientbucket.Upload) {
	pr.update(func(p *deliveryProgress) { p.Upload = &u })
}

// resume returns the upload an earlier attempt left in flight for key, if any.
func (pr *progress) resume(key string) *clientbucket.Upload {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	if u := pr.p.Upload; u != nil && u.Key == key {
		c := *u
		return &c
	}
	return nil
}

// completedAt returns the delivery's completion time: now, the first time it is asked.
func (pr *progress) completedAt(now time.Time) time.Time {
	var at time.Time
	pr.update(func(p *deliveryProgress) {
		if p.CompletedAt == nil {
			t := now.UTC()
			p.CompletedAt = &t
		}
		at = *p.CompletedAt
	})
	return at
}

// put delivers one object unless it is in place already, and returns its receipt.
func (pr *progress) put(ctx context.Context, b *clientbucket.Bucket, key, kind, contentType string, data []byte, items int) (delivery.ManifestObject, error) {
	if obj, ok := pr.delivered(key); ok {
		return obj, nil
	}
	sum, err := b.Put(ctx, key, data, contentType)
	if err != nil {
		return delivery.ManifestObject{}, err
	}
	obj := delivery.ManifestObject{Key: key, Kind: kind, SHA256: sum, Size: int64(len(data)), Items: items}
	pr.add(obj)
	return obj, nil
}
