package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/labelflow/labelflow/activities"
	"github.com/labelflow/labelflow/config"
	"github.com/labelflow/labelflow/internal/app"
	"github.com/labelflow/labelflow/internal/demo"
	"github.com/labelflow/labelflow/internal/earnings"
	"github.com/labelflow/labelflow/internal/gateway"
	"github.com/labelflow/labelflow/internal/simulate"
	"github.com/labelflow/labelflow/internal/spec"
	"github.com/labelflow/labelflow/internal/workforce"
)

func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("labelflow "+name, flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	return fs
}

const workforceUsage = `usage: labelflow workforce import roster.csv
       labelflow workforce token issue|rotate|revoke PERSON
  roster columns: id,name,country,role[,token,skills,languages,payout_method,payout_currency]
  (skills and languages separated by ';'; a token, when given, must be one LabelFlow issued)`

func workforceCmd(ctx context.Context, cfg config.Config, log zerolog.Logger, args []string) error {
	switch {
	case len(args) == 2 && args[0] == "import":
		return importRoster(ctx, cfg, log, args[1])
	case len(args) == 3 && args[0] == "token":
		return tokenCmd(ctx, cfg, log, args[1], args[2])
	}
	fmt.Fprintln(os.Stderr, workforceUsage)
	return errUsage
}

func importRoster(ctx context.Context, cfg config.Config, log zerolog.Logger, file string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	entries, err := workforce.ParseCSV(file, f)
	if err != nil {
		return err
	}
	a, err := app.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.Store.EnsureBucket(ctx, cfg.StoreBucket); err != nil {
		return err
	}
	people, err := a.Roster.Import(ctx, entries)
	if err != nil {
		return err
	}
	roles := map[string]int{}
	var tokenless []string
	for _, p := range people {
		roles[p.Role]++
		if p.TokenHash == "" {
			tokenless = append(tokenless, p.ID)
		}
	}
	fmt.Printf("imported %d people (%d annotators, %d reviewers)\n", len(people), roles["annotator"], roles["reviewer"])
	if len(tokenless) > 0 {
		shown := tokenless
		if len(shown) > 5 {
			shown = append(shown[:5:5], "…")
		}
		fmt.Fprintf(os.Stderr, "%d of them have no token and cannot sign in yet (%s); give each one with: labelflow workforce token issue ID\n",
			len(tokenless), strings.Join(shown, ", "))
	}
	return nil
}

// tokenCmd issues, rotates or revokes a person's token. A new token is the only thing printed on
// stdout, once, so that it can go straight to the person; LabelFlow keeps only its hash.
func tokenCmd(ctx context.Context, cfg config.Config, log zerolog.Logger, action, person string) error {
	if action != "issue" && action != "rotate" && action != "revoke" {
		fmt.Fprintln(os.Stderr, workforceUsage)
		return errUsage
	}
	a, err := app.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	var token string
	switch action {
	case "issue":
		token, err = a.Roster.IssueToken(ctx, person)
	case "rotate":
		token, err = a.Roster.RotateToken(ctx, person)
	case "revoke":
		if err := a.Roster.RevokeToken(ctx, person); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "%s's token is revoked: they stay in the roster and can no longer sign in\n", person)
		return nil
	}
	if err != nil {
		return err
	}
	fmt.Println(token)
	if action == "rotate" {
		fmt.Fprintf(os.Stderr, "%s's old token no longer works; ", person)
	}
	fmt.Fprintf(os.Stderr, "the token above for %s is shown this once and cannot be shown again\n", person)
	return nil
}

