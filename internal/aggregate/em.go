package aggregate

import "math"

// model is a confusion-matrix crowd model: class priors, one confusion matrix per worker
// (pi[w][j][l] = P(worker w answers l | true label j)), and the posterior over each task's true
// label. Dawid–Skene and Best share it and differ only in how the M-step estimates parameters.
type model struct {
	d        *dataset
	k        int
	prior    []float64 // k
	pi       []float64 // workers × k × k, row-major
	logPrior []float64
	logPi    []float64
	post     []float64 // tasks × k
	iters    int
	// skipSingles leaves tasks with a single answer out of the confusion counts (not the class
	// counts): their posterior only echoes that one answer back to its worker.
	skipSingles bool
}

func newModel(d *dataset) *model {
	k, w, t := len(d.labels), len(d.workers), len(d.tasks)
	return &model{
		d:        d,
		k:        k,
		prior:    make([]float64, k),
		pi:       make([]float64, w*k*k),
		logPrior: make([]float64, k),
		logPi:    make([]float64, w*k*k),
		post:     make([]float64, t*k),
	}
}

// initMajority sets each task's posterior to its vote shares.
func (m *model) initMajority() {
	votes, _ := m.d.majority()
	for i := range m.d.tasks {
		n := float64(m.d.start[i+1] - m.d.start[i])
		for j := 0; j < m.k; j++ {
			m.post[i*m.k+j] = votes[i*m.k+j] / n
		}
	}
}

// counts returns the expected confusion counts under the current posteriors,
// n[w][j][l] = Σ over tasks answered l by w of post[task][j], and the expected class counts.
func (m *model) counts() (n, class []float64) {
	k, kk := m.k, m.k*m.k
	n = make([]float64, len(m.pi))
	class = make([]float64, k)
	d := m.d
	for i := range d.tasks {
		p := m.post[i*k : (i+1)*k]
		for j, q := range p {
			class[j] += q
		}
		if m.skipSingles && d.start[i+1]-d.start[i] < 2 {
			continue
		}
		for a := d.start[i]; a < d.start[i+1]; a++ {
			base := int(d.aw[a])*kk + int(d.al[a])
			for j, q := range p {
				n[base+j*k] += q
			}
		}
	}
	return n, class
}

// setPrior sets the class priors to their posterior means under a symmetric Dirichlet prior of
// pseudo-count pseudo: prior[j] = (pseudo + class[j]) / (K·pseudo + tasks).
func (m *model) setPrior(class []float64, pseudo float64) {
	tasks := 0.0
	for _, c := range class {
		tasks += c
	}
	for j, c := range class {
		m.prior[j] = (pseudo + c) / (pseudo*float64(m.k) + tasks)
	}
}

// setRows fills every confusion row pi[w][j] with estimate, given the row's expected counts
// n[w][j][·] and their sum. The M-steps differ only in the estimate.
func (m *model) setRows(n []float64, estimate func(w, j int, counts []float64, sum float64, out []float64)) {
	k, kk := m.k, m.k*m.k
	for w := range m.d.workers {
		for j := 0; j < k; j++ {
			row := n[w*kk+j*k : w*kk+(j+1)*k]
			sum := 0.0
			for _, c := range row {
				sum += c
			}
			estimate(w, j, row, sum, m.pi[w*kk+j*k:w*kk+(j+1)*k])
		}
	}
}

// takeLogs refreshes the log parameters after an M-step.
func (m *model) takeLogs() {
	for j, p := range m.prior {
		m.logPrior[j] = math.Log(p)
	}
	for x, p := range m.pi {
		m.logPi[x] = math.Log(p)
	}
}

// logJoint writes log P(true = j, answers a in [from,to)) for every j into s.
func (m *model) logJoint(s []float64, from, to int32) {
	k, kk := m.k, m.k*m.k
	copy(s, m.logPrior)
	for a := from; a < to; a++ {
		base := int(m.d.aw[a])*kk + int(m.d.al[a])
		for j := range s {
			s[j] += m.logPi[base+j*k]
		}
	}
}

// normalize turns log joint probabilities into posteriors in place.
func normalize(s []float64) {
	mx := math.Inf(-1)
	for _, v := range s {
		mx = max(mx, v)
	}
	sum := 0.0
	for j, v := range s {
		s[j] = math.Exp(v - mx)
		sum += s[j]
	}
	for j := range s {
		s[j] /= sum
	}
}

// estep recomputes every task's posterior in log space and returns the largest change.
func (m *model) estep() float64 {
	k := m.k
	s := make([]float64, k)
	delta := 0.0
	for i := range m.d.tasks {
		m.logJoint(s, m.d.start[i], m.d.start[i+1])
		normalize(s)
		p := m.post[i*k : (i+1)*k]
		for j, v := range s {
			delta = max(delta, math.Abs(v-p[j]))
			p[j] = v
		}
	}
	return delta
}

// run alternates M- and E-steps from the current posteriors until no posterior moves by tol or
// more, or maxIter iterations.
func (m *model) run(mstep func(n, class []float64), maxIter int, tol float64) {
	for m.iters = 1; ; m.iters++ {
		mstep(m.counts())
		m.takeLogs()
		if m.estep() < tol || m.iters >= maxIter {
			return
		}
	}
}

// skills is Σ_j prior_j · pi[w][j][j] for every worker: the probability that the worker's answer
// is right on a task drawn from the class priors.
func (m *model) skills() []float64 {
	k, kk := m.k, m.k*m.k
	s := make([]float64, len(m.d.workers))
	for w := range s {
		for j := 0; j < k; j++ {
			s[w] += m.prior[j] * m.pi[w*kk+j*k+j]
		}
	}
	return s
}

// result labels each task with its most probable label (ties as in argmax) at that posterior.
func (m *model) result(method string) Result {
	label := make([]int, len(m.d.tasks))
	conf := make([]float64, len(m.d.tasks))
	for i := range m.d.tasks {
		p := m.post[i*m.k : (i+1)*m.k]
		label[i] = m.d.argmax(i, p)
		conf[i] = p[label[i]]
	}
	return m.d.result(method, label, conf, m.skills(), m.iters)
}

// restricted returns the posterior of task i given only its answers in [from,to), into s.
func (m *model) restricted(s []float64, from, to int32) {
	m.logJoint(s, from, to)
	normalize(s)
}
