package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/labelflow/labelflow/internal/earnings"
	"github.com/labelflow/labelflow/internal/earnings/financetables"
	"github.com/labelflow/labelflow/internal/store"
)

func financeCmd(e *env) *cobra.Command {
	return group("finance", "the finance tables payroll converts and tops up with: exchange rates and minimum wages",
		group("rates", "a month's exchange rates", financeRatesImportCmd(e)),
		group("minimum-wage", "the minimum wage table", financeWagesImportCmd(e)),
		financeTablesCmd(e))
}

func financeRatesImportCmd(e *env) *cobra.Command {
	var month string
	cmd := &cobra.Command{
		Use:   "import FILE --month YYYY-MM",
		Short: "check a month's exchange rates against what its payroll converts, then store them",
		Long: `Import a month's exchange rates: a CSV file with the columns from,to,rate,source,date, such as

  USD,KES,129.35,Central Bank of Kenya,2026-05-29

meaning 1 USD = 129.35 KES, as the source published it on that date. A rate listed one way is used
the other way too (1/rate). Before anything is stored, the file is checked: every row (file:line:
column for each problem), each rate's source and date (on or after the month's first day, not
after today), and every conversion the month's payroll makes, from the currencies of its ledger
to the payout currencies of the people it pays, and from their country's minimum wage. A month
without work needs no rates; a month whose payroll has paid someone keeps the rates it was paid at.`,
		Args:    takes("FILE"),
		PreRunE: func(*cobra.Command, []string) error { return checkMonth(month) },
		RunE: func(cmd *cobra.Command, args []string) error {
			return importRates(cmd, e, args[0], month)
		},
	}
	cmd.Flags().StringVar(&month, "month", "", "the month the rates are for, `YYYY-MM`")
	required(cmd, "month")
	return cmd
}

func financeWagesImportCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "import FILE",
		Short: "check the minimum wage table against the people to be paid, then store it",
		Long: `Import the minimum wage table, in place of the one stored: a CSV file with the columns
country,currency,hourly_minimum,effective_from,source, such as

  KE,KES,120.50,2026-05-01,Kenya Regulation of Wages Order 2026

one row per country and date it took effect, each naming the legal instrument that sets it.
Before anything is stored, the file is checked: every row (file:line:column for each problem),
then a minimum wage in force this month for the country of every annotator and reviewer of the
roster and of everyone the ledger pays this month or last, and, for a month that has its rates,
a rate converting each of those minimum wages into the person's payout currency.`,
		Args: takes("FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return importWages(cmd, e, args[0])
		},
	}
}

func financeTablesCmd(e *env) *cobra.Command {
	var month string
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "tables [--month YYYY-MM]",
		Short:   "the stored minimum wages and exchange rates; with --month, what that month converts and which rates it lacks",
		Args:    noArgs,
		PreRunE: func(*cobra.Command, []string) error { return checkMonth(month) },
		RunE: func(cmd *cobra.Command, _ []string) error {
			return showTables(cmd, e, month, asJSON)
		},
	}
	cmd.Flags().StringVar(&month, "month", "", "also check the month `YYYY-MM` against its ledger")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// withStore runs fn with the platform store and the time it is in the payroll's time zone: the
// finance tables need no connection to Temporal.
func (e *env) withStore(cmd *cobra.Command, fn func(ctx context.Context, st *store.Store, now time.Time) error) error {
	cfg, err := e.config()
	if err != nil {
		return err
	}
	loc, err := time.LoadLocation(cfg.MonthTimeZone)
	if err != nil {
		return err
	}
	st, err := store.New(store.Options{Endpoint: cfg.StoreEndpoint, AccessKey: cfg.StoreAccessKey, SecretKey: cfg.StoreSecretKey,
		Region: cfg.StoreRegion, Bucket: cfg.StoreBucket})
	if err != nil {
		return err
	}
	return fn(cmd.Context(), st, time.Now().In(loc))
}

// checkMonth refuses a --month that is not YYYY-MM before the command runs: a usage error.
func checkMonth(month string) error {
	if _, err := time.Parse("2006-01", month); month != "" && (err != nil || len(month) != 7) {
		return fmt.Errorf("--month %q is not a month YYYY-MM", month)
	}
	return nil
}

