package demo

import (
	"context"
	"testing"
	"time"
)

// TestReplayEveryHistory runs after the package's other tests (its file sorts last), so that every
// history they left on the server, of every workflow type, replays against the current code.
func TestReplayEveryHistory(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	replayAll(t, ctx)
}