func projectCmd(ctx context.Context, cfg config.Config, log zerolog.Logger, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: labelflow project launch -f project.yaml | cancel ID --reason TEXT | status ID [--watch] [--json] | list [--json]")
		return errUsage
	}
	switch args[0] {
	case "launch":
		fs := newFlags("project launch")
		file := fs.String("f", "", "project spec (YAML or JSON)")
		if err := fs.Parse(args[1:]); err != nil || *file == "" {
			fmt.Fprintln(os.Stderr, "usage: labelflow project launch -f project.yaml")
			return errUsage
		}
		if _, err := app.LoadSpecFile(*file); err != nil {
			return err // every bad field, with its line, before anything is sent
		}
		data, err := os.ReadFile(*file)
		if err != nil {
			return err
		}
		out, err := gateway.NewClient(cfg.GatewayURL, cfg.Token).Launch(ctx, *file, data)
		if err != nil {
			return err
		}
		fmt.Println(out.Project)
		return nil
	case "cancel":
		fs := newFlags("project cancel")
		reason := fs.String("reason", "", "why the project is cancelled (kept in its status and the audit log)")
		id, rest := firstArg(args[1:])
		if err := fs.Parse(rest); err != nil || id == "" || *reason == "" {
			fmt.Fprintln(os.Stderr, "usage: labelflow project cancel ID --reason TEXT")
			return errUsage
		}
		out, err := gateway.NewClient(cfg.GatewayURL, cfg.Token).Cancel(ctx, id, *reason)
		if err != nil {
			return err
		}
		fmt.Printf("project %s cancelled: no more chunks start; the %d started of %d finish and are delivered\n", out.Project, out.ChunksStarted, out.Chunks)
		return nil
	case "status":
		fs := newFlags("project status")
		watch := fs.Bool("watch", false, "redraw until the project completes")
		asJSON := fs.Bool("json", false, "print JSON")
		chunks := fs.Bool("chunks", false, "also list every finished chunk with its agreement")
		id, rest := firstArg(args[1:])
		if err := fs.Parse(rest); err != nil || id == "" {
			fmt.Fprintln(os.Stderr, "usage: labelflow project status ID [--watch] [--json] [--chunks]")
			return errUsage
		}
		a, err := app.Open(ctx, cfg, log)
		if err != nil {
			return err
		}
		defer a.Close()
		if *watch && !*asJSON {
			v, err := demo.WaitProject(ctx, a, id, progressPrinter(os.Stdout))
			fmt.Println()
			if err != nil {
				return err
			}
			printStatus(os.Stdout, v)
			return nil
		}
		v, err := a.ProjectStatus(ctx, id)
		if err != nil {
			return err
		}
		if *chunks {
			if v.Finished, err = a.FinishedChunks(ctx, id); err != nil {
				return err
			}
		}
		if *asJSON {
			return printJSON(v)
		}
		printStatus(os.Stdout, v)
		return nil
	case "quality":
		fs := newFlags("project quality")
		asCSV := fs.Bool("csv", false, "per-person figures as CSV")
		id, rest := firstArg(args[1:])
		if err := fs.Parse(rest); err != nil || id == "" {
			fmt.Fprintln(os.Stderr, "usage: labelflow project quality ID [--csv]")
			return errUsage
		}
		a, err := app.Open(ctx, cfg, log)
		if err != nil {
			return err
		}
		defer a.Close()
		var r activities.QualityReport
		if err := a.Store.GetJSON(ctx, activities.QualityReportKey(id), &r); err != nil {
			return fmt.Errorf("no quality report for %s (it is written when the project's delivery completes): %w", id, err)
		}
		if *asCSV {
			_, err := os.Stdout.Write(activities.QualityCSV(r))
			return err
		}
		fmt.Printf("project %s (%s): %d items, %d agreed, %d arbitrated\n  first-pass acceptance %.1f%%, arbitration rate %.1f%%, mean agreement %.3f, %.1f s per task\n",
			r.Project, r.AnnotationType, r.Items, r.Agreed, r.Arbitrated, 100*r.FirstPassRate, 100*r.ArbitrationRate, r.Agreement, r.SecondsPerTask)
		for _, c := range r.Chunks {
			fmt.Printf("  chunk %d: %d items, %d arbitrated, agreement %.3f\n", c.Chunk, c.Items, c.Arbitrated, c.Agreement)
		}
		if r.GoldAccuracy > 0 {
			fmt.Printf("  gold accuracy %.1f%%; calibration on gold (confidence → share right):\n", 100*r.GoldAccuracy)
			for b, bin := range r.Calibration {
				if bin.Items > 0 {
					fmt.Printf("    %.1f–%.1f: %d items, %.1f%% right\n", float64(b)/10, float64(b+1)/10, bin.Items, 100*float64(bin.Correct)/float64(bin.Items))
				}
			}
		}
		os.Stdout.Write(activities.QualityCSV(r))
		return nil
	case "annotations":
		fs := newFlags("project annotations")
		_ = fs.Bool("csv", true, "CSV in the common crowd format (the only format)")
		id, rest := firstArg(args[1:])
		if err := fs.Parse(rest); err != nil || id == "" {
			fmt.Fprintln(os.Stderr, "usage: labelflow project annotations ID --csv")
			return errUsage
		}
		a, err := app.Open(ctx, cfg, log)
		if err != nil {
			return err
		}
		defer a.Close()
		return annotationsCSV(ctx, a, id)
	case "list":
		fs := newFlags("project list")
		asJSON := fs.Bool("json", false, "print JSON")
		if err := fs.Parse(args[1:]); err != nil {
			return errUsage
		}
		a, err := app.Open(ctx, cfg, log)
		if err != nil {
			return err
		}
		defer a.Close()
		list, err := a.ListProjects(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(list)
		}
		fmt.Printf("%-32s %-16s %-12s %s\n", "PROJECT", "CLIENT", "STAGE", "WORKFLOW")
		for _, p := range list {
			fmt.Printf("%-32s %-16s %-12s %s\n", p.ID, p.Client, p.Stage, strings.TrimPrefix(p.Status, "WORKFLOW_EXECUTION_STATUS_"))
		}
		return nil
	}
	fmt.Fprintf(os.Stderr, "labelflow project: unknown subcommand %q\n", args[0])
	return errUsage
}

