package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/labelflow/labelflow/internal/app"
	"github.com/labelflow/labelflow/internal/formats"
	"github.com/labelflow/labelflow/internal/gateway"
	"github.com/labelflow/labelflow/internal/quality"
)

func projectCmd(e *env) *cobra.Command {
	return group("project", "launch, pause, cancel and follow projects",
		projectLaunchCmd(e), projectPauseCmd(e), projectResumeCmd(e), projectCancelCmd(e), projectStatusCmd(e),
		projectListCmd(e), projectAnnotationsCmd(e), projectQualityCmd(e))
}

func projectLaunchCmd(e *env) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "launch -f project.yaml",
		Short: "validate and start a project; prints its id (ops, LABELFLOW_TOKEN)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return launchProject(cmd.Context(), e, cmd.OutOrStdout(), file)
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "project spec `FILE` (YAML or JSON)")
	required(cmd, "file")
	return cmd
}

// launchProject checks the spec here, so that every bad field is reported with its line before
// anything is sent, then launches it through the gateway as the person whose token is set.
func launchProject(ctx context.Context, e *env, w io.Writer, file string) error {
	sp, err := app.LoadSpecFile(file)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	cfg, err := e.config()
	if err != nil {
		return err
	}
	out, err := gateway.NewClient(cfg.GatewayURL, cfg.Token).Launch(ctx, file, data)
	if gateway.OutcomeUnknown(err) {
		// The id alone goes to w, as on success, so that scripts reading it still can.
		err = e.settleWithApp(ctx, e.stderr, err, "launch", "labelflow project status "+sp.ID, func(a *app.App) func(context.Context) (outcome, error) {
			return launchedLook(a, sp.ID)
		})
		out.Project = sp.ID
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(w, out.Project)
	return nil
}

func projectCancelCmd(e *env) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "cancel ID --reason TEXT",
		Short: "start no more chunks; running ones finish and are delivered (ops)",
		Args:  takes("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := e.config()
			if err != nil {
				return err
			}
			out, err := gateway.NewClient(cfg.GatewayURL, cfg.Token).Cancel(cmd.Context(), args[0], reason)
			if gateway.OutcomeUnknown(err) {
				return e.settleWithApp(cmd.Context(), cmd.OutOrStdout(), err, "cancellation", "labelflow project status "+args[0], func(a *app.App) func(context.Context) (outcome, error) {
					return cancelledLook(a, args[0])
				})
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "project %s cancelled: no more chunks start; the %d started of %d finish and are delivered\n", out.Project, out.ChunksStarted, out.Chunks)
			return nil
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why the project is cancelled (kept in its status and the audit log)")
	required(cmd, "reason")
	return cmd
}

func projectPauseCmd(e *env) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "pause ID --reason TEXT",
		Short: "offer no more work until resumed; leased suites can still be submitted (ops)",
		Args:  takes("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return pauseProject(cmd, e, args[0], reason, true)
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why the project is paused (kept in its status and the audit log)")
	required(cmd, "reason")
	return cmd
}

func projectResumeCmd(e *env) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "resume ID",
		Short: "offer a paused project's work again (ops)",
		Args:  takes("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return pauseProject(cmd, e, args[0], reason, false)
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "a note for the audit log")
	return cmd
}

// pauseProject pauses or resumes a project through the gateway as the person whose token is set.
func pauseProject(cmd *cobra.Command, e *env, project, reason string, pause bool) error {
	cfg, err := e.config()
	if err != nil {
		return err
	}
	c := gateway.NewClient(cfg.GatewayURL, cfg.Token)
	send, action := c.Resume, "resume"
	if pause {
		send, action = c.Pause, "pause"
	}
	out, err := send(cmd.Context(), project, reason)
	if gateway.OutcomeUnknown(err) {
		return e.settleWithApp(cmd.Context(), cmd.OutOrStdout(), err, action, "labelflow project status "+project, func(a *app.App) func(context.Context) (outcome, error) {
			return pausedLook(a, project, pause)
		})
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(cmd.OutOrStdout(), pauseState(out.Project, out.Paused))
	return nil
}

// pausedLook finds whether the project is paused (want true) or running (want false).
func pausedLook(a *app.App, project string, want bool) func(context.Context) (outcome, error) {
	return func(ctx context.Context) (outcome, error) {
		st, err := a.ProjectState(ctx, project)
		if err != nil {
			return outcome{}, err
		}
		paused := st.Paused != nil
		return outcome{done: paused == want, state: pauseState(project, paused)}, nil
	}
}

func pauseState(project string, paused bool) string {
	if paused {
		return "project " + project + " paused: no work is offered and no chunk starts; suites already leased can still be submitted"
	}
	return "project " + project + " running: its work is offered"
}

// statusOptions are the flags of project status.
type statusOptions struct{ watch, asJSON, chunks bool }

func projectStatusCmd(e *env) *cobra.Command {
	var o statusOptions
	cmd := &cobra.Command{
		Use:   "status ID",
		Short: "a project's progress, delivery and problems",
		Args:  takes("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withApp(cmd, func(ctx context.Context, a *app.App) error {
				return projectStatus(ctx, a, cmd.OutOrStdout(), args[0], o)
			})
		},
	}
	cmd.Flags().BoolVar(&o.watch, "watch", false, "redraw until the project completes")
	cmd.Flags().BoolVar(&o.asJSON, "json", false, "print JSON")
	cmd.Flags().BoolVar(&o.chunks, "chunks", false, "also list every finished chunk with its agreement")
	return cmd
}

