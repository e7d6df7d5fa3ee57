package demo

import (
	"sync"
	"time"
)

// CPUSample is the CPU each process of the stack used over one interval of a run.
type CPUSample struct {
	At    time.Duration // since the sampler started, at the interval's end
	Every time.Duration // the interval's length
	Procs []ProcessCPU  // CPU seconds used in the interval
	RSS   []int64       // each process's resident memory at the interval's end, in Procs' order
}

// CPUSampler reads the stack's processes' CPU time every interval while a run goes on, so that
// a report can say which process was busy when, and whether one was saturated.
type CPUSampler struct {
	mu      sync.Mutex
	samples []CPUSample
	stop    chan struct{}
	done    chan struct{}
}

// StartCPUSampler samples e's processes every interval until Stop.
func StartCPUSampler(e *Env, every time.Duration) *CPUSampler {
	s := &CPUSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		start, last := time.Now(), stackCPU(e)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				now := stackCPU(e)
				s.mu.Lock()
				s.samples = append(s.samples, CPUSample{At: time.Since(start), Every: every, Procs: cpuSince(last, now), RSS: residentOf(now)})
				s.mu.Unlock()
				last = now
			}
		}
	}()
	return s
}

// Stop ends the sampling and returns the samples taken.
func (s *CPUSampler) Stop() []CPUSample {
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.samples
}

// residentOf reads each process's resident memory now (0 where it cannot be read).
func residentOf(procs []ProcessCPU) []int64 {
	out := make([]int64, len(procs))
	for i, p := range procs {
		out[i], _ = RSS(p.PID)
	}
	return out
}

// StackProcesses are the stack's processes (this one and its children), with the CPU seconds
// each has used so far.
func StackProcesses(e *Env) []ProcessCPU { return stackCPU(e) }
