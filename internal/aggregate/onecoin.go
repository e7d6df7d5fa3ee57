package aggregate

import "math"

// OneCoin is the one-coin Dawid–Skene model (crowd-kit's OneCoinDawidSkene) fitted by EM: worker
// w answers the true label with probability a_w and each other label with (1−a_w)/(K−1), the
// same on every class. EM starts from the majority-vote shares; the M-step sets
//
//	a_w = (α + agree_w) / (2α + answers_w),  prior[j] = (α + n[j]) / (Kα + tasks)
//
// with α = DefaultSmoothing, and it stops as DawidSkene does. It keeps K + workers parameters
// rather than a K×K matrix per worker, so it runs on label sets too large for the others. It is
// the baseline that Best must match on symmetric crowds; on crowds whose accuracy depends on the
// class it explains the difference away with the class prior and can label almost every task
// with one class.
func OneCoin(answers []Answer) Result {
	d := newDataset(answers)
	if len(d.tasks) == 0 {
		return d.result("onecoin", nil, nil, nil, 0)
	}
	return newOneCoin(d).fit(DefaultMaxIter, DefaultTolerance)
}

type oneCoin struct {
	d     *dataset
	k     int
	post  []float64 // tasks × k
	prior []float64
	acc   []float64 // per worker
}

func newOneCoin(d *dataset) *oneCoin {
	k := len(d.labels)
	c := &oneCoin{d: d, k: k, post: make([]float64, len(d.tasks)*k), prior: make([]float64, k), acc: make([]float64, len(d.workers))}
	votes, _ := d.majority()
	for i := range d.tasks {
		n := float64(d.start[i+1] - d.start[i])
		for j := 0; j < k; j++ {
			c.post[i*k+j] = votes[i*k+j] / n
		}
	}
	return c
}

func (c *oneCoin) fit(maxIter int, tol float64) Result {
	iters, converged := 0, false
	for iters = 1; ; iters++ {
		c.mstep()
		converged = c.estep() < tol
		if converged || iters >= maxIter {
			break
		}
	}
	label := make([]int, len(c.d.tasks))
	conf := make([]float64, len(c.d.tasks))
	for i := range c.d.tasks {
		p := c.post[i*c.k : (i+1)*c.k]
		label[i] = c.d.argmax(i, p)
		conf[i] = p[label[i]]
	}
	r := c.d.result("onecoin", label, conf, c.acc, iters)
	r.Converged = converged
	return r
}

func (c *oneCoin) mstep() {
	d, k := c.d, c.k
	const alpha = DefaultSmoothing
	agree := make([]float64, len(d.workers))
	total := make([]float64, len(d.workers))
	class := make([]float64, k)
	for i := range d.tasks {
		p := c.post[i*k : (i+1)*k]
		for j, q := range p {
			class[j] += q
		}
		for a := d.start[i]; a < d.start[i+1]; a++ {
			agree[d.aw[a]] += p[d.al[a]]
			total[d.aw[a]]++
		}
	}
	for w := range c.acc {
		c.acc[w] = (alpha + agree[w]) / (2*alpha + total[w])
	}
	for j := range class {
		c.prior[j] = (alpha + class[j]) / (float64(k)*alpha + float64(len(d.tasks)))
	}
}

// estep recomputes the posteriors and returns the largest change. Every label first gets each
// answer's "wrong" weight log((1−a)/(K−1)); the label answered gets the difference on top.
func (c *oneCoin) estep() float64 {
	d, k := c.d, c.k
	s := make([]float64, k)
	delta := 0.0
	for i := range d.tasks {
		base := 0.0
		for j := range s {
			s[j] = math.Log(c.prior[j])
		}
		for a := d.start[i]; a < d.start[i+1]; a++ {
			acc := c.acc[d.aw[a]]
			wrong := 0.0
			if k > 1 {
				wrong = math.Log((1 - acc) / float64(k-1))
			}
			base += wrong
			s[d.al[a]] += math.Log(acc) - wrong
		}
		for j := range s {
			s[j] += base
		}
		normalize(s)
		p := c.post[i*k : (i+1)*k]
		for j, v := range s {
			delta = max(delta, math.Abs(v-p[j]))
			p[j] = v
		}
	}
	return delta
}
