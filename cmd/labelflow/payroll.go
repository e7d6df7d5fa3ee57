package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/labelflow/labelflow/internal/app"
	"github.com/labelflow/labelflow/internal/earnings"
	"github.com/labelflow/labelflow/internal/gateway"
	"github.com/labelflow/labelflow/internal/payroll"
	"github.com/labelflow/labelflow/workflows"
)

func payrollCmd(e *env) *cobra.Command {
	return group("payroll", "run, approve and pay a month's payroll; set bad-faith work aside",
		payrollRunCmd(e), payrollApproveCmd(e), payrollHoldCmd(e, false), payrollHoldCmd(e, true),
		payrollStatusCmd(e), payrollReportCmd(e), payrollScheduleCmd(e),
		payrollRejectCmd(e), payrollReverseCmd(e), payrollRejectionsCmd(e))
}

// monthFlag adds the --month every command about one month's payroll needs.
func monthFlag(cmd *cobra.Command, month *string) {
	cmd.Flags().StringVar(month, "month", "", "payroll month, `YYYY-MM`")
	required(cmd, "month")
}

// gatewayClient is the gateway, as the person whose token is set: finance and ops commands act
// through it, exactly like a person in a browser.
func (e *env) gatewayClient() (*gateway.Client, error) {
	cfg, err := e.config()
	if err != nil {
		return nil, err
	}
	return gateway.NewClient(cfg.GatewayURL, cfg.Token), nil
}

func payrollRunCmd(e *env) *cobra.Command {
	var month string
	var force bool
	cmd := &cobra.Command{
		Use:   "run --month YYYY-MM",
		Short: "aggregate the month's ledger; statements await approval (a month not over yet needs --force)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.withApp(cmd, func(ctx context.Context, a *app.App) error {
				return runPayroll(ctx, a, cmd.OutOrStdout(), month, force)
			})
		},
	}
	monthFlag(cmd, &month)
	cmd.Flags().BoolVar(&force, "force", false, "run a month that is not over yet")
	return cmd
}

func runPayroll(ctx context.Context, a *app.App, w io.Writer, month string, force bool) error {
	if err := a.RunPayroll(ctx, month, force); err != nil {
		return err
	}
	st, err := a.AwaitPayrollStage(ctx, month, workflows.PayrollAwaitingApproval)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "payroll %s: %d people, %d ledger entries, totals %s; statements ready, awaiting approval\n",
		month, st.Summary.People, st.Summary.Entries, money(st.Summary.Totals))
	printRefused(w, st.Summary.Refused)
	return nil
}

func payrollApproveCmd(e *env) *cobra.Command {
	var month, note string
	cmd := &cobra.Command{
		Use:   "approve --month YYYY-MM",
		Short: "approve the month's statements and pay (a finance person of the roster, LABELFLOW_TOKEN)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.withApp(cmd, func(ctx context.Context, a *app.App) error {
				return approvePayroll(ctx, a, cmd.OutOrStdout(), month, note)
			})
		},
	}
	monthFlag(cmd, &month)
	cmd.Flags().StringVar(&note, "note", "", "a note kept with the approval")
	return cmd
}

// approvePayroll waits for the statements, approves them through the gateway and waits for the
// payouts. An approval whose answer was lost is looked up (settle); one given but whose payouts
// cannot be followed says it was given.
func approvePayroll(ctx context.Context, a *app.App, w io.Writer, month, note string) error {
	if _, err := a.AwaitPayrollStage(ctx, month, workflows.PayrollAwaitingApproval); err != nil {
		return err
	}
	if _, err := gateway.NewClient(a.Cfg.GatewayURL, a.Cfg.Token).Approve(ctx, month, note); err != nil {
		return settle(ctx, w, err, "approval", "labelflow payroll status --month "+month, approvedLook(a, month))
	}
	st, err := a.WaitPayroll(ctx, month)
	if err != nil {
		return fmt.Errorf("payroll %s is approved, but its payouts could not be followed: %w\n`labelflow payroll status --month %s` tells how they went", month, err, month)
	}
	fmt.Fprintf(w, "payroll %s approved by %s: %d payouts, paid %s\n", month, st.Approver, st.Payout.Payouts, money(st.Payout.Paid))
	return nil
}