func simulateCmd(ctx context.Context, cfg config.Config, log zerolog.Logger, args []string) error {
	fs := newFlags("simulate")
	o := simulate.Options{GatewayURL: cfg.GatewayURL}
	fs.StringVar(&o.Project, "project", "", "project id")
	fs.IntVar(&o.Annotators, "annotators", 20, "simulated annotators")
	fs.IntVar(&o.Reviewers, "reviewers", 3, "simulated reviewers")
	fs.Float64Var(&o.Accuracy, "accuracy", 0.85, "probability an annotator answers correctly")
	fs.Float64Var(&o.ReviewerAccuracy, "reviewer-accuracy", 0.95, "probability a reviewer answers correctly")
	fs.Float64Var(&o.Abandon, "abandon", 0, "probability a person walks away from a claimed suite")
	fs.DurationVar(&o.Think, "think", 0, "time spent on each suite before submitting")
	fs.Uint64Var(&o.Seed, "seed", 1, "random seed")
	skills := fs.String("skills", "", "skills of the simulated people, ';'-separated")
	langs := fs.String("languages", "en", "languages of the simulated people, ';'-separated")
	truthFile := fs.String("truth", "", "CSV of true answers (id,label); default: the manifest lines' truth field")
	allow := fs.Bool("allow-simulated-people", false, "register simulated people on a stack that is not the embedded one")
	if err := fs.Parse(args); err != nil || o.Project == "" {
		fmt.Fprintln(os.Stderr, "usage: labelflow simulate --project ID [--annotators 20] [--reviewers 3] [--accuracy 0.85] [--allow-simulated-people]")
		return errUsage
	}
	permit, err := simulate.Allow(cfg, *allow)
	if err != nil {
		return err
	}
	o.Skills, o.Languages = splitList(*skills), splitList(*langs)
	if *truthFile != "" {
		f, err := os.Open(*truthFile)
		if err != nil {
			return err
		}
		o.Truth, err = simulate.LoadTruth(*truthFile, f)
		f.Close()
		if err != nil {
			return err
		}
	}
	a, err := app.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	st, err := simulate.Simulate(ctx, permit, a.Roster, a.Store, o, func(crowd []simulate.Person) {
		fmt.Printf("%d simulated people working on %s through %s\n", len(crowd), o.Project, o.GatewayURL)
	})
	if err != nil {
		return err
	}
	fmt.Printf("done: %d suites, %d answers (%d arbitrations), %d abandoned, %d rejected, %d empty claims; the simulated people have left the roster\n",
		st.Suites, st.Answers, st.Arbitrated, st.Abandoned, st.Rejected, st.EmptyClaims)
	return nil
}

