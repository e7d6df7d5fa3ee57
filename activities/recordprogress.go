package activities

import (
	"context"
	"slices"
	"sync"

	"go.temporal.io/sdk/activity"
)

// recordProgress is what RecordChunk records in its heartbeats: the keys it has written, in the
// order it wrote them. Every key and its bytes derive from the chunk, so a retry that finds a key
// here skips writing it again. It is JSON-compatible.
type recordProgress struct {
	Written []string `json:"written,omitempty"`
}

// recording keeps RecordChunk's progress and heartbeats it: after each object written, and every
// heartbeatEvery while a step is in flight, well inside RecordHeartbeatTimeout.
type recording struct {
	mu   sync.Mutex
	p    recordProgress
	beat func(recordProgress) // nil outside an activity
	stop func()               // stops the ticker
}

// startRecording resumes from the progress an earlier attempt of the activity recorded.
func startRecording(ctx context.Context) *recording {
	if !activity.IsActivity(ctx) {
		return newRecording(ctx, recordProgress{}, nil)
	}
	p := lastProgress[recordProgress](ctx)
	return newRecording(ctx, p, func(p recordProgress) { activity.RecordHeartbeat(ctx, p) })
}

// newRecording starts from p and, with beat, heartbeats every heartbeatEvery until close.
func newRecording(ctx context.Context, p recordProgress, beat func(recordProgress)) *recording {
	r := &recording{p: p, beat: beat, stop: func() {}}
	if beat != nil {
		r.stop = tick(ctx, heartbeatEvery, r.heartbeat)
	}
	return r
}

func (r *recording) close() { r.stop() }

// heartbeat sends the progress as it stands: a heartbeat without it would erase it.
func (r *recording) heartbeat() {
	r.mu.Lock()
	p := recordProgress{Written: slices.Clone(r.p.Written)}
	r.mu.Unlock()
	if r.beat != nil {
		r.beat(p)
	}
}

// written reports whether an earlier attempt, or this one, wrote key.
func (r *recording) written(key string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Contains(r.p.Written, key)
}

// put writes the object at key with write unless it is written already, then records and
// heartbeats that it is.
func (r *recording) put(key string, write func() error) error {
	if r.written(key) {
		return nil
	}
	if err := write(); err != nil {
		return err
	}
	r.mu.Lock()
	r.p.Written = append(r.p.Written, key)
	r.mu.Unlock()
	r.heartbeat()
	return nil
}
