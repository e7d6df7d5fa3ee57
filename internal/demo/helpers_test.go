package demo

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"

	"github.com/labelflow/labelflow/internal/app"
	"github.com/labelflow/labelflow/internal/simulate"
	"github.com/labelflow/labelflow/internal/workforce"
)

func parseRoster(csv string) ([]workforce.Entry, error) {
	return workforce.ParseCSV("roster.csv", strings.NewReader(csv))
}

// fixedToken is a token of the issued shape, the same on every run.
func fixedToken(name string) string {
	h := sha256.Sum256([]byte(name))
	return workforce.TokenPrefix + base64.RawURLEncoding.EncodeToString(h[:])
}

// registerCrowd registers a simulated crowd for o on the embedded stack; it stays in the roster
// while the tests run, as the demo's crowd does.
func registerCrowd(ctx context.Context, t *testing.T, a *app.App, o simulate.Options) []simulate.Person {
	t.Helper()
	permit, err := simulate.Allow(a.Cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	crowd, err := simulate.Crowd(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := simulate.Register(ctx, permit, a.Roster, crowd); err != nil {
		t.Fatal(err)
	}
	return crowd
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// historyIter collects a workflow's whole history.
type historyIter struct{ client.HistoryEventIterator }

func (h historyIter) collect() (*historypb.History, error) {
	out := &historypb.History{}
	for h.HasNext() {
		e, err := h.Next()
		if err != nil {
			return nil, err
		}
		out.Events = append(out.Events, e)
	}
	return out, nil
}

// schedules reports whether a history schedules the activity.
func schedules(h *historypb.History, activity string) bool {
	for _, e := range h.GetEvents() {
		if e.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName() == activity {
			return true
		}
	}
	return false
}

// signIn gives a member of staff a fresh token and authenticates it.
func signIn(ctx context.Context, t *testing.T, a *app.App, who workforce.Person) app.Actor {
	t.Helper()
	act, err := SignIn(ctx, a, who)
	if err != nil {
		t.Fatal(err)
	}
	return act
}
