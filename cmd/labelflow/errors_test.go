package main

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"go.temporal.io/sdk/temporal"

	"github.com/labelflow/labelflow/internal/earnings"
)

// stoppedPayroll is the error payroll run reports when the month's rates lack a currency: the
// activity lists the problem once per person paid in it (as activities.applyFloor does), and
// payroll status passes on the activity's message.
func stoppedPayroll(people int) error {
	var problems []error
	for i := range people {
		person := fmt.Sprintf("p-%04d", i)
		cause := fmt.Errorf("line %d (project acme-%d, annotation): %w", i%3+1, i%2, &earnings.NoRateError{File: "finance/rates/2026-10.csv", From: "USD", To: "KES"})
		problems = append(problems, fmt.Errorf("%s: %w", person, fmt.Errorf("statement of %s for 2026-10: %w", person, cause)))
	}
	problems = append(problems, errors.New("p-0900: no payout currency (set payout_currency in the roster)"))
	appErr := temporal.NewNonRetryableApplicationError(fmt.Sprintf("payroll 2026-10 cannot be computed: %v", errors.Join(problems...)), "InvalidInput", nil)
	var ae *temporal.ApplicationError
	errors.As(appErr, &ae)
	return fmt.Errorf("payroll 2026-10 stopped: %s", ae.Message())
}

func TestPrintErrorReportsARepeatedProblemOnce(t *testing.T) {
	var b bytes.Buffer
	printError(&b, stoppedPayroll(18))
	want := `labelflow: payroll 2026-10 stopped: payroll 2026-10 cannot be computed
  no exchange rate USD→KES: finance/rates/2026-10.csv lists neither USD,KES nor KES,USD (18 times: p-0000, p-0001, p-0002 and 15 more)
  p-0900: no payout currency (set payout_currency in the roster)
`
	if b.String() != want {
		t.Errorf("printed\n%s\nwant\n%s", b.String(), want)
	}
}

func TestPrintErrorKeepsDistinctProblems(t *testing.T) {
	msg := "bad.yaml: 2 problem(s):\n  bad.yaml:2: id: must be 1-63 lowercase letters\n  bad.yaml:13: lease: must be a duration such as 15m, got \"forever\""
	var b bytes.Buffer
	printError(&b, errors.New(msg))
	if b.String() != "labelflow: "+msg+"\n" {
		t.Errorf("a message without repeats changed:\n%s", b.String())
	}
}

func TestPlainMessageDropsTemporalWrapping(t *testing.T) {
	appErr := temporal.NewApplicationError("Amina lacks the skill \"medical\" this project requires", "NotQualified")
	for _, tc := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("claim: %w", appErr), `claim: Amina lacks the skill "medical" this project requires`},
		{errors.New("workflow execution error (type: RedeliveryWorkflow, workflowID: redeliver-acme-1f2e, runID: 0196c1): " +
			"activity error (type: DeliverChunk, scheduledEventID: 11, startedEventID: 12, identity: 4242@worker-1@): " +
			"bucket acme-labels refused the upload (type: DeliveryRefused, retryable: true): access denied"),
			"bucket acme-labels refused the upload: access denied"},
		{errors.New("activity error (type: PayPayroll, scheduledEventID: 5, startedEventID: 6, identity: 1@h@): activity StartToClose timeout (type: StartToClose)"),
			"activity StartToClose timeout"},
	} {
		got := plainMessage(tc.err)
		if got != tc.want {
			t.Errorf("plainMessage(%q) = %q, want %q", tc.err, got, tc.want)
		}
		if strings.Contains(got, "retryable") || strings.Contains(got, "(type:") {
			t.Errorf("plainMessage left Temporal's wrapping in %q", got)
		}
	}
}
