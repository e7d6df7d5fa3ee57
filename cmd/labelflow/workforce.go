package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/labelflow/labelflow/internal/app"
	"github.com/labelflow/labelflow/internal/gateway"
	"github.com/labelflow/labelflow/internal/payoutdetails"
	"github.com/labelflow/labelflow/internal/pseudonym"
	"github.com/labelflow/labelflow/internal/role"
	"github.com/labelflow/labelflow/internal/workforce"
)

func workforceCmd(e *env) *cobra.Command {
	return group("workforce", "the roster: annotators, reviewers, finance and ops people, and their tokens",
		workforceImportCmd(e),
		workforceDeactivateCmd(e),
		workforcePayoutDetailsCmd(e),
		workforcePseudonymCmd(e),
		group("token", "give a person a token, replace it or take it away",
			tokenCmd(e, "issue", "print a new token for a person without one, once (re-activates a deactivated person)"),
			tokenCmd(e, "rotate", "replace a person's token (the old one stops working) and print the new one, once (re-activates)"),
			tokenCmd(e, "revoke", "take a person's token away: they stay in the roster and can no longer sign in"),
		))
}

func workforceImportCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "import ROSTER.csv",
		Short: "import annotators, reviewers, finance and ops people",
		Long: `Import annotators, reviewers, finance and ops people from a CSV roster.

Columns: id,name,country,role[,token,skills,languages,payout_method,payout_currency]
(skills and languages separated by ';'; a token, when given, must be one LabelFlow issued),
and optionally the payout detail columns of 'labelflow workforce payout-details import'.
Every bad line is reported with file, line and field, and nothing is imported until the file
is clean.`,
		Args: takes("ROSTER.csv"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return importRoster(cmd, e, args[0])
		},
	}
}

func importRoster(cmd *cobra.Command, e *env, file string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	entries, err := workforce.ParseCSV(file, f)
	if err != nil {
		return err
	}
	return e.withApp(cmd, func(ctx context.Context, a *app.App) error {
		if err := a.Store.EnsureBucket(ctx, a.Cfg.StoreBucket); err != nil {
			return err
		}
		roster, err := rosterWithPayoutDetails(a)
		if err != nil {
			return err
		}
		people, err := roster.Import(ctx, entries)
		if err != nil {
			return err
		}
		reportImport(cmd.OutOrStdout(), cmd.ErrOrStderr(), people)
		return nil
	})
}

// reportImport counts who was imported, and names (the first few of) those who cannot sign in:
// deactivated people, whom an import leaves inactive, and people without a token.
func reportImport(out, errOut io.Writer, people []workforce.Person) {
	roles := map[string]int{}
	var tokenless, inactive []string
	for _, p := range people {
		roles[p.Role]++
		switch {
		case p.Inactive:
			inactive = append(inactive, p.ID)
		case p.TokenHash == "":
			tokenless = append(tokenless, p.ID)
		}
	}
	fmt.Fprintf(out, "imported %d people (%d annotators, %d reviewers, %d finance, %d ops)\n", len(people),
		roles[role.Annotator], roles[role.Reviewer], roles[role.Finance], roles[role.Ops])
	if len(inactive) > 0 {
		fmt.Fprintf(errOut, "%d of them were deactivated and stay so (%s); a new token re-activates one: labelflow workforce token issue ID\n",
			len(inactive), firstFew(inactive))
	}
	if len(tokenless) > 0 {
		fmt.Fprintf(errOut, "%d of them have no token and cannot sign in yet (%s); give each one with: labelflow workforce token issue ID\n",
			len(tokenless), firstFew(tokenless))
	}
}

// firstFew names the first five ids, and says when there are more.
func firstFew(ids []string) string {
	if len(ids) > 5 {
		ids = append(ids[:5:5], "…")
	}
	return strings.Join(ids, ", ")
}

func workforceDeactivateCmd(e *env) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "deactivate PERSON --reason TEXT",
		Short: "stop a person signing in; they stay in the roster and their work is paid (ops, LABELFLOW_TOKEN)",
		Long: `Deactivate a person through the gateway, as the ops person whose token is set: their token
is revoked at once and they are marked inactive, so that no later roster import lets them sign in.
They stay in the roster, and payroll pays the work they did. Issuing them a token
(labelflow workforce token issue) re-activates them.`,
		Args: takes("PERSON"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return deactivatePerson(cmd, e, args[0], reason)
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why the person is deactivated (kept in the audit log)")
	required(cmd, "reason")
	return cmd
}

