package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"go.temporal.io/api/serviceerror"

	"github.com/labelflow/labelflow/internal/app"
	"github.com/labelflow/labelflow/internal/gateway"
	"github.com/labelflow/labelflow/workflows"
)

// An action sent through the gateway whose answer was lost (the connection dropped, the request
// timed out, the gateway answered 5xx) may still have taken effect. Rather than report a failure
// that was none, or retry an approval that was given, the commands look the outcome up and say
// what happened.

// outcome is what a lookup found: whether the action took effect, and the state in words.
type outcome struct {
	done  bool
	state string
}

// lookupTime bounds the lookup; it is retried within it while the stack recovers.
var lookupTime = 30 * time.Second

// settle turns err, the error of an action, into what happened. A known outcome (no error, or a
// refusal) is err itself. Otherwise look finds the outcome: when the action took effect, settle
// prints the state and why its answer was lost, and returns nil; when it did not, the action's
// error with the state; when look cannot tell, the error, saying so and naming check, the command
// that tells later.
func settle(ctx context.Context, w io.Writer, err error, action, check string, look func(context.Context) (outcome, error)) error {
	if !gateway.OutcomeUnknown(err) {
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lookupTime)
	defer cancel()
	o, lerr := lookUntil(ctx, look)
	switch {
	case lerr != nil:
		return fmt.Errorf("%w\nwhether the %s took effect is unknown (%s); `%s` tells", err, action, plainMessage(lerr), check)
	case o.done:
		fmt.Fprintf(w, "%s (%s, but the %s took effect)\n", o.state, lostAnswer(err), action)
		return nil
	}
	return fmt.Errorf("the %s did not take effect: %w\nnow: %s", action, err, o.state)
}

// lookUntil calls look until it answers or ctx ends, a second apart.
func lookUntil(ctx context.Context, look func(context.Context) (outcome, error)) (outcome, error) {
	for {
		o, err := look(ctx)
		if err == nil {
			return o, nil
		}
		select {
		case <-ctx.Done():
			return o, err
		case <-time.After(time.Second):
		}
	}
}

// lostAnswer says why the action's answer did not come.
func lostAnswer(err error) string {
	var api *gateway.APIError
	if errors.As(err, &api) {
		return fmt.Sprintf("the gateway answered %d", api.Status)
	}
	return "the connection dropped"
}

// approvedLook finds whether the month's payroll is approved.
func approvedLook(a *app.App, month string) func(context.Context) (outcome, error) {
	return func(ctx context.Context) (outcome, error) {
		st, err := a.PayrollStatus(ctx, month)
		if err != nil {
			return outcome{}, err
		}
		if st.Approver != "" {
			return outcome{done: true, state: fmt.Sprintf("payroll %s approved by %s (%s)", month, st.Approver, st.Stage)}, nil
		}
		return outcome{state: fmt.Sprintf("payroll %s is %s", month, st.Stage)}, nil
	}
}

// holdLook finds whether person's payout for the month is held (or, with release, no longer).
func holdLook(a *app.App, month, person string, release bool) func(context.Context) (outcome, error) {
	return func(ctx context.Context) (outcome, error) {
		st, err := a.PayrollStatus(ctx, month)
		if err != nil {
			return outcome{}, err
		}
		held := slices.ContainsFunc(st.Holds, func(h workflows.Hold) bool { return h.Person == person })
		state := fmt.Sprintf("payroll %s: %d payout(s) held", month, len(st.Holds))
		return outcome{done: held != release, state: state}, nil
	}
}

// launchedLook finds whether the project's workflow exists.
func launchedLook(a *app.App, project string) func(context.Context) (outcome, error) {
	return func(ctx context.Context) (outcome, error) {
		_, err := a.Describe(ctx, workflows.ProjectWorkflowID(project), "")
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			return outcome{state: "project " + project + " does not exist"}, nil
		}
		if err != nil {
			return outcome{}, err
		}
		return outcome{done: true, state: "project " + project + " launched"}, nil
	}
}

// cancelledLook finds whether the project is cancelled.
func cancelledLook(a *app.App, project string) func(context.Context) (outcome, error) {
	return func(ctx context.Context) (outcome, error) {
		v, err := a.ProjectStatus(ctx, project)
		if err != nil {
			return outcome{}, err
		}
		if v.Cancelled != nil {
			return outcome{done: true, state: fmt.Sprintf("project %s cancelled: no more chunks start; the %d started of %d finish and are delivered", project, v.ChunksStarted, v.Chunks)}, nil
		}
		return outcome{state: fmt.Sprintf("project %s is %s, not cancelled", project, v.Stage)}, nil
	}
}

// settleWithApp is settle for commands that otherwise speak only to the gateway: it connects to
// the stack to look the outcome up. A stack it cannot reach leaves the outcome unknown.
func (e *env) settleWithApp(ctx context.Context, w io.Writer, err error, action, check string, look func(*app.App) func(context.Context) (outcome, error)) error {
	if !gateway.OutcomeUnknown(err) {
		return err
	}
	a, oerr := e.open(ctx)
	if oerr != nil {
		return fmt.Errorf("%w\nwhether the %s took effect is unknown (%s); `%s` tells", err, action, plainMessage(oerr), check)
	}
	defer a.Close()
	return settle(ctx, w, err, action, check, look(a))
}