const payrollUsage = `usage: labelflow payroll run --month YYYY-MM [--force]
       labelflow payroll approve --month YYYY-MM [--note TEXT]
       labelflow payroll hold --month YYYY-MM --person ID --reason TEXT
       labelflow payroll release --month YYYY-MM --person ID
       labelflow payroll status --month YYYY-MM [--json]
       labelflow payroll report --month YYYY-MM --csv
       labelflow payroll schedule --day 3 [--hour 6]
       labelflow payroll reject --project ID --person ID [--chunks 3,4] --reason TEXT
       labelflow payroll reverse --rejection ID [--note TEXT]
       labelflow payroll rejections [--json]`

func payrollCmd(ctx context.Context, cfg config.Config, log zerolog.Logger, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, payrollUsage)
		return errUsage
	}
	fs := newFlags("payroll " + args[0])
	month := fs.String("month", "", "payroll month, YYYY-MM")
	asJSON := fs.Bool("json", false, "print JSON")
	note := fs.String("note", "", "a note kept with the approval or reversal")
	force := fs.Bool("force", false, "run a month that is not over yet")
	_ = fs.Bool("csv", true, "CSV output (report)")
	person := fs.String("person", "", "whose payout to hold or release, or whose work to reject")
	reason := fs.String("reason", "", "why the payout is held or the work rejected")
	day := fs.Int("day", 3, "day of the month the schedule runs payroll for the previous month")
	hour := fs.Int("hour", 6, "hour of that day, in LABELFLOW_MONTH_TIME_ZONE")
	project := fs.String("project", "", "the project whose work is rejected")
	chunks := fs.String("chunks", "", "comma-separated chunk numbers (default: every chunk)")
	rejection := fs.String("rejection", "", "the rejection to reverse")
	monthless := map[string]bool{"schedule": true, "reject": true, "reverse": true, "rejections": true}
	if err := fs.Parse(args[1:]); err != nil || (*month == "" && !monthless[args[0]]) {
		fmt.Fprintln(os.Stderr, payrollUsage)
		return errUsage
	}
	a, err := app.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	switch args[0] {
	case "report":
		return payrollReport(ctx, a, *month)
	case "schedule":
		if err := a.SchedulePayroll(ctx, *day, *hour); err != nil {
			return err
		}
		fmt.Printf("payroll for the previous month will start on day %d of every month at %02d:00 %s (schedule %s)\n", *day, *hour, cfg.MonthTimeZone, app.PayrollScheduleID)
		return nil
	case "reject":
		var nums []int
		for _, c := range strings.FieldsFunc(*chunks, func(r rune) bool { return r == ',' || r == ' ' }) {
			n, err := strconv.Atoi(c)
			if err != nil || n < 0 {
				return fmt.Errorf("--chunks: %q is not a chunk number", c)
			}
			nums = append(nums, n)
		}
		r, err := gateway.NewClient(cfg.GatewayURL, cfg.Token).Reject(ctx, gateway.RejectBody{Project: *project, Person: *person, Chunks: nums, Reason: *reason})
		if err != nil {
			return err
		}
		fmt.Printf("rejection %s: %s's work on %s is set aside by payroll runs from now on (work already paid stays paid)\n", r.ID, r.Person, r.Project)
		return nil
	case "reverse":
		r, err := gateway.NewClient(cfg.GatewayURL, cfg.Token).Reverse(ctx, *rejection, *note)
		if err != nil {
			return err
		}
		fmt.Printf("rejection %s reversed: the next payroll pays the work it set aside, as adjustment lines\n", r.ID)
		return nil
	case "rejections":
		rs, err := activities.ListRejections(ctx, a.Store)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(rs)
		}
		for _, r := range rs {
			state := "in force"
			if r.Reversed != nil {
				state = fmt.Sprintf("reversed by %s at %s", r.Reversed.By, r.Reversed.At.Format(time.RFC3339))
			}
			fmt.Printf("%s  %s on %s chunks %v by %s at %s: %s (%s)\n", r.ID, r.Person, r.Project, r.Chunks, r.By, r.At.Format(time.RFC3339), r.Reason, state)
		}
		return nil
	case "hold", "release":
		c := gateway.NewClient(cfg.GatewayURL, cfg.Token)
		var st gateway.PayrollAnswer
		if args[0] == "release" {
			st, err = c.Release(ctx, *month, *person)
		} else {
			st, err = c.Hold(ctx, *month, *person, *reason)
		}
		if err != nil {
			return err
		}
		fmt.Printf("payroll %s: %d payout(s) held\n", *month, len(st.Held))
		return nil
	case "run":
		if err := a.RunPayroll(ctx, *month, *force); err != nil {
			return err
		}
		st, err := demo.AwaitPayrollStage(ctx, a, *month, "awaiting-approval")
		if err != nil {
			return err
		}
		fmt.Printf("payroll %s: %d people, %d ledger entries, totals %s; statements ready, awaiting approval\n",
			*month, st.Summary.People, st.Summary.Entries, money(st.Summary.Totals))
		printRefused(st.Summary.Refused)
		return nil
	case "approve":
		if _, err := demo.AwaitPayrollStage(ctx, a, *month, "awaiting-approval"); err != nil {
			return err
		}
		if _, err := gateway.NewClient(cfg.GatewayURL, cfg.Token).Approve(ctx, *month, *note); err != nil {
			return err
		}
		st, err := a.WaitPayroll(ctx, *month)
		if err != nil {
			return err
		}
		fmt.Printf("payroll %s approved by %s: %d payouts, paid %s\n", *month, st.Approver, st.Payout.Payouts, money(st.Payout.Paid))
		return nil
	case "status":
		st, err := a.PayrollStatus(ctx, *month)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(st)
		}
		fmt.Printf("payroll %s: %s\n  people %d, ledger entries %d, totals %s\n", st.Month, st.Stage, st.Summary.People, st.Summary.Entries, money(st.Summary.Totals))
		for _, kind := range []string{activities.AdjustmentLate, activities.AdjustmentReversal} {
			if adj := st.Summary.Adjustments[kind]; len(adj) > 0 {
				fmt.Printf("  adjustments (%s work of earlier months): %s\n", kind, money(adj))
			}
		}
		if len(st.Summary.Rejected) > 0 {
			fmt.Printf("  rejected work set aside: %s (see `labelflow payroll rejections`)\n", money(st.Summary.Rejected))
		}
		for _, h := range st.Holds {
			fmt.Printf("  held: %s by %s at %s: %s\n", h.Person, h.By, h.At.Format(time.RFC3339), h.Reason)
		}
		printRefused(st.Summary.Refused)
		for _, r := range st.Payout.Rejected {
			fmt.Printf("  payout refused by the provider: %s\n", r)
		}
		for _, r := range st.Payout.Refused {
			fmt.Printf("  not paid: %s\n", r)
		}
		for _, r := range st.Released {
			fmt.Printf("  released hold: %d payout(s), paid %s\n", r.Payouts, money(r.Paid))
		}
		if st.Approver != "" {
			fmt.Printf("  approved by %s; %d payouts, paid %s; %d people had nothing new to pay\n", st.Approver, st.Payout.Payouts, money(st.Payout.Paid), st.Payout.AlreadyPaid)
		}
		return nil
	}
	fmt.Fprintf(os.Stderr, "labelflow payroll: unknown subcommand %q\n", args[0])
	return errUsage
}

