package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// run executes a command line as main does, with the configuration loaded from the environment
// only if the command asks for it.
func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = execute(context.Background(), &env{stderr: &errOut}, args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{
		{"-h"}, {"--help"}, {"help"}, {"project", "--help"}, {"payroll", "status", "-h"},
		{"workforce", "token", "issue", "--help"}, {"bench", "delivery", "-h"}, {"help", "payroll", "reject"},
	} {
		code, out, errOut := run(t, args...)
		if code != 0 {
			t.Errorf("%v exited %d: %s", args, code, errOut)
		}
		if !strings.Contains(out, "Usage:") {
			t.Errorf("%v printed no usage on stdout:\n%s", args, out)
		}
	}
}

func TestPayrollStatusHelpListsOnlyItsFlags(t *testing.T) {
	_, out, _ := run(t, "payroll", "status", "-h")
	for _, want := range []string{"--month", "--json", "--help"} {
		if !strings.Contains(out, want) {
			t.Errorf("payroll status -h does not list %s:\n%s", want, out)
		}
	}
	for _, other := range []string{"--day", "--hour", "--chunks", "--force", "--person", "--reason", "--rejection", "--note", "--csv", "--project"} {
		if strings.Contains(out, other) {
			t.Errorf("payroll status -h lists %s, a flag of another payroll command:\n%s", other, out)
		}
	}
}

// A command line that is not understood exits 2, says what is wrong and changes nothing: each
// of these would otherwise need configuration or servers, which the test does not give.
func TestUsageErrorsExitTwo(t *testing.T) {
	for _, tc := range []struct {
		args []string
		says string
	}{
		{[]string{"payroll", "rejections", "--month", "2026-10", "--day", "9"}, "unknown flag: --month"},
		{[]string{"project", "status", "acme", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"payroll", "statu"}, "did you mean status?"},
		{[]string{"project", "launch"}, `required flag(s) "file" not set`},
		{[]string{"payroll", "hold", "--month", "2026-10", "--person", "p-1"}, `required flag(s) "reason" not set`},
		{[]string{"project", "status"}, "missing ID"},
		{[]string{"workforce", "import", "a.csv", "b.csv"}, `unexpected argument "b.csv"`},
		{[]string{"bench", "deliver"}, `unknown command "deliver"`},
	} {
		code, out, errOut := run(t, tc.args...)
		if code != exitUsage {
			t.Errorf("%v exited %d, want %d", tc.args, code, exitUsage)
		}
		if !strings.Contains(errOut, tc.says) || !strings.Contains(errOut, "--help") {
			t.Errorf("%v: stderr does not say %q and point at --help:\n%s", tc.args, tc.says, errOut)
		}
		if out != "" {
			t.Errorf("%v wrote to stdout:\n%s", tc.args, out)
		}
	}
}

func TestNoArgumentsPrintsHelpAndExitsTwo(t *testing.T) {
	for _, args := range [][]string{nil, {"payroll"}, {"workforce", "token"}} {
		code, _, errOut := run(t, args...)
		if code != exitUsage {
			t.Errorf("%v exited %d, want %d", args, code, exitUsage)
		}
		if !strings.Contains(errOut, "Available Commands:") && !strings.Contains(errOut, "Production processes:") {
			t.Errorf("%v did not print its commands on stderr:\n%s", args, errOut)
		}
	}
}

// Offline commands never load the configuration, so a bad LABELFLOW_* value cannot break them.
func TestOfflineCommandsIgnoreConfiguration(t *testing.T) {
	t.Setenv("LABELFLOW_CHUNK_WINDOW", "many")
	if code, _, errOut := run(t, "project", "list"); code != exitFailed || !strings.Contains(errOut, "LABELFLOW_CHUNK_WINDOW") {
		t.Fatalf("project list with a bad LABELFLOW_CHUNK_WINDOW exited %d, want 1 naming the variable: %s", code, errOut)
	}
	code, out, errOut := run(t, "quality", "compare")
	if code != 0 {
		t.Fatalf("quality compare exited %d: %s", code, errOut)
	}
	if !strings.Contains(out, "best") {
		t.Errorf("quality compare printed no comparison:\n%s", out)
	}
	if code, out, _ := run(t, "config"); code != 0 || !strings.Contains(out, "LABELFLOW_CHUNK_WINDOW") {
		t.Errorf("config exited %d without its table:\n%s", code, out)
	}
	if code, out, _ := run(t, "completion", "bash"); code != 0 || !strings.Contains(out, "labelflow") {
		t.Errorf("completion bash exited %d:\n%s", code, out)
	}
}

func TestConfigCheckReportsBadConfiguration(t *testing.T) {
	t.Setenv("LABELFLOW_CHUNK_WINDOW", "many")
	code, out, _ := run(t, "config", "--check")
	if code != exitFailed {
		t.Errorf("config --check exited %d, want %d", code, exitFailed)
	}
	if !strings.HasPrefix(out, "FAIL  configuration") || !strings.Contains(out, "LABELFLOW_CHUNK_WINDOW") {
		t.Errorf("config --check did not fail the configuration, naming the variable:\n%s", out)
	}
}

