package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/labelflow/labelflow/internal/app"
	"github.com/labelflow/labelflow/internal/role"
	"github.com/labelflow/labelflow/internal/workforce"
)

func workforceCmd(e *env) *cobra.Command {
	return group("workforce", "the roster: annotators, reviewers, finance and ops people, and their tokens",
		workforceImportCmd(e),
		group("token", "give a person a token, replace it or take it away",
			tokenCmd(e, "issue", "print a new token for a person without one, once"),
			tokenCmd(e, "rotate", "replace a person's token (the old one stops working) and print the new one, once"),
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

// reportImport counts who was imported, and names (the first few of) those who cannot sign in yet.
func reportImport(out, errOut io.Writer, people []workforce.Person) {
	roles := map[string]int{}
	var tokenless []string
	for _, p := range people {
		roles[p.Role]++
		if p.TokenHash == "" {
			tokenless = append(tokenless, p.ID)
		}
	}
	fmt.Fprintf(out, "imported %d people (%d annotators, %d reviewers, %d finance, %d ops)\n", len(people),
		roles[role.Annotator], roles[role.Reviewer], roles[role.Finance], roles[role.Ops])
	if len(tokenless) == 0 {
		return
	}
	shown := tokenless
	if len(shown) > 5 {
		shown = append(shown[:5:5], "…")
	}
	fmt.Fprintf(errOut, "%d of them have no token and cannot sign in yet (%s); give each one with: labelflow workforce token issue ID\n",
		len(tokenless), strings.Join(shown, ", "))
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
