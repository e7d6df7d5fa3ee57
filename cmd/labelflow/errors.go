package main

import (
	"fmt"
	"io"
	"regexp"
	"strings"
)

// printError shows a failed command's error to the person who ran it, in plain words (see
// plainMessage), and a problem reported many times (one missing exchange rate, for every person
// paid in that currency) once, with a count.
func printError(w io.Writer, err error) {
	head, problems := collapseRepeats(plainMessage(err))
	if len(problems) == 0 {
		fmt.Fprintf(w, "labelflow: %s\n", head)
		return
	}
	fmt.Fprintln(w, strings.TrimSpace("labelflow: "+strings.TrimSuffix(strings.TrimSpace(head), ":")))
	for _, p := range problems {
		fmt.Fprintf(w, "  %s\n", p)
	}
}

// temporalWrapping matches what the Temporal SDK adds around an error's own words when it crosses
// a workflow or an activity: ids, event numbers, error types and retry flags mean nothing to the
// person reading, and the words they wrap already say what went wrong.
var temporalWrapping = []*regexp.Regexp{
	regexp.MustCompile(`(?:child )?workflow execution error \(type: [^()]*\): `),
	regexp.MustCompile(`activity error \(type: [^()]*\): `),
	regexp.MustCompile(` \(type: [A-Za-z0-9_.]+, retryable: (?:true|false)\)`),
	regexp.MustCompile(` \(type: (?:StartToClose|ScheduleToStart|ScheduleToClose|Heartbeat)\)`),
}

// plainMessage is err's message without the Temporal SDK's wrapping. It works on the text, so it
// also cleans messages that reached this process as text (from the gateway, or kept in a status).
func plainMessage(err error) string {
	msg := err.Error()
	for _, re := range temporalWrapping {
		msg = re.ReplaceAllString(msg, "")
	}
	return msg
}

// collapseRepeats splits a message that lists problems one per line (errors.Join) into its head
// and one line per distinct problem. Lines that end in the same words, after a subject such as the
// person they concern ("p-0007: … no exchange rate USD→KES …"), are one problem: it is printed
// once, with how many lines had it and the first few subjects. A message without repeated
// problems comes back whole, as the head.
func collapseRepeats(msg string) (head string, problems []string) {
	lines := strings.Split(msg, "\n")
	keys, repeated := sharedTails(lines)
	if !repeated {
		return msg, nil
	}
	head, lines[0] = splitHead(lines, keys)
	var order []string
	members := map[string][]string{}
	for i, l := range lines {
		if _, seen := members[keys[i]]; !seen {
			order = append(order, keys[i])
		}
		members[keys[i]] = append(members[keys[i]], l)
	}
	for _, k := range order {
		problems = append(problems, describeRepeat(k, members[k]))
	}
	return head, problems
}

// tails are the endings of line at which it may be cut: the whole line, then after each ": ".
func tails(line string) []string {
	out := []string{line}
	for i := strings.Index(line, ": "); i >= 0; {
		line = line[i+2:]
		out = append(out, line)
		i = strings.Index(line, ": ")
	}
	return out
}

// sharedTails gives each line its key: the ending (cut after a ": ") that the most lines share,
// the longest of those when several are shared as widely; a line sharing nothing is its own key.
// repeated reports whether any key is shared.
func sharedTails(lines []string) (keys []string, repeated bool) {
	count := map[string]int{}
	for _, l := range lines {
		for _, t := range tails(l) {
			count[t]++
		}
	}
	keys = make([]string, len(lines))
	for i, l := range lines {
		keys[i] = l
		for _, t := range tails(l) {
			if count[t] > count[keys[i]] {
				keys[i] = t
			}
		}
		repeated = repeated || count[keys[i]] > 1
	}
	return keys, repeated
}

// splitHead separates what the first line says about all the problems ("payroll 2026-10 cannot be
// computed: ") from its own problem, by cutting it to the shape of another line with the same
// problem. Without such a line, the first line stays whole and the head is empty.
func splitHead(lines, keys []string) (head, first string) {
	for i := 1; i < len(lines); i++ {
		if keys[i] != keys[0] {
			continue
		}
		extra := strings.Count(lines[0], ": ") - strings.Count(lines[i], ": ")
		if extra <= 0 {
			break
		}
		t := tails(lines[0])[extra]
		return strings.TrimSuffix(lines[0], t), t
	}
	return "", lines[0]
}

// describeRepeat is one problem line: a line of its own as it was; a repeated problem once, with
// how many lines had it and the subjects of the first few.
func describeRepeat(problem string, lines []string) string {
	if len(lines) == 1 {
		return lines[0]
	}
	const shown = 3
	var subjects []string
	for _, l := range lines {
		if subject, _, _ := strings.Cut(strings.TrimSuffix(l, problem), ": "); subject != "" {
			subjects = append(subjects, subject)
		}
	}
	if len(subjects) == 0 {
		return fmt.Sprintf("%s (%d times)", problem, len(lines))
	}
	named := strings.Join(subjects[:min(len(subjects), shown)], ", ")
	if len(subjects) > shown {
		named += fmt.Sprintf(" and %d more", len(subjects)-shown)
	}
	return fmt.Sprintf("%s (%d times: %s)", problem, len(lines), named)
}