func deactivatePerson(cmd *cobra.Command, e *env, person, reason string) error {
	cfg, err := e.config()
	if err != nil {
		return err
	}
	_, err = gateway.NewClient(cfg.GatewayURL, cfg.Token).Deactivate(cmd.Context(), person, reason)
	if gateway.OutcomeUnknown(err) {
		return e.settleWithApp(cmd.Context(), cmd.OutOrStdout(), err, "deactivation", "labelflow workforce deactivate "+person, func(a *app.App) func(context.Context) (outcome, error) {
			return deactivatedLook(a, person)
		})
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s is deactivated: their token no longer works; they stay in the roster and their work is paid\n", person)
	return nil
}

// deactivatedLook finds whether a person is inactive.
func deactivatedLook(a *app.App, person string) func(context.Context) (outcome, error) {
	return func(ctx context.Context) (outcome, error) {
		p, err := a.Roster.Get(ctx, person)
		if err != nil {
			return outcome{}, err
		}
		if p.Inactive {
			return outcome{done: true, state: person + " is deactivated"}, nil
		}
		return outcome{state: person + " is active"}, nil
	}
}

// tokenCmd issues, rotates or revokes a person's token. A new token is the only thing printed on
// stdout, once, so that it can go straight to the person; LabelFlow keeps only its hash.
func tokenCmd(e *env, action, short string) *cobra.Command {
	return &cobra.Command{
		Use:   action + " PERSON",
		Short: short,
		Args:  takes("PERSON"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withApp(cmd, func(ctx context.Context, a *app.App) error {
				return changeToken(ctx, a, cmd.OutOrStdout(), cmd.ErrOrStderr(), action, args[0])
			})
		},
	}
}

func changeToken(ctx context.Context, a *app.App, out, errOut io.Writer, action, person string) error {
	if action == "revoke" {
		if err := a.Roster.RevokeToken(ctx, person); err != nil {
			return err
		}
		fmt.Fprintf(errOut, "%s's token is revoked: they stay in the roster and can no longer sign in\n", person)
		return nil
	}
	issue := a.Roster.IssueToken
	if action == "rotate" {
		issue = a.Roster.RotateToken
	}
	token, err := issue(ctx, person)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, token)
	if action == "rotate" {
		fmt.Fprintf(errOut, "%s's old token no longer works; ", person)
	}
	fmt.Fprintf(errOut, "the token above for %s is shown this once and cannot be shown again\n", person)
	return nil
}

func workforcePayoutDetailsCmd(e *env) *cobra.Command {
	return group("payout-details", "where people are paid: bank accounts and mobile-money numbers, kept encrypted",
		payoutDetailsImportCmd(e), payoutDetailsListCmd(e))
}

func payoutDetailsImportCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "import DETAILS.csv",
		Short: "import people's bank accounts or mobile-money numbers (LABELFLOW_PAYOUT_DETAILS_KEY)",
		Long: `Import where people of the roster are paid, kept encrypted under LABELFLOW_PAYOUT_DETAILS_KEY.

Columns: id,account_holder and, per line, one kind of account:
  iban[,bic]                          a bank account with an IBAN (check digits are checked)
  account_number,bank_code|bic        a bank account without an IBAN
  msisdn,operator                     a mobile-money number in E.164 (+254712345678) and its operator
The details must be for the payout method the roster gives the person. Every bad line is
reported with file, line and field, and nothing is imported until the file is clean. Accounts
are never printed in full: 'labelflow workforce payout-details list' shows their last four
characters.`,
		Args: takes("DETAILS.csv"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return importPayoutDetails(cmd, e, args[0])
		},
	}
}

