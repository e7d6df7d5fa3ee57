package aggregate

// DSOptions tune DawidSkene; zero fields take the defaults below.
type DSOptions struct {
	MaxIter   int     // EM iterations at most; default DefaultMaxIter
	Tolerance float64 // stop once no posterior moves by this much; default DefaultTolerance
	Smoothing float64 // Dirichlet pseudo-count per confusion cell and class; default DefaultSmoothing
}

// Defaults for DSOptions.
const (
	DefaultMaxIter   = 100
	DefaultTolerance = 1e-6
	// DefaultSmoothing is 0.01 pseudo-answers added to every cell of every confusion-matrix row
	// and to every class count: 1% of a single answer, enough to keep every probability above
	// zero (so no log is -Inf and no label is ruled out for good) while leaving the estimates of
	// any worker with a handful of answers essentially unchanged.
	DefaultSmoothing = 0.01
)

func (o DSOptions) withDefaults() DSOptions {
	if o.MaxIter <= 0 {
		o.MaxIter = DefaultMaxIter
	}
	if o.Tolerance <= 0 {
		o.Tolerance = DefaultTolerance
	}
	if o.Smoothing <= 0 {
		o.Smoothing = DefaultSmoothing
	}
	return o
}

// DawidSkene is the full confusion-matrix Dawid–Skene model fitted by EM: every worker w has a
// K×K matrix pi[w][j][l] = P(w answers l | true label j), tasks have class priors, and answers are
// independent given the true label. EM starts from the majority-vote shares, the M-step takes the
// smoothed maximum-likelihood estimates
//
//	pi[w][j][l] = (α + n[w][j][l]) / (Kα + Σ_l n[w][j][l]),  prior[j] = (α + n[j]) / (Kα + tasks)
//
// with n the expected counts under the posteriors and α = opts.Smoothing, and the E-step computes
// the posteriors in log space. It stops when no posterior changes by opts.Tolerance or more, or
// after opts.MaxIter iterations. Confidence is the posterior of the chosen label; a worker's skill
// is Σ_j prior[j]·pi[w][j][j].
func DawidSkene(answers []Answer, opts DSOptions) Result {
	d := newDataset(answers)
	if len(d.tasks) == 0 {
		return d.result("ds", nil, nil, nil, 0)
	}
	return d.dawidSkene(opts).result("ds")
}

func (d *dataset) dawidSkene(opts DSOptions) *model {
	opts = opts.withDefaults()
	m := newModel(d)
	m.initMajority()
	alpha := opts.Smoothing
	kAlpha := float64(m.k) * alpha
	m.run(func(n, class []float64) {
		m.setPrior(class, alpha)
		m.setRows(n, func(_, _ int, counts []float64, sum float64, out []float64) {
			for l, c := range counts {
				out[l] = (alpha + c) / (kAlpha + sum)
			}
		})
	}, opts.MaxIter, opts.Tolerance)
	return m
}