func projectStatus(ctx context.Context, a *app.App, w io.Writer, id string, o statusOptions) error {
	if o.watch && !o.asJSON {
		v, err := a.WaitProject(ctx, id, progressPrinter(w))
		fmt.Fprintln(w)
		if err != nil {
			return err
		}
		printStatus(w, v)
		return nil
	}
	v, err := a.ProjectStatus(ctx, id)
	if err != nil {
		return err
	}
	if o.chunks {
		if v.Finished, err = a.FinishedChunks(ctx, id); err != nil {
			return err
		}
	}
	if o.asJSON {
		return printJSON(w, v)
	}
	printStatus(w, v)
	return nil
}

func projectListCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "every project with its client, stage and workflow status",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.withApp(cmd, func(ctx context.Context, a *app.App) error {
				return listProjects(ctx, a, cmd.OutOrStdout(), asJSON)
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func listProjects(ctx context.Context, a *app.App, w io.Writer, asJSON bool) error {
	list, err := a.ListProjects(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(w, list)
	}
	fmt.Fprintf(w, "%-32s %-16s %-12s %s\n", "PROJECT", "CLIENT", "STAGE", "WORKFLOW")
	for _, p := range list {
		fmt.Fprintf(w, "%-32s %-16s %-12s %s\n", p.ID, p.Client, p.Stage, strings.TrimPrefix(p.Status, "WORKFLOW_EXECUTION_STATUS_"))
	}
	return nil
}

func projectAnnotationsCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "annotations ID --csv",
		Short: "every raw answer of a project as task,worker,label",
		Args:  takes("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withApp(cmd, func(ctx context.Context, a *app.App) error {
				return annotationsCSV(ctx, a, cmd.OutOrStdout(), args[0])
			})
		},
	}
	cmd.Flags().Bool("csv", true, "CSV in the common crowd format (the only format)")
	return cmd
}

// annotationsCSV exports a project's raw answers in the common crowd format (task,worker,label),
// reviewers' answers included, from the stored results.
func annotationsCSV(ctx context.Context, a *app.App, out io.Writer, project string) error {
	w := csv.NewWriter(out)
	if err := w.Write([]string{"task", "worker", "label"}); err != nil {
		return err
	}
	err := a.ProjectResults(ctx, project, func(key string, lines []formats.Line) error {
		for _, l := range lines {
			if err := writeAnswers(w, l); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	w.Flush()
	return w.Error()
}

// writeAnswers writes one result line's answers, one row per person: the annotators' in order,
// then the reviewer's, whose answer is the line's label.
func writeAnswers(w *csv.Writer, l formats.Line) error {
	workers := append([]string(nil), l.Meta.Annotators...)
	answers := append([]json.RawMessage(nil), l.Meta.Answers...)
	if l.Meta.Reviewer != "" {
		workers = append(workers, l.Meta.Reviewer)
		answers = append(answers, l.Label)
	}
	for i, wk := range workers {
		if i >= len(answers) {
			break
		}
		if err := w.Write([]string{l.ID, wk, answerText(answers[i])}); err != nil {
			return err
		}
	}
	return nil
}

// answerText is a JSON string answer unquoted, any other answer as its JSON.
func answerText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(bytes.TrimSpace(raw))
}

func projectQualityCmd(e *env) *cobra.Command {
	var asCSV bool
	cmd := &cobra.Command{
		Use:   "quality ID",
		Short: "the project's quality report (also delivered as quality/report.json)",
		Args:  takes("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withApp(cmd, func(ctx context.Context, a *app.App) error {
				return projectQuality(ctx, a, cmd.OutOrStdout(), args[0], asCSV)
			})
		},
	}
	cmd.Flags().BoolVar(&asCSV, "csv", false, "per-person figures as CSV")
	return cmd
}

