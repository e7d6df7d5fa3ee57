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
	// converged is set by run: the last E-step moved no posterior by the tolerance or more.
	converged bool
	// skipSingles leaves tasks with a single answer out of the confusion counts (not the class
	// counts): their posterior only echoes that one answer back to its worker.
	skipSingles bool
	// n and class are the expected counts, kept between iterations to spare the allocation.
	n, class []float64
	// skill, when set, replaces the skills computed from pi in the result (Best's prior guard
	// keeps the skills of the fit it reports).
	skill []float64
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
	if m.n == nil {
		m.n, m.class = make([]float64, len(m.pi)), make([]float64, k)
	}
	n, class = m.n, m.class
	clear(n)
	clear(class)
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
// more (converged), or maxIter iterations.
func (m *model) run(mstep func(n, class []float64), maxIter int, tol float64) {
	for m.iters = 1; ; m.iters++ {
		mstep(m.counts())
		m.takeLogs()
		m.converged = m.estep() < tol
		if m.converged || m.iters >= maxIter {
			return
		}
	}
}

// logLikelihood is the log-probability of all the answers under the current parameters, the
// true labels summed out: Σ_tasks log Σ_j prior_j Π_answers pi[w][j][l].
func (m *model) logLikelihood() float64 {
	s := make([]float64, m.k)
	ll := 0.0
	for i := range m.d.tasks {
		m.logJoint(s, m.d.start[i], m.d.start[i+1])
		ll += logSumExp(s)
	}
	return ll
}

// information is the mean over tasks of KL(posterior ‖ prior), in nats: how much the answers
// moved the model's belief about each task's label. Near 0 the fit says the answers carry no
// information.
func (m *model) information() float64 {
	k := m.k
	total := 0.0
	for i := range m.d.tasks {
		for j, p := range m.post[i*k : (i+1)*k] {
			if p > 0 {
				total += p * math.Log(p/m.prior[j])
			}
		}
	}
	return total / float64(max(len(m.d.tasks), 1))
}

func logSumExp(s []float64) float64 {
	mx := math.Inf(-1)
	for _, v := range s {
		mx = max(mx, v)
	}
	sum := 0.0
	for _, v := range s {
		sum += math.Exp(v - mx)
	}
	return mx + math.Log(sum)
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
	skill := m.skill
	if skill == nil {
		skill = m.skills()
	}
	r := m.d.result(method, label, conf, skill, m.iters)
	r.Converged = m.converged
	return r
}

// restricted returns the posterior of task i given only its answers in [from,to), into s.
func (m *model) restricted(s []float64, from, to int32) {
	m.logJoint(s, from, to)
	normalize(s)
}
