package store

import (
	"errors"
	"sync/atomic"
	"testing"
)

func TestParallel(t *testing.T) {
	var sum, running, peak atomic.Int64
	err := Parallel(100, 4, func(i int) error {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		sum.Add(int64(i))
		running.Add(-1)
		return nil
	})
	if err != nil || sum.Load() != 4950 || peak.Load() > 4 {
		t.Fatalf("sum %d, peak %d, err %v", sum.Load(), peak.Load(), err)
	}
	boom := errors.New("boom")
	if err := Parallel(10, 2, func(i int) error {
		if i == 3 {
			return boom
		}
		return nil
	}); !errors.Is(err, boom) {
		t.Fatalf("error = %v", err)
	}
}