// printRefused tells finance what the run left out of the statements, and why.
func printRefused(r *activities.RefusedLedger) {
	if r == nil {
		return
	}
	fmt.Printf("  not paid: %d ledger entries (%s) and %d objects under ledger/ that are not ledger files; the first few:\n",
		r.Entries, money(r.Amounts), r.IgnoredKeys)
	for _, e := range r.Examples {
		fmt.Printf("    %s\n", e)
	}
}

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

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ";") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// firstArg takes a leading positional argument so flags may follow it.
func firstArg(args []string) (string, []string) {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return args[0], args[1:]
	}
	return "", args
}

func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printStatus(w io.Writer, v app.ProjectView) {
	fmt.Fprintf(w, "project %s (client %s): %s\n", v.ID, v.Client, v.Stage)
	if c := v.Cancelled; c != nil {
		fmt.Fprintf(w, "  cancelled by %s at %s: %s (chunks started before it finish and are delivered)\n", c.By, c.At.Format(time.RFC3339), c.Reason)
	}
	fmt.Fprintf(w, "  manifest lines %d: %d items chunked into %d chunks, %d rejected", v.Lines, v.Items, v.Chunks, v.Rejects)
	if v.Rejects > 0 {
		fmt.Fprintf(w, " (see s3 platform key %s)", v.RejectsKey)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  items annotated twice %d, agreed %d, arbitrated %d, final %d, delivered %d\n", v.Annotated, v.Agreed, v.Arbitrated, v.Final, v.Done.Delivered)
	fmt.Fprintf(w, "  agreement %.1f%%, active leases %d, expired leases %d\n", 100*v.Agreement, v.Leases, v.Done.LeasesExpired)
	fmt.Fprintf(w, "  chunks done %d of %d, running %v\n", v.Done.Chunks, v.Chunks, v.Running)
	for _, c := range v.Live {
		fmt.Fprintf(w, "    chunk %d: %d/%d final, agreement %.1f%%, %d awaiting arbitration, %d leases\n", c.Chunk, c.Final, c.Items, 100*c.Agreement, c.AwaitingArbitration, c.ActiveLeases)
	}
	for _, c := range v.Finished {
		fmt.Fprintf(w, "    chunk %d: delivered %d items, agreement %.1f%%, %d arbitrated, %s sha256 %s\n", c.Chunk, c.Items, 100*c.Agreement, c.Arbitrated, c.Key, c.SHA256)
	}
	fmt.Fprintf(w, "  delivery %s", v.DeliveryURI)
	if v.ManifestKey != "" {
		fmt.Fprintf(w, " (complete: %s)", v.ManifestKey)
	}
	fmt.Fprintln(w)
	if wh := v.Done.Webhooks; wh.Sent+wh.Failed > 0 {
		fmt.Fprintf(w, "  webhook: %d sent, %d failed", wh.Sent, wh.Failed)
		if wh.LastError != "" {
			fmt.Fprintf(w, " (last error: %s)", wh.LastError)
		}
		fmt.Fprintln(w)
	}
	for _, p := range v.Problems {
		fmt.Fprintf(w, "  problem: %s\n", p)
	}
	if v.Error != "" {
		fmt.Fprintf(w, "  error: %s\n", v.Error)
	}
}

// progressPrinter redraws one line with a progress bar of final items.
// On a terminal the line is redrawn in place; otherwise a new line is written every few seconds.
func progressPrinter(w *os.File) func(app.ProjectView) {
	last := time.Time{}
	tty := isTerminal(w)
	every, lead, tail := 400*time.Millisecond, "\r", ""
	if !tty {
		every, lead, tail = 5*time.Second, "", "\n"
	}
	return func(v app.ProjectView) {
		if time.Since(last) < every && !v.Closed {
			return
		}
		last = time.Now()
		const width = 30
		frac := 0.0
		if v.Items > 0 {
			frac = float64(v.Final) / float64(v.Items)
		}
		if v.Closed {
			frac = 1
		}
		n := int(frac * width)
		fmt.Fprintf(w, "%s  %-10s [%s%s] %3.0f%%  %d/%d final  agreement %4.1f%%  arbitrated %d  leases %d %s",
			lead, v.Stage, strings.Repeat("#", n), strings.Repeat(".", width-n), 100*frac, v.Final, v.Items, 100*v.Agreement, v.Arbitrated, v.Leases, tail)
	}
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func printSummary(w io.Writer, e *demo.Env, s demo.Summary) {
	fmt.Fprintf(w, `
LabelFlow demo: project %s complete in %s
  manifest lines     %d (%d valid items, %d rejected with line and reason)
  delivered items    %d, in %d objects, every SHA-256 verified against the manifest
  annotations        %d (two distinct annotators per item)
  agreement          %.1f%%
  arbitrations       %d (a third, distinct reviewer)
  leases expired     %d
  payroll %s    %d people, total %s, paid now %s
  crowd              %d suites, %d answers, %d empty claims

Where to look:
  delivery           %s   manifest: %s
  aws CLI            AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s aws --endpoint-url %s s3 ls %s --recursive
  Temporal UI        %s (the stack stops when the demo ends; run 'labelflow dev' to keep one up)
`, s.Project, s.Elapsed.Round(time.Second), s.LinesIn, s.ValidItems, s.Rejected, s.Delivered, s.Verified, s.Annotations,
		100*s.Agreement, s.Arbitrated, s.LeasesExpired, s.Month, s.People, money(s.PayrollTotal), money(s.PaidThisRun),
		s.Crowd.Suites, s.Crowd.Answers, s.Crowd.EmptyClaims,
		s.DeliveryURI, s.ManifestKey, e.Cfg.StoreAccessKey, e.Cfg.StoreSecretKey, e.Cfg.StoreEndpoint, s.DeliveryURI, e.Cfg.TemporalUIURL)
}

func deliveryCmd(ctx context.Context, cfg config.Config, log zerolog.Logger, args []string) error {
	usage := "usage: labelflow delivery redeliver PROJECT [--format F]... [--to PROFILE] [--bucket B] [--prefix P] [--region R] [--endpoint URL]"
	if len(args) < 2 || args[0] != "redeliver" {
		fmt.Fprintln(os.Stderr, usage)
		return errUsage
	}
	fs := newFlags("delivery redeliver")
	profile := fs.String("to", "", "delivery profile to deliver with (default: the project's)")
	bucket := fs.String("bucket", "", "bucket (default: the project's)")
	prefix := fs.String("prefix", "", "prefix (default: the project's)")
	region := fs.String("region", "", "region (default: the project's)")
	endpoint := fs.String("endpoint", "", "S3 endpoint (default: the project's)")
	var formats []string
	fs.Func("format", "a format to deliver (repeatable; default: the project's): jsonl, groundtruth, csv, labelstudio, coco", func(s string) error {
		formats = append(formats, s)
		return nil
	})
	project, rest := firstArg(args[1:])
	if err := fs.Parse(rest); err != nil || project == "" {
		fmt.Fprintln(os.Stderr, usage)
		return errUsage
	}
	a, err := app.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	var target *spec.Delivery
	if *profile != "" || *bucket != "" || *prefix != "" || *region != "" || *endpoint != "" {
		sp, err := activities.LoadSpec(ctx, a.Store, project)
		if err != nil {
			return err
		}
		d := sp.Delivery
		for _, o := range []struct{ v, dst *string }{{profile, &d.Credentials}, {bucket, &d.Bucket}, {prefix, &d.Prefix}, {region, &d.Region}, {endpoint, &d.Endpoint}} {
			if *o.v != "" {
				*o.dst = *o.v
			}
		}
		target = &d
	}
	wid, err := a.Redeliver(ctx, project, target, formats)
	if err != nil {
		return err
	}
	fmt.Printf("re-delivering %s (workflow %s)\n", project, wid)
	res, err := a.WaitRedelivery(ctx, wid)
	if err != nil {
		return err
	}
	fmt.Printf("delivered %d items in %d objects; manifest %s\n", res.Items, res.Objects, res.ManifestKey)
	return nil
}

// payrollReport prints one CSV row per person of the month: what they earned, the floor, any
// top-up and what they are paid, in their payout currency.
func payrollReport(ctx context.Context, a *app.App, month string) error {
	var sum activities.PayrollSummary
	if err := a.Store.GetJSON(ctx, activities.PayrollPrefix(month)+"summary.json", &sum); err != nil {
		return fmt.Errorf("no payroll statements for %s: %w", month, err)
	}
	w := csv.NewWriter(os.Stdout)
	w.Write([]string{"month", "person", "country", "hours", "payout_currency", "earned", "hourly_effective", "minimum_hourly", "required", "top_up", "total", "minimum_wage_source"})
	for _, person := range sum.Workers {
		var st activities.Statement
		if err := a.Store.GetJSON(ctx, activities.StatementKey(month, person), &st); err != nil {
			return err
		}
		p, cur := st.Pay, st.Pay.PayoutCurrency
		w.Write([]string{month, person, st.Country, fmt.Sprintf("%.2f", float64(p.Seconds)/3600), cur,
			earnings.FormatMinor(p.Earned, cur), earnings.FormatMinor(p.HourlyEffective, cur), earnings.FormatMinor(p.Floor.MinimumWage.HourlyMinor, cur),
			earnings.FormatMinor(p.Floor.Required, cur), earnings.FormatMinor(p.Floor.TopUp, cur), earnings.FormatMinor(p.Total, cur), p.Floor.InForce.Source})
	}
	w.Flush()
	return w.Error()
}
