package webtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/labelflow/labelflow/internal/demo"
	"github.com/labelflow/labelflow/workflows"
)

// Task is a task of a claimed suite, as the API gives it.
type Task struct {
	Item    int               `json:"item"`
	Source  string            `json:"source"`
	Answers []json.RawMessage `json:"answers"`
}

// AnswerSuite claims a suite of the project for the token's holder through the API, retrying
// for up to 30 seconds while none is offered (a chunk starting), and submits answer(task) for
// each of its tasks. It returns the number of tasks answered.
func (s *Stack) AnswerSuite(ctx context.Context, project, token string, answer func(Task) any) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		var claim struct {
			Suite *struct {
				ID    string `json:"id"`
				Tasks []Task `json:"tasks"`
			} `json:"suite"`
		}
		if err := s.post(ctx, token, "/v1/projects/"+project+"/claim", nil, &claim); err != nil {
			return 0, err
		}
		if claim.Suite != nil {
			answers := make([]map[string]any, len(claim.Suite.Tasks))
			for i, t := range claim.Suite.Tasks {
				answers[i] = map[string]any{"item": t.Item, "answer": answer(t)}
			}
			path := fmt.Sprintf("/v1/projects/%s/suites/%s/submit", project, claim.Suite.ID)
			return len(answers), s.post(ctx, token, path, map[string]any{"answers": answers}, nil)
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("no suite of %s offered: %w", project, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Always answers every task with v.
func Always(v any) func(Task) any { return func(Task) any { return v } }

// post sends body as JSON with the token and decodes a 200 answer into out (when not nil).
func (s *Stack) post(ctx context.Context, token, path string, body, out any) error {
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+path, bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("POST %s: %s: %s", path, resp.Status, msg)
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// Month is the current payroll month in the stack's time zone.
func (s *Stack) Month() string {
	loc, err := time.LoadLocation(s.Env.Cfg.MonthTimeZone)
	if err != nil {
		loc = time.UTC
	}
	return time.Now().In(loc).Format("2006-01")
}

// RunPayroll uploads the demo's wage table and the month's rates, runs the month's payroll and
// waits until it awaits a finance person's approval.
func (s *Stack) RunPayroll(ctx context.Context, month string) error {
	a := s.Env.App
	if err := demo.SeedFinanceTables(ctx, a.Store, month); err != nil {
		return err
	}
	if err := a.RunPayroll(ctx, month, true); err != nil {
		return err
	}
	_, err := a.AwaitPayrollStage(ctx, month, workflows.PayrollAwaitingApproval)
	return err
}