func importRates(cmd *cobra.Command, e *env, file, month string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	return e.withStore(cmd, func(ctx context.Context, st *store.Store, now time.Time) error {
		imp, err := financetables.ImportRates(ctx, st, month, file, data, now)
		if err != nil {
			return err
		}
		w := cmd.OutOrStdout()
		fmt.Fprintf(w, "rates %s stored at %s (pairs: %d); %s\n", month, imp.Key, imp.Pairs, coverage(len(imp.Needs.Pairs)))
		if len(imp.Needs.Unknown) > 0 {
			fmt.Fprintf(cmd.ErrOrStderr(), "the ledger of %s pays %s, whom the roster does not have (or gives no payout currency): payroll will not pay them\n",
				month, firstFew(imp.Needs.Unknown))
		}
		if imp.PayrollRan {
			fmt.Fprintf(cmd.ErrOrStderr(), "payroll %s already ran with the rates it had: run it again (labelflow payroll run --month %s) before approving\n", month, month)
		}
		return nil
	})
}

// coverage says what stored rates cover of the n conversions the month's ledger needs so far.
func coverage(n int) string {
	if n == 0 {
		return "the month's ledger needs no conversion so far"
	}
	return fmt.Sprintf("they cover every conversion the month's ledger needs so far (%d)", n)
}

func importWages(cmd *cobra.Command, e *env, file string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	return e.withStore(cmd, func(ctx context.Context, st *store.Store, now time.Time) error {
		imp, err := financetables.ImportWages(ctx, st, now.Format("2006-01"), file, data)
		if err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "minimum wages: %d rows for %d countries stored at %s; checked for %s\n",
			imp.Rows, imp.Countries, imp.Key, strings.Join(imp.Months, " and "))
		return nil
	})
}

func showTables(cmd *cobra.Command, e *env, month string, asJSON bool) error {
	return e.withStore(cmd, func(ctx context.Context, st *store.Store, _ time.Time) error {
		o, err := financetables.Tables(ctx, st, month)
		if err != nil {
			return err
		}
		if asJSON {
			return printJSON(cmd.OutOrStdout(), o)
		}
		printTables(cmd.OutOrStdout(), o)
		return nil
	})
}

func printTables(w io.Writer, o financetables.Overview) {
	if len(o.Wages) == 0 {
		fmt.Fprintf(w, "minimum wages: none stored (%s); import them with labelflow finance minimum-wage import FILE\n", o.WageKey)
	} else {
		fmt.Fprintf(w, "minimum wages (%s):\n", o.WageKey)
		for _, r := range o.Wages {
			fmt.Fprintf(w, "  %s  %s %s an hour from %s  %s\n", r.Country, earnings.FormatMinor(r.HourlyMinor, r.Currency), r.Currency,
				r.EffectiveFrom.Format(time.DateOnly), r.Source)
		}
	}
	if len(o.Rates) == 0 {
		fmt.Fprintln(w, "exchange rates: none stored; import a month's with labelflow finance rates import FILE --month YYYY-MM")
	}
	for _, m := range o.Rates {
		fmt.Fprintf(w, "exchange rates %s (%s):\n", m.Month, m.Key)
		for _, p := range m.Pairs {
			fmt.Fprintf(w, "  %s→%s  %s  %s  %s\n", p.From, p.To, p.Rate, dateOrDash(p.Date), orDash(p.Source))
		}
	}
	for _, p := range o.Problems {
		fmt.Fprintf(w, "cannot be read: %s\n", p)
	}
	if o.Needs == nil {
		return
	}
	fmt.Fprintf(w, "payroll %s converts currency pairs: %d", o.Month, len(o.Needs.Pairs))
	if len(o.Missing) == 0 {
		fmt.Fprintln(w, "; the stored rates cover them all")
		return
	}
	fmt.Fprintf(w, "; the stored rates lack these (%d):\n", len(o.Missing))
	for _, m := range o.Missing {
		fmt.Fprintf(w, "  %s\n", m)
	}
}

func dateOrDash(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format(time.DateOnly)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
