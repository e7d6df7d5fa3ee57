package simulate

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestTimeOnASuite(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	if d := (Options{}).timeOn(rng, 10); d != 0 {
		t.Errorf("a fast crowd spends %v", d)
	}
	if d := (Options{Think: time.Second}).timeOn(rng, 10); d != time.Second {
		t.Errorf("think alone: %v", d)
	}
	o := Options{Think: time.Second, TaskTime: 2 * time.Second}
	seen := map[time.Duration]bool{}
	for range 200 {
		d := o.timeOn(rng, 5) // 1 s + 5 × (1.5 s to 2.5 s)
		if d < 8500*time.Millisecond || d > 13500*time.Millisecond {
			t.Fatalf("5 tasks of 2 s take %v", d)
		}
		seen[d] = true
	}
	if len(seen) < 100 {
		t.Errorf("the time varies little: %d values in 200 suites", len(seen))
	}
	// Without a task time, no random number is drawn: a seed answers as before.
	a, b := rand.New(rand.NewPCG(7, 7)), rand.New(rand.NewPCG(7, 7))
	(Options{Think: time.Second}).timeOn(a, 3)
	if a.Uint64() != b.Uint64() {
		t.Error("timeOn drew a random number without a task time")
	}
}