func projectQuality(ctx context.Context, a *app.App, w io.Writer, id string, asCSV bool) error {
	r, err := a.QualityReport(ctx, id)
	if err != nil {
		return fmt.Errorf("no quality report for %s (it is written when the project's delivery completes): %w", id, err)
	}
	if !asCSV {
		printQuality(w, r)
	}
	_, err = w.Write(quality.ReportCSV(r))
	return err
}

// printQuality prints the report's figures; the per-person CSV follows it.
func printQuality(w io.Writer, r quality.Report) {
	fmt.Fprintf(w, "project %s (%s): %d items, %d agreed, %d arbitrated\n  first-pass acceptance %.1f%%, arbitration rate %.1f%%, mean agreement %.3f, %.1f s per task\n",
		r.Project, r.AnnotationType, r.Items, r.Agreed, r.Arbitrated, 100*r.FirstPassRate, 100*r.ArbitrationRate, r.Agreement, r.SecondsPerTask)
	for _, c := range r.Chunks {
		fmt.Fprintf(w, "  chunk %d: %d items, %d arbitrated, agreement %.3f\n", c.Chunk, c.Items, c.Arbitrated, c.Agreement)
	}
	if r.GoldAccuracy <= 0 {
		return
	}
	fmt.Fprintf(w, "  gold accuracy %.1f%%\n", 100*r.GoldAccuracy)
	fmt.Fprint(w, quality.FormatCalibration(r))
}

func printStatus(w io.Writer, v app.ProjectView) {
	fmt.Fprintf(w, "project %s (client %s): %s\n", v.ID, v.Client, v.Stage)
	if c := v.Cancelled; c != nil {
		fmt.Fprintf(w, "  cancelled by %s at %s: %s (chunks started before it finish and are delivered)\n", c.By, c.At.Format(time.RFC3339), c.Reason)
	}
	if p := v.Paused; p != nil {
		fmt.Fprintf(w, "  paused by %s at %s: %s (no work is offered until `labelflow project resume %s`)\n", p.By, p.At.Format(time.RFC3339), p.Reason, v.ID)
	}
	fmt.Fprintf(w, "  manifest lines %d: %d items chunked into %d chunks, %d rejected", v.Lines, v.Items, v.Chunks, v.Rejects)
	if v.Rejects > 0 {
		fmt.Fprintf(w, " (see s3 platform key %s)", v.RejectsKey)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  items annotated twice %d, agreed %d, arbitrated %d, final %d, delivered %d\n", v.Annotated, v.Agreed, v.Arbitrated, v.Final, v.Done.Delivered)
	fmt.Fprintf(w, "  agreement %.1f%%, active leases %d, expired leases %d\n", 100*v.Agreement, v.Leases, v.Done.LeasesExpired)
	fmt.Fprintf(w, "  chunks done %d of %d, running %v\n", v.Done.Chunks, v.Chunks, v.Running)
	printChunks(w, v)
	printDelivery(w, v)
	for _, p := range v.Problems {
		fmt.Fprintf(w, "  problem: %s\n", p)
	}
	if v.Error != "" {
		fmt.Fprintf(w, "  error: %s\n", v.Error)
	}
}

func printChunks(w io.Writer, v app.ProjectView) {
	for _, c := range v.Live {
		fmt.Fprintf(w, "    chunk %d: %d/%d final, agreement %.1f%%, %d awaiting arbitration, %d leases\n", c.Chunk, c.Final, c.Items, 100*c.Agreement, c.AwaitingArbitration, c.ActiveLeases)
	}
	for _, c := range v.Finished {
		fmt.Fprintf(w, "    chunk %d: delivered %d items, agreement %.1f%%, %d arbitrated, %s sha256 %s\n", c.Chunk, c.Items, 100*c.Agreement, c.Arbitrated, c.Key, c.SHA256)
	}
}

func printDelivery(w io.Writer, v app.ProjectView) {
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
}

// progressPrinter redraws one line with a progress bar of final items. On a terminal the line is
// redrawn in place; otherwise a new line is written every few seconds.
func progressPrinter(w io.Writer) func(app.ProjectView) {
	last := time.Time{}
	every, lead, tail := 400*time.Millisecond, "\r", ""
	if !isTerminal(w) {
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

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
