package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labelflow/labelflow/internal/gateway"
)

// fakeGateway approves the month, then answers as told: it drops the connection (answer lost
// after the approval took effect), or refuses.
func fakeGateway(t *testing.T, approved *atomic.Bool, answer func(w http.ResponseWriter)) *gateway.Client {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		approved.Store(true)
		answer(w)
	}))
	t.Cleanup(srv.Close)
	return gateway.NewClient(srv.URL, "token")
}

func dropConnection(w http.ResponseWriter) {
	conn, _, _ := w.(http.Hijacker).Hijack()
	_ = conn.Close()
}

// payrollLook stands for the payroll's status: approved once the fake gateway approved it.
func payrollLook(approved *atomic.Bool) func(context.Context) (outcome, error) {
	return func(context.Context) (outcome, error) {
		if approved.Load() {
			return outcome{done: true, state: "payroll 2026-01 approved by fatuma (paid)"}, nil
		}
		return outcome{state: "payroll 2026-01 is awaiting-approval"}, nil
	}
}

func TestApprovalWhoseAnswerWasLostIsReportedAsDone(t *testing.T) {
	var approved atomic.Bool
	c := fakeGateway(t, &approved, dropConnection)
	_, err := c.Approve(context.Background(), "2026-01", "")
	if err == nil {
		t.Fatal("the fake gateway dropped the connection, yet Approve succeeded")
	}
	var out bytes.Buffer
	if err := settle(context.Background(), &out, err, "approval", "labelflow payroll status --month 2026-01", payrollLook(&approved)); err != nil {
		t.Fatalf("settle: %v, want the approval reported as done", err)
	}
	want := "payroll 2026-01 approved by fatuma (paid) (the connection dropped, but the approval took effect)\n"
	if out.String() != want {
		t.Errorf("printed %q, want %q", out.String(), want)
	}
}

func TestLostAnswerOfAnActionThatDidNotHappenIsAFailure(t *testing.T) {
	var approved atomic.Bool
	c := fakeGateway(t, &approved, dropConnection)
	_, err := c.Approve(context.Background(), "2026-01", "")
	approved.Store(false) // the gateway went down before acting
	var out bytes.Buffer
	err = settle(context.Background(), &out, err, "approval", "labelflow payroll status --month 2026-01", payrollLook(&approved))
	if err == nil || !strings.Contains(err.Error(), "did not take effect") || !strings.Contains(err.Error(), "awaiting-approval") || out.Len() != 0 {
		t.Fatalf("settle = %v (printed %q), want a failure naming the state", err, out.String())
	}
}

func TestRefusalIsReportedWithoutLookingUp(t *testing.T) {
	var approved atomic.Bool
	c := fakeGateway(t, &approved, func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"error":{"code":"forbidden","message":"olu has the role ops"}}`))
	})
	_, err := c.Approve(context.Background(), "2026-01", "")
	looked := false
	err = settle(context.Background(), &bytes.Buffer{}, err, "approval", "x", func(context.Context) (outcome, error) {
		looked = true
		return outcome{}, nil
	})
	var api *gateway.APIError
	if !errors.As(err, &api) || api.Status != http.StatusForbidden || looked {
		t.Fatalf("settle = %v (looked up: %v), want the refusal as it was, with no lookup", err, looked)
	}
}

func TestOutcomeThatCannotBeLookedUpIsUnknown(t *testing.T) {
	defer func(d time.Duration) { lookupTime = d }(lookupTime)
	lookupTime = 1500 * time.Millisecond
	var approved atomic.Bool
	c := fakeGateway(t, &approved, dropConnection)
	_, err := c.Approve(context.Background(), "2026-01", "")
	tries := 0
	err = settle(context.Background(), &bytes.Buffer{}, err, "approval", "labelflow payroll status --month 2026-01", func(context.Context) (outcome, error) {
		tries++
		return outcome{}, errors.New("no poller seen for task queue recently, worker may be down")
	})
	if err == nil || !strings.Contains(err.Error(), "is unknown") || !strings.Contains(err.Error(), "labelflow payroll status --month 2026-01") {
		t.Fatalf("settle = %v, want the outcome unknown and the command that tells", err)
	}
	if tries < 2 {
		t.Errorf("looked up %d times, want it retried while the stack recovers", tries)
	}
}
