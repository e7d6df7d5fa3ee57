package demo

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/labelflow/labelflow/config"
	"github.com/labelflow/labelflow/internal/devstack"
)

// KillStack is the embedded stack with the worker in a process of its own, for fault runs: the
// worker, Temporal and the S3 server can each be killed and started again, while the gateway
// serves on in this process.
type KillStack struct {
	*Env
	workerBin string

	mu     sync.Mutex
	worker *exec.Cmd
	exited chan struct{} // closed once the current worker has exited
}

// StartKillStack starts the servers, a worker process running workerBin (a labelflow binary)
// with cfg, and the gateway.
func StartKillStack(ctx context.Context, cfg config.Config, o StackOptions, workerBin string, log zerolog.Logger) (*KillStack, error) {
	// The worker's configuration names the servers' ports, so they are chosen before it starts.
	for _, port := range []*int{&o.TemporalPort, &o.S3Port} {
		if *port == 0 {
			p, err := devstack.FreePort()
			if err != nil {
				return nil, err
			}
			*port = p
		}
	}
	cfg.TemporalAddress = fmt.Sprintf("127.0.0.1:%d", o.TemporalPort)
	cfg.StoreEndpoint = fmt.Sprintf("http://127.0.0.1:%d", o.S3Port)
	ks := &KillStack{workerBin: workerBin}
	o.WorkerCommand = ks.workerCommand(cfg)
	e, err := Start(ctx, cfg, o, log)
	if err != nil {
		return nil, err
	}
	ks.Env = e
	ks.worker, ks.exited = e.Worker, make(chan struct{})
	go func() {
		// Start's own wait reports the first worker's exit; it is put back for Stop to find.
		err := <-e.done
		e.done <- err
		close(ks.exited)
	}()
	return ks, nil
}

// workerCommand runs the worker with the whole of cfg, in the environment where the worker
// reads it.
func (ks *KillStack) workerCommand(cfg config.Config) []string {
	return append(append([]string{"env"}, Environ(cfg)...), ks.workerBin, "worker")
}

// KillWorker ends the worker with SIGKILL, with no chance to clean up, and waits until it is gone.
func (ks *KillStack) KillWorker() error {
	ks.mu.Lock()
	cmd, exited := ks.worker, ks.exited
	ks.mu.Unlock()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill worker %d: %w", cmd.Process.Pid, err)
	}
	select {
	case <-exited:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("worker %d still runs after SIGKILL", cmd.Process.Pid)
	}
}

// StartWorker starts a new worker process, after the last one was killed.
func (ks *KillStack) StartWorker() error {
	args := ks.workerCommand(ks.Cfg)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = os.Environ()
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start worker process: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	ks.mu.Lock()
	ks.worker, ks.exited = cmd, exited
	ks.mu.Unlock()
	return nil
}

// Kill ends Temporal or the S3 server with SIGKILL.
func (ks *KillStack) Kill(server devstack.Server) error { return ks.Stack.Kill(server) }

// Restart starts a killed server again on its ports and data directory.
func (ks *KillStack) Restart(ctx context.Context, server devstack.Server) error {
	return ks.Stack.Restart(ctx, server)
}

// Stop stops the worker started last, then the gateway and the servers.
func (ks *KillStack) Stop() {
	ks.mu.Lock()
	cmd, exited := ks.worker, ks.exited
	ks.mu.Unlock()
	if cmd != ks.Env.Worker {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	ks.Env.Stop()
}

// Environ is cfg as the LABELFLOW_* variables it is read from, so that a child process runs with
// the same configuration.
func Environ(cfg config.Config) []string {
	var env []string
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Anonymous && f.Type.Kind() == reflect.Struct {
				walk(v.Field(i))
				continue
			}
			if name := f.Tag.Get("envconfig"); name != "" {
				env = append(env, fmt.Sprintf("%s=%v", name, v.Field(i).Interface()))
			}
		}
	}
	walk(reflect.ValueOf(cfg))
	return env
}
