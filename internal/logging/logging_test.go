package logging

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

func TestTemporalAdapterWritesJSONWithFields(t *testing.T) {
	var buf bytes.Buffer
	l := NewTemporal(New("debug", &buf))
	l.With("WorkflowID", "project-a").Info("started", "attempt", 2, "err", errors.New("boom"))
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("not JSON: %q: %v", buf.String(), err)
	}
	for k, want := range map[string]any{"message": "started", "WorkflowID": "project-a", "attempt": float64(2), "err": "boom", "level": "info", "component": "temporal-sdk"} {
		if line[k] != want {
			t.Errorf("%s = %v, want %v", k, line[k], want)
		}
	}
}

func TestLevelFiltersDebug(t *testing.T) {
	var buf bytes.Buffer
	NewTemporal(New("warn", &buf)).Debug("hidden")
	if buf.Len() != 0 {
		t.Fatalf("debug line written at warn level: %q", buf.String())
	}
}
