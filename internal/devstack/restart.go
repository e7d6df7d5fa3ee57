package devstack

import (
	"context"
	"fmt"
	"time"
)

// Server names one of the stack's servers.
type Server string

// The servers of a stack.
const (
	Temporal Server = "temporal"
	S3       Server = "versitygw"
)

// Kill ends a server with SIGKILL, as a crash or an OOM kill would, and waits until it is gone.
// Its state stays in the data directory; Restart starts it again.
func (s *Stack) Kill(server Server) error {
	p, err := s.server(server)
	if err != nil {
		return err
	}
	return p.kill()
}

// Restart starts a server that was killed again, on the same ports and the same data directory,
// and waits until it is ready.
func (s *Stack) Restart(ctx context.Context, server Server) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.temporal
	if server == S3 {
		old = s.s3
	}
	if old == nil || !old.exited() {
		return fmt.Errorf("devstack: %s is running; kill it before restarting it", server)
	}
	switch server {
	case Temporal:
		p, err := startTemporal(ctx, s.opts, s.temporalBin, s.dataDir, s.ports)
		if err != nil {
			return stopFailed(p, err)
		}
		s.temporal = p
	case S3:
		p, err := startS3(ctx, s.opts, s.s3Bin, s.dataDir, s.ports.s3)
		if err != nil {
			return stopFailed(p, err)
		}
		s.s3 = p
	default:
		return fmt.Errorf("devstack: no server %q", server)
	}
	return nil
}

// stopFailed stops a server that did not become ready and returns why.
func stopFailed(p *proc, err error) error {
	if p != nil {
		_ = p.stop(stopGracePeriod)
	}
	return err
}

func (s *Stack) server(server Server) (*proc, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch server {
	case Temporal:
		return s.temporal, nil
	case S3:
		return s.s3, nil
	}
	return nil, fmt.Errorf("devstack: no server %q", server)
}

// kill sends SIGKILL to the process group and waits for the process to be reaped. A later stop
// finds it stopped and reports nothing.
func (p *proc) kill() error {
	p.stopOnce.Do(func() {
		if p.exited() {
			return
		}
		if err := killGroup(p.cmd); err != nil && !p.exited() {
			p.stopErr = fmt.Errorf("devstack: kill %s: %w", p.name, err)
			return
		}
		select {
		case <-p.done:
		case <-time.After(killWait):
			p.stopErr = fmt.Errorf("devstack: %s (pid %d) did not exit after SIGKILL", p.name, p.cmd.Process.Pid)
		}
	})
	return p.stopErr
}
