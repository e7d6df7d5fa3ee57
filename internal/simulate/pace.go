package simulate

import (
	"math/rand/v2"
	"time"
)

// timeOn is how long a person spends on a suite of n tasks before submitting: Think, and TaskTime
// for each task give or take a quarter, so that a crowd does not submit in step. Without a
// TaskTime no random number is drawn, so a seed gives the same answers as it always did.
func (o Options) timeOn(rng *rand.Rand, n int) time.Duration {
	d := o.Think
	if o.TaskTime > 0 && n > 0 {
		d += time.Duration(float64(o.TaskTime) * float64(n) * (0.75 + rng.Float64()/2))
	}
	return d
}
