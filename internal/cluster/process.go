//go:build linux

package cluster

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/labelflow/labelflow/internal/demo"
)

// process is one process of the cluster: a server or a LabelFlow process, started from a
// command line that is kept, so that it can be killed and started again as it was. Its output
// goes to a log file of its own.
type process struct {
	name    string
	argv    []string
	env     []string
	logFile string
	// user, when set, runs the process as that system user (PostgreSQL refuses to run as root).
	user *syscall.Credential
	// stopSignal ends it gently; SIGKILL follows after stopGrace.
	stopSignal syscall.Signal

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
	peakRSS int64 // the highest VmHWM read from any of its runs, in bytes
	starts  int
	// CPU seconds used by it and its children: by the runs that ended, and by the current run at
	// the last reading.
	cpuEnded, cpuRun float64
}

const stopGrace = 15 * time.Second

// start runs the process; it is an error to start one that runs.
func (p *process) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		select {
		case <-p.exited:
		default:
			return fmt.Errorf("%s runs already (pid %d)", p.name, p.cmd.Process.Pid)
		}
	}
	out, err := os.OpenFile(p.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "---- %s start %d at %s\n", p.name, p.starts+1, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(p.argv[0], p.argv[1:]...)
	cmd.Env, cmd.Stdout, cmd.Stderr = p.env, out, out
	// Its own process group, and SIGKILL when the test process goes away, so that no server
	// outlives a test that crashed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Credential: p.user}
	if err := cmd.Start(); err != nil {
		out.Close()
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		out.Close()
		close(exited)
	}()
	p.cmd, p.exited = cmd, exited
	p.starts++
	p.cpuEnded, p.cpuRun = p.cpuEnded+p.cpuRun, 0
	return nil
}

// running reports whether the process runs now.
func (p *process) running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// kill ends the process with SIGKILL, giving it no chance to clean up, and waits until it is gone.
func (p *process) kill() error {
	p.sample()
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd == nil {
		return fmt.Errorf("%s was never started", p.name)
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-exited:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("%s (pid %d) still runs after SIGKILL", p.name, cmd.Process.Pid)
	}
}

// stop ends the process with its stop signal, then SIGKILL after stopGrace.
func (p *process) stop() {
	p.sample()
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	sig := p.stopSignal
	if sig == 0 {
		sig = syscall.SIGTERM
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-exited:
	case <-time.After(stopGrace):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}
}

// sample reads the running process's peak resident set (VmHWM), keeping the highest seen (the
// kernel keeps the peak, so one reading before the process ends is enough), and the CPU time of
// it and its children.
func (p *process) sample() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	if rss, err := demo.PeakRSS(p.cmd.Process.Pid); err == nil && rss > p.peakRSS {
		p.peakRSS = rss
	}
	if cpu := treeCPUSeconds(p.cmd.Process.Pid); cpu > p.cpuRun {
		p.cpuRun = cpu
	}
}

// cpuSeconds is the CPU time the process used over all its runs, as last read.
func (p *process) cpuSeconds() float64 {
	p.sample()
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cpuEnded + p.cpuRun
}

// clockTicks is the unit of CPU times in /proc/<pid>/stat: USER_HZ, 100 on Linux.
const clockTicks = 100

// treeCPUSeconds adds up the user and system time of process pid and its live descendants, from
// /proc. (PostgreSQL's backends are its children, each in a session of its own.)
func treeCPUSeconds(pid int) float64 {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	children := map[int][]int{}
	cpu := map[int]float64{}
	for _, f := range stats {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		// The command name (field 2) is in parentheses and may hold spaces: fields count from
		// the last ')'.
		end := bytes.LastIndexByte(data, ')')
		start := bytes.IndexByte(data, ' ')
		if end < 0 || start < 0 {
			continue
		}
		fields := strings.Fields(string(data[end+1:]))
		// fields[0] is field 3 (state): the parent is field 4, utime and stime fields 14 and 15.
		if len(fields) < 13 {
			continue
		}
		self, _ := strconv.Atoi(string(data[:start]))
		parent, _ := strconv.Atoi(fields[1])
		utime, _ := strconv.ParseFloat(fields[11], 64)
		stime, _ := strconv.ParseFloat(fields[12], 64)
		children[parent] = append(children[parent], self)
		cpu[self] = (utime + stime) / clockTicks
	}
	total := 0.0
	for todo := []int{pid}; len(todo) > 0; {
		p := todo[len(todo)-1]
		todo = append(todo[:len(todo)-1], children[p]...)
		total += cpu[p]
	}
	return total
}

// peak is the highest peak resident set seen, in bytes (0 when never read).
func (p *process) peak() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.peakRSS
}

// logTail is the end of the process's log, for an error message.
func (p *process) logTail(lines int) string {
	data, err := os.ReadFile(p.logFile)
	if err != nil {
		return ""
	}
	all := bytes.Split(bytes.TrimRight(data, "\n"), []byte{'\n'})
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return string(bytes.Join(all, []byte{'\n'}))
}

// runs is how many times the process was started; the current run is the last.
func (p *process) runs() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.starts
}
