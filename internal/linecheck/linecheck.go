// Package linecheck reports the bad lines of a file people import (a roster, payout details):
// every problem with its file, line and field, and nothing imported while there is one.
package linecheck

import (
	"fmt"
	"strings"
)

// LineError is a bad line of an imported file.
type LineError struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (e LineError) Error() string {
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Field, e.Msg)
}

// ImportError lists every bad line of a file of What (e.g. "roster"); nothing is imported when
// there is one.
type ImportError struct {
	What  string
	Lines []LineError
}

func (e *ImportError) Error() string {
	msgs := make([]string, len(e.Lines))
	for i, l := range e.Lines {
		msgs[i] = l.Error()
	}
	return fmt.Sprintf("%d bad %s line(s); nothing was imported:\n  %s", len(e.Lines), e.What, strings.Join(msgs, "\n  "))
}
