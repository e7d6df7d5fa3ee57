// Package logging builds the zerolog logger every LabelFlow process uses and adapts it to the
// Temporal SDK's logger interface, so SDK and application logs come out as one JSON stream.
package logging

import (
	"fmt"
	"io"
	"os"

	"github.com/rs/zerolog"
	tlog "go.temporal.io/sdk/log"
)

// New returns a JSON logger at the given level writing to w (stderr when nil).
func New(level string, w io.Writer) zerolog.Logger {
	if w == nil {
		w = os.Stderr
	}
	lvl, err := zerolog.ParseLevel(level)
	if err != nil || level == "" {
		lvl = zerolog.InfoLevel
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger()
}

// Temporal adapts a zerolog logger to go.temporal.io/sdk/log.Logger.
type Temporal struct {
	l zerolog.Logger
}

// NewTemporal wraps l for the Temporal SDK.
func NewTemporal(l zerolog.Logger) *Temporal {
	return &Temporal{l: l.With().Str("component", "temporal-sdk").Logger()}
}

var _ tlog.Logger = (*Temporal)(nil)
var _ tlog.WithLogger = (*Temporal)(nil)

func (t *Temporal) Debug(msg string, keyvals ...any) { t.emit(t.l.Debug(), msg, keyvals) }
func (t *Temporal) Info(msg string, keyvals ...any)  { t.emit(t.l.Info(), msg, keyvals) }
func (t *Temporal) Warn(msg string, keyvals ...any)  { t.emit(t.l.Warn(), msg, keyvals) }
func (t *Temporal) Error(msg string, keyvals ...any) { t.emit(t.l.Error(), msg, keyvals) }

// With returns a logger that carries keyvals on every line.
func (t *Temporal) With(keyvals ...any) tlog.Logger {
	ctx := t.l.With()
	for i := 0; i+1 < len(keyvals); i += 2 {
		ctx = ctx.Interface(fmt.Sprint(keyvals[i]), keyvals[i+1])
	}
	return &Temporal{l: ctx.Logger()}
}

func (t *Temporal) emit(e *zerolog.Event, msg string, keyvals []any) {
	if e == nil {
		return
	}
	for i := 0; i+1 < len(keyvals); i += 2 {
		key := fmt.Sprint(keyvals[i])
		switch v := keyvals[i+1].(type) {
		case error:
			e = e.AnErr(key, v)
		case string:
			e = e.Str(key, v)
		default:
			e = e.Interface(key, v)
		}
	}
	if len(keyvals)%2 == 1 {
		e = e.Interface("extra", keyvals[len(keyvals)-1])
	}
	e.Msg(msg)
}