// payrollHoldCmd is hold, or with release, release: both go through the gateway.
func payrollHoldCmd(e *env, release bool) *cobra.Command {
	var month, person, reason string
	cmd := &cobra.Command{
		Use:   "hold --month YYYY-MM --person ID --reason TEXT",
		Short: "hold a person's payout, before approval",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := e.gatewayClient()
			if err != nil {
				return err
			}
			var st gateway.PayrollAnswer
			if release {
				st, err = c.Release(cmd.Context(), month, person)
			} else {
				st, err = c.Hold(cmd.Context(), month, person, reason)
			}
			if gateway.OutcomeUnknown(err) {
				return e.settleWithApp(cmd.Context(), cmd.OutOrStdout(), err, cmd.Name(), "labelflow payroll status --month "+month, func(a *app.App) func(context.Context) (outcome, error) {
					return holdLook(a, month, person, release)
				})
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "payroll %s: %d payout(s) held\n", month, len(st.Held))
			return nil
		},
	}
	monthFlag(cmd, &month)
	cmd.Flags().StringVar(&person, "person", "", "whose payout")
	required(cmd, "person")
	if release {
		cmd.Use, cmd.Short = "release --month YYYY-MM --person ID", "release a held payout: paid at once if the month is already approved"
		return cmd
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why the payout is held")
	required(cmd, "reason")
	return cmd
}

func payrollStatusCmd(e *env) *cobra.Command {
	var month string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status --month YYYY-MM",
		Short: "the month's payroll: stage, totals, adjustments, holds and what was not paid",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.withApp(cmd, func(ctx context.Context, a *app.App) error {
				st, err := a.PayrollStatus(ctx, month)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(cmd.OutOrStdout(), st)
				}
				printPayrollStatus(cmd.OutOrStdout(), st)
				return nil
			})
		},
	}
	monthFlag(cmd, &month)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func printPayrollStatus(w io.Writer, st workflows.PayrollStatus) {
	fmt.Fprintf(w, "payroll %s: %s\n  people %d, ledger entries %d, totals %s\n", st.Month, st.Stage, st.Summary.People, st.Summary.Entries, money(st.Summary.Totals))
	for _, kind := range []string{payroll.AdjustmentLate, payroll.AdjustmentReversal} {
		if adj := st.Summary.Adjustments[kind]; len(adj) > 0 {
			fmt.Fprintf(w, "  adjustments (%s work of earlier months): %s\n", kind, money(adj))
		}
	}
	if len(st.Summary.Rejected) > 0 {
		fmt.Fprintf(w, "  rejected work set aside: %s (see `labelflow payroll rejections`)\n", money(st.Summary.Rejected))
	}
	for _, h := range st.Holds {
		fmt.Fprintf(w, "  held: %s by %s at %s: %s\n", h.Person, h.By, h.At.Format(time.RFC3339), h.Reason)
	}
	printRefused(w, st.Summary.Refused)
	printPayouts(w, st)
}

// printPayouts says what the approved run paid, and what it could not.
func printPayouts(w io.Writer, st workflows.PayrollStatus) {
	for _, r := range st.Payout.Rejected {
		fmt.Fprintf(w, "  payout refused by the provider: %s\n", r)
	}
	for _, r := range st.Payout.Refused {
		fmt.Fprintf(w, "  not paid: %s\n", r)
	}
	for _, r := range st.Payout.Held {
		fmt.Fprintf(w, "  held, nothing sent: %s\n", r)
	}
	for _, r := range st.Released {
		fmt.Fprintf(w, "  released hold: %d payout(s), paid %s\n", r.Payouts, money(r.Paid))
	}
	if st.Approver != "" {
		fmt.Fprintf(w, "  approved by %s; %d payouts, paid %s; %d people had nothing new to pay\n", st.Approver, st.Payout.Payouts, money(st.Payout.Paid), st.Payout.AlreadyPaid)
	}
}

// printRefused tells finance what the run left out of the statements, and why.
func printRefused(w io.Writer, r *payroll.RefusedLedger) {
	if r == nil {
		return
	}
	fmt.Fprintf(w, "  not paid: %d ledger entries (%s) and %d objects under ledger/ that are not ledger files; the first few:\n",
		r.Entries, money(r.Amounts), r.IgnoredKeys)
	for _, e := range r.Examples {
		fmt.Fprintf(w, "    %s\n", e)
	}
}

func payrollReportCmd(e *env) *cobra.Command {
	var month string
	cmd := &cobra.Command{
		Use:   "report --month YYYY-MM --csv",
		Short: "one CSV row per person: hours, earned, floor, top-up, paid",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.withApp(cmd, func(ctx context.Context, a *app.App) error {
				return payrollReport(ctx, a, cmd.OutOrStdout(), month)
			})
		},
	}
	monthFlag(cmd, &month)
	cmd.Flags().Bool("csv", true, "CSV output (the only format)")
	return cmd
}

// payrollReport prints one CSV row per person of the month: what they earned, the floor, any
// top-up and what they are paid, in their payout currency.
func payrollReport(ctx context.Context, a *app.App, out io.Writer, month string) error {
	csv, err := a.PayrollReport(ctx, month)
	if err != nil {
		return err
	}
	_, err = out.Write(csv)
	return err
}