func importPayoutDetails(cmd *cobra.Command, e *env, file string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	entries, err := payoutdetails.ParseCSV(file, f)
	if err != nil {
		return err
	}
	return e.withApp(cmd, func(ctx context.Context, a *app.App) error {
		roster, err := rosterWithPayoutDetails(a)
		if err != nil {
			return err
		}
		if err := roster.ImportPayoutDetails(ctx, entries); err != nil {
			return err
		}
		methods := map[string]int{}
		for _, en := range entries {
			methods[en.Details.Method()]++
		}
		fmt.Fprintf(cmd.OutOrStdout(), "kept the payout details of %d people, encrypted (%d bank accounts, %d mobile-money numbers)\n",
			len(entries), methods[payoutdetails.BankTransfer], methods[payoutdetails.MobileMoney])
		return nil
	})
}

func payoutDetailsListCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--json]",
		Short: "everyone's payout account, masked, and who would be held for want of one",
		Args:  takes(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.withApp(cmd, func(ctx context.Context, a *app.App) error {
				roster, err := rosterWithPayoutDetails(a)
				if err != nil {
					return err
				}
				shown, err := roster.ShowPayoutDetails(ctx)
				if err != nil {
					return err
				}
				return printPayoutDetails(cmd.OutOrStdout(), shown, asJSON)
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func printPayoutDetails(w io.Writer, shown []workforce.PayoutDetailsShown, asJSON bool) error {
	if asJSON {
		return json.NewEncoder(w).Encode(map[string]any{"people": shown})
	}
	for _, s := range shown {
		line := fmt.Sprintf("%-24s %-14s %s", s.Person, s.Method, s.Account)
		if s.Problem != "" {
			line += "  held at payout: " + s.Problem
		}
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	return nil
}

// rosterWithPayoutDetails is the roster with the vault of payout details, which it needs to keep
// the details a roster file gives.
func rosterWithPayoutDetails(a *app.App) (workforce.Roster, error) {
	vault, err := payoutdetails.NewVault(a.Store, a.Cfg.PayoutDetailsKey)
	if err != nil {
		return workforce.Roster{}, fmt.Errorf("configuration: LABELFLOW_PAYOUT_DETAILS_KEY: %w", err)
	}
	roster := a.Roster
	roster.Details = vault
	return roster, nil
}

func workforcePseudonymCmd(e *env) *cobra.Command {
	var client, person string
	cmd := &cobra.Command{
		Use:   "pseudonym --client CLIENT (PSEUDONYM | --person PERSON)",
		Short: "who a pseudonym in a client's files is, or a person's pseudonym for a client (finance)",
		Long: `Client files name annotators and reviewers by a pseudonym per client (an HMAC of the client
and the person under LABELFLOW_PSEUDONYM_KEY), never by roster id. Given a pseudonym from one of
a client's files, print the roster id of the person it stands for; given --person, print that
person's pseudonym for the client.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("person") {
				return takes()(cmd, args)
			}
			return takes("PSEUDONYM")(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withApp(cmd, func(ctx context.Context, a *app.App) error {
				return printPseudonym(ctx, cmd.OutOrStdout(), a, client, person, args)
			})
		},
	}
	cmd.Flags().StringVar(&client, "client", "", "the client whose files carry the pseudonym")
	cmd.Flags().StringVar(&person, "person", "", "print this person's pseudonym for the client")
	required(cmd, "client")
	return cmd
}

// printPseudonym maps a pseudonym back through the roster, or names a person's pseudonym.
func printPseudonym(ctx context.Context, out io.Writer, a *app.App, client, person string, args []string) error {
	names, err := pseudonym.New(a.Cfg.PseudonymKey)
	if err != nil {
		return fmt.Errorf("configuration: LABELFLOW_PSEUDONYM_KEY: %w", err)
	}
	if person != "" {
		if _, err := a.Roster.Get(ctx, person); err != nil {
			return err
		}
		fmt.Fprintln(out, names.Of(client, person))
		return nil
	}
	people, err := a.Roster.List(ctx)
	if err != nil {
		return err
	}
	ids := make([]string, len(people))
	for i, p := range people {
		ids[i] = p.ID
	}
	who, err := names.Find(client, args[0], ids)
	if err != nil {
		return fmt.Errorf("%s for client %s: %w", args[0], client, err)
	}
	fmt.Fprintln(out, who)
	return nil
}