// Every command that is not a group says which arguments it takes: cobra would otherwise accept
// and ignore any.
func TestEveryCommandChecksItsArguments(t *testing.T) {
	for _, c := range commands(newRoot(&env{}, io.Discard, io.Discard)) {
		if c.Args == nil {
			t.Errorf("%s accepts any arguments", c.CommandPath())
		}
	}
}

// The README's "Command line" section names every command with every flag, one line per
// command, and nothing that does not exist.
func TestReadmeCommandLineMatchesCommands(t *testing.T) {
	lines := readmeCommandLines(t)
	root := newRoot(&env{}, io.Discard, io.Discard)
	seen := map[*cobra.Command]bool{}
	for _, line := range lines {
		for _, c := range checkReadmeLine(t, root, line) {
			seen[c] = true
		}
	}
	for _, c := range commands(root) {
		if c.Runnable() && c.Annotations[groupAnnotation] == "" && !seen[c] {
			t.Errorf("README's Command line section has no line for %q", c.CommandPath())
		}
	}
}

// readmeCommandLines are the lines of the first code block of README's "Command line" section.
func readmeCommandLines(t *testing.T) []string {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "\n## Command line\n")
	if !ok {
		t.Fatal(`README.md has no "## Command line" section`)
	}
	parts := strings.SplitN(section, "```", 3)
	if len(parts) < 3 {
		t.Fatal(`README.md's "Command line" section has no code block`)
	}
	var lines []string
	for _, l := range strings.Split(parts[1], "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

var flagToken = regexp.MustCompile(`(?:^|[\s\[])(--?[a-z][a-z0-9-]*)`)

// checkReadmeLine checks one README line and returns the commands it names: a path of
// subcommands (alternatives written a|b), then arguments and every flag of those commands.
func checkReadmeLine(t *testing.T, root *cobra.Command, line string) []*cobra.Command {
	words := strings.Fields(line)
	if len(words) == 0 || words[0] != "labelflow" {
		t.Errorf("README line does not start with labelflow (one line per command): %q", line)
		return nil
	}
	cmds := []*cobra.Command{root}
	rest := words[1:]
	for len(rest) > 0 {
		next, ok := subcommands(cmds, strings.Split(rest[0], "|"))
		if !ok {
			break
		}
		cmds, rest = next, rest[1:]
	}
	if len(rest) > 0 && cmds[0].HasSubCommands() && regexp.MustCompile(`^[a-z]`).MatchString(rest[0]) {
		t.Errorf("README line names %q, which is no subcommand of %q: %q", rest[0], cmds[0].CommandPath(), line)
	}
	for _, c := range cmds {
		if !c.Runnable() || c.Annotations[groupAnnotation] != "" {
			t.Errorf("README line names %q, which is not a command that runs: %q", c.CommandPath(), line)
			continue
		}
		checkReadmeFlags(t, c, line)
	}
	return cmds
}

// subcommands are the subcommands named by alts under each of cmds; ok when every one exists.
func subcommands(cmds []*cobra.Command, alts []string) ([]*cobra.Command, bool) {
	var out []*cobra.Command
	for _, c := range cmds {
		for _, name := range alts {
			sub := findSub(c, name)
			if sub == nil {
				return nil, false
			}
			out = append(out, sub)
		}
	}
	return out, true
}

func findSub(c *cobra.Command, name string) *cobra.Command {
	for _, sub := range c.Commands() {
		if sub.Name() == name {
			return sub
		}
	}
	return nil
}

// checkReadmeFlags checks that line names every flag of c and no flag c does not have.
func checkReadmeFlags(t *testing.T, c *cobra.Command, line string) {
	var named []string
	for _, m := range flagToken.FindAllStringSubmatch(line, -1) {
		named = append(named, m[1])
		if !hasFlag(c, m[1]) {
			t.Errorf("README line for %q names %s, which it does not have: %q", c.CommandPath(), m[1], line)
		}
	}
	c.LocalFlags().VisitAll(func(f *pflag.Flag) {
		if f.Name == "help" {
			return
		}
		if !slices.Contains(named, "--"+f.Name) && (f.Shorthand == "" || !slices.Contains(named, "-"+f.Shorthand)) {
			t.Errorf("README line for %q does not name --%s: %q", c.CommandPath(), f.Name, line)
		}
	})
}

func hasFlag(c *cobra.Command, token string) bool {
	if name, ok := strings.CutPrefix(token, "--"); ok {
		return c.Flags().Lookup(name) != nil
	}
	return c.Flags().ShorthandLookup(strings.TrimPrefix(token, "-")) != nil
}

// commands lists the tree below root, without cobra's help command and hidden commands.
func commands(root *cobra.Command) []*cobra.Command {
	var out []*cobra.Command
	for _, c := range root.Commands() {
		if c.Hidden || c.Name() == "help" {
			continue
		}
		out = append(out, c)
		out = append(out, commands(c)...)
	}
	return out
}