func payrollScheduleCmd(e *env) *cobra.Command {
	var day, hour int
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "a Temporal Schedule: the previous month's payroll, every month",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.withApp(cmd, func(ctx context.Context, a *app.App) error {
				if err := a.SchedulePayroll(ctx, day, hour); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "payroll for the previous month will start on day %d of every month at %02d:00 %s (schedule %s)\n", day, hour, a.Cfg.MonthTimeZone, app.PayrollScheduleID)
				return nil
			})
		},
	}
	cmd.Flags().IntVar(&day, "day", 3, "day of the month the schedule runs payroll for the previous month")
	cmd.Flags().IntVar(&hour, "hour", 6, "hour of that day, in LABELFLOW_MONTH_TIME_ZONE")
	return cmd
}

func payrollRejectCmd(e *env) *cobra.Command {
	var b gateway.RejectBody
	var chunks string
	cmd := &cobra.Command{
		Use:   "reject --project ID --person ID --reason TEXT",
		Short: "set work done in bad faith aside from pay (a reviewer or finance person, LABELFLOW_TOKEN)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return rejectWork(cmd, e, b, chunks)
		},
	}
	cmd.Flags().StringVar(&b.Project, "project", "", "the project whose work is rejected")
	cmd.Flags().StringVar(&b.Person, "person", "", "whose work is rejected")
	cmd.Flags().StringVar(&chunks, "chunks", "", "comma-separated chunk numbers (default: every chunk)")
	cmd.Flags().StringVar(&b.Reason, "reason", "", "why the work is rejected; the person sees it on their statement")
	required(cmd, "project", "person", "reason")
	return cmd
}

func rejectWork(cmd *cobra.Command, e *env, b gateway.RejectBody, chunks string) error {
	var err error
	if b.Chunks, err = chunkNumbers(chunks); err != nil {
		return err
	}
	c, err := e.gatewayClient()
	if err != nil {
		return err
	}
	r, err := c.Reject(cmd.Context(), b)
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "rejection %s: %s's work on %s is set aside by payroll runs from now on (work already paid stays paid)\n", r.ID, r.Person, r.Project)
	return nil
}

// chunkNumbers reads --chunks: numbers separated by commas or spaces.
func chunkNumbers(s string) ([]int, error) {
	var nums []int
	for _, c := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		n, err := strconv.Atoi(c)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("--chunks: %q is not a chunk number", c)
		}
		nums = append(nums, n)
	}
	return nums, nil
}

func payrollReverseCmd(e *env) *cobra.Command {
	var rejection, note string
	cmd := &cobra.Command{
		Use:   "reverse --rejection ID",
		Short: "pay rejected work after all: next month, as an adjustment",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := e.gatewayClient()
			if err != nil {
				return err
			}
			r, err := c.Reverse(cmd.Context(), rejection, note)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "rejection %s reversed: the next payroll pays the work it set aside, as adjustment lines\n", r.ID)
			return nil
		},
	}
	cmd.Flags().StringVar(&rejection, "rejection", "", "the rejection to reverse")
	cmd.Flags().StringVar(&note, "note", "", "a note kept with the reversal")
	required(cmd, "rejection")
	return cmd
}

func payrollRejectionsCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "rejections",
		Short: "every rejection, in force or reversed",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.withApp(cmd, func(ctx context.Context, a *app.App) error {
				return listRejections(ctx, a, cmd.OutOrStdout(), asJSON)
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func listRejections(ctx context.Context, a *app.App, w io.Writer, asJSON bool) error {
	rs, err := a.Rejections(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(w, rs)
	}
	for _, r := range rs {
		state := "in force"
		if r.Reversed != nil {
			state = fmt.Sprintf("reversed by %s at %s", r.Reversed.By, r.Reversed.At.Format(time.RFC3339))
		}
		fmt.Fprintf(w, "%s  %s on %s chunks %v by %s at %s: %s (%s)\n", r.ID, r.Person, r.Project, r.Chunks, r.By, r.At.Format(time.RFC3339), r.Reason, state)
	}
	return nil
}

// money writes amounts in minor units per currency as "12.50 USD, 3000 KES", currencies sorted.
func money(m map[string]int64) string {
	if len(m) == 0 {
		return "0"
	}
	currencies := make([]string, 0, len(m))
	for cur := range m {
		currencies = append(currencies, cur)
	}
	sort.Strings(currencies)
	parts := make([]string, len(currencies))
	for i, cur := range currencies {
		parts[i] = earnings.FormatMinor(m[cur], cur) + " " + cur
	}
	return strings.Join(parts, ", ")
}
