package demo

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"

	"github.com/labelflow/labelflow/internal/workforce"
)

type workforcePerson = workforce.Person

func parseRoster(csv string) ([]workforce.Person, error) {
	return workforce.ParseCSV("roster.csv", strings.NewReader(csv))
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
