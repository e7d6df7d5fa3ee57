package devstack

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

const (
	// outputTailLines is how many recent output lines are kept per process.
	outputTailLines = 40
	// maxLineBytes bounds a single buffered output line; longer lines are
	// emitted in pieces.
	maxLineBytes = 64 << 10
	// killWait is how long to wait for a process to disappear after SIGKILL.
	killWait = 5 * time.Second
	// pipeWaitDelay bounds how long Wait keeps reading output once the
	// process itself has exited.
	pipeWaitDelay = 2 * time.Second
)

// proc is one supervised server process.
type proc struct {
	name   string
	cmd    *exec.Cmd
	out    *outputLog
	logger zerolog.Logger

	done    chan struct{} // closed once the process has been reaped
	waitErr error         // result of cmd.Wait; valid once done is closed

	stopOnce sync.Once
	stopErr  error
}

// startProcess starts bin with args in its own process group, tied to the
// lifetime of this process, with its output forwarded to logger line by line.
func startProcess(logger zerolog.Logger, name, bin string, args, env []string, dir string) (*proc, error) {
	plog := logger.With().Str("proc", name).Logger()
	out := newOutputLog(plog, outputTailLines)

	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Dir = dir
	cmd.Stdout = out.writer()
	cmd.Stderr = out.writer()
	cmd.WaitDelay = pipeWaitDelay
	setProcAttrs(cmd)

	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("devstack: starting %s (%s): %w", name, bin, err)
	}
	plog.Debug().Int("pid", cmd.Process.Pid).Str("cmd", cmd.String()).Msg("started")

	p := &proc{name: name, cmd: cmd, out: out, logger: plog, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		out.flush()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has already terminated.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// failure builds an error about this process that carries its recent output.
func (p *proc) failure(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if p.exited() {
		msg += fmt.Sprintf(" (process exited: %s)", exitDescription(p.waitErr))
	}
	return fmt.Errorf("devstack: %s: %s%s", p.name, msg, p.out.tailSection(p.name))
}

// stop terminates the process group with SIGTERM, escalates to SIGKILL after
// grace, and waits for the process to be reaped. It is idempotent.
func (p *proc) stop(grace time.Duration) error {
	p.stopOnce.Do(func() { p.stopErr = p.doStop(grace) })
	return p.stopErr
}

func (p *proc) doStop(grace time.Duration) error {
	if p.exited() {
		return p.failure("exited unexpectedly before being stopped")
	}
	if err := terminateGroup(p.cmd); err != nil && !p.exited() {
		p.logger.Warn().Err(err).Msg("sending SIGTERM failed")
	}
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-p.done:
		return nil
	case <-timer.C:
	}
	p.logger.Warn().Dur("grace", grace).Msg("did not exit after SIGTERM; sending SIGKILL")
	if err := killGroup(p.cmd); err != nil && !p.exited() {
		p.logger.Warn().Err(err).Msg("sending SIGKILL failed")
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(killWait):
		return fmt.Errorf("devstack: %s (pid %d) did not exit after SIGKILL", p.name, p.cmd.Process.Pid)
	}
}

// stopAll stops the given processes concurrently and joins their errors.
func stopAll(grace time.Duration, procs ...*proc) error {
	errs := make([]error, len(procs))
	var wg sync.WaitGroup
	for i, p := range procs {
		if p == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = p.stop(grace)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func exitDescription(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// outputLog forwards process output to a logger and keeps the last lines.
type outputLog struct {
	logger zerolog.Logger
	limit  int

	mu      sync.Mutex
	lines   []string
	writers []*lineWriter
}

func newOutputLog(logger zerolog.Logger, limit int) *outputLog {
	return &outputLog{logger: logger, limit: limit}
}

// writer returns a new io.Writer for one output stream. Each stream gets its
// own writer so that partial lines of stdout and stderr never interleave.
func (o *outputLog) writer() *lineWriter {
	w := &lineWriter{log: o}
	o.mu.Lock()
	o.writers = append(o.writers, w)
	o.mu.Unlock()
	return w
}

func (o *outputLog) line(s string) {
	s = strings.TrimRight(s, "\r")
	o.logger.Debug().Msg(s)
	o.mu.Lock()
	defer o.mu.Unlock()
	o.lines = append(o.lines, s)
	if len(o.lines) > o.limit {
		o.lines = append(o.lines[:0], o.lines[len(o.lines)-o.limit:]...)
	}
}

// flush emits any unterminated trailing lines. It must only be called once
// the process's output streams are closed.
func (o *outputLog) flush() {
	o.mu.Lock()
	writers := o.writers
	o.mu.Unlock()
	for _, w := range writers {
		if len(w.buf) > 0 {
			o.line(string(w.buf))
			w.buf = w.buf[:0]
		}
	}
}

// tail returns the most recent output lines.
func (o *outputLog) tail() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.lines...)
}

// tailSection formats the recent output for inclusion in an error message.
func (o *outputLog) tailSection(name string) string {
	lines := o.tail()
	if len(lines) == 0 {
		return fmt.Sprintf("\n--- %s produced no output ---", name)
	}
	return fmt.Sprintf("\n--- last %d lines of %s output ---\n%s", len(lines), name, strings.Join(lines, "\n"))
}

// lineWriter splits a byte stream into lines. It is written to by a single
// goroutine (the one os/exec uses to copy the stream).
type lineWriter struct {
	log *outputLog
	buf []byte
}

func (w *lineWriter) Write(b []byte) (int, error) {
	w.buf = append(w.buf, b...)
	rest := w.buf
	for {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			break
		}
		w.log.line(string(rest[:i]))
		rest = rest[i+1:]
	}
	for len(rest) >= maxLineBytes {
		w.log.line(string(rest[:maxLineBytes]))
		rest = rest[maxLineBytes:]
	}
	w.buf = append(w.buf[:0], rest...)
	return len(b), nil
}

// contains reports whether any recent output line contains substr.
func (o *outputLog) contains(substr string) bool {
	for _, l := range o.tail() {
		if strings.Contains(l, substr) {
			return true
		}
	}
	return false
}
