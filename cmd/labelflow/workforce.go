package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/labelflow/labelflow/internal/app"
	"github.com/labelflow/labelflow/internal/gateway"
	"github.com/labelflow/labelflow/internal/role"
	"github.com/labelflow/labelflow/internal/workforce"
)

func workforceCmd(e *env) *cobra.Command {
	return group("workforce", "the roster: annotators, reviewers, finance and ops people, and their tokens",
		workforceImportCmd(e),
		workforceDeactivateCmd(e),
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
(skills and languages separated by ';'; a token, when given, must be one LabelFlow issued).
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
		people, err := a.Roster.Import(ctx, entries)
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
