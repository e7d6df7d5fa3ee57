package aggregate

import (
	"math"
	"slices"
)

// Best labels tasks with a hierarchical (Bayesian) Dawid–Skene model, fitted by EM with
// empirical-Bayes hyperparameters, and two guards against the ways EM fails when tasks have few
// answers. It is the default of `quality aggregate` and gives the platform its estimates of
// people's accuracy. It was chosen over Dawid–Skene, a one-coin model and the previous
// hierarchical model by accuracy on real and synthetic crowds, full and at 3 answers per task:
// the README's "Offline aggregation" section has the figures.
//
// The model, from the top:
//
//   - True labels ~ Categorical(prior).
//   - The crowd's confusion matrix P[j][l]: how often an answer to a task of true label j is l,
//     pooled over all workers (class-conditional: accuracy may differ by class, and mistakes
//     may go mostly to one label). Its prior is a weak anchor: each row starts from 4
//     pseudo-answers per label of a worker as accurate as the crowd's agreement with the
//     majority vote (an empirical-Bayes centre: the crowd is informative), plus Jeffreys' ½.
//   - Worker w answers like the crowd at their own skill γ_w: the centre of their confusion row
//     is c_w[j][l] ∝ P[j][l]^γ_w. γ = 1 is the crowd; γ = 0 answers at random (a spammer);
//     γ > 1 sharpens every row (a worker better than the crowd on every class). With a
//     symmetric crowd this is the one-coin model; with a class-dependent one it keeps the
//     difference between classes.
//   - Skills γ_w ~ Normal(μ, τ²): a worker with few answers is pulled toward the crowd's skill,
//     one with many keeps their own. τ² is what two halves of the workers' tasks agree on: the
//     covariance across workers of their γ estimated on the even and on the odd tasks, less one
//     standard error of it (noise is independent between the halves, skill is not); μ is the
//     random-effects mean of their estimates.
//   - Worker w's confusion row pi[w][j] ~ Dirichlet(s_j·c_w[j]): a worker with many answers
//     on class j keeps their own row, as in Dawid–Skene, the others stay near their centre.
//     The strength s_j is a moment estimate of how much workers' rows vary around their
//     centres beyond sampling noise; a class with little data borrows the estimate pooled over
//     all classes.
//
// EM starts from the majority-vote shares. Each M-step takes the expected counts n[w][j][l]
// under the current posteriors (leaving out tasks with a single answer, whose posterior only
// echoes that answer back to its worker, unless no task has more) and sets, in turn, the class
// prior (posterior mode under Dirichlet(2,…,2)), P, the skills, the strengths and the rows
//
//	pi[w][j][l] = (n[w][j][l] + s_j·c_w[j][l]) / (Σ_l n[w][j][l] + s_j)
//
// and the E-step computes the posteriors in log space, until no posterior moves by 1e-6 or
// after 200 iterations.
//
// The guards:
//
//   - The class prior. With 2–3 answers per task, the class shares and the class-conditional
//     confusion can trade off against each other with almost no change in likelihood; EM then
//     drifts to a prior that overrules whole vote patterns (every 2-to-1 vote goes to the
//     common class: the collapse seen with one-coin models on crowds whose accuracy depends on
//     the class). So the prior is not fixed at the maximum-likelihood estimate π̂ but
//     integrated along the segment from the uniform prior (t = 0) to π̂ (t = 1) under a flat
//     prior on t: the likelihood is profiled at t = ¾, ½, ¼, 0 (each point refitted with the
//     prior fixed there, the profile stopped once it is 20 nats below its best), interpolated
//     linearly in log-likelihood, and the posteriors are those of the profile's fits averaged
//     with the weights of that integral; the prior and the skills reported are those of the
//     point nearest the mean t. Where the answers pin the shares down (a rare class on
//     thousands of tasks) the profile falls steeply and the result is the fit at π̂; where
//     they do not, the fits nearer the uniform prior weigh as much, which also keeps rare
//     classes from being explained away. When the profile stays within 20 nats of its best
//     all the way to the uniform prior, the in-sample likelihood is not trusted to weigh the
//     points: fitted on the same answers, a prior far from uniform can buy a few nats by
//     letting every worker's rows fit their own answers, and that is how a small crowd
//     collapses onto its common class. The points are weighed instead by their held-out
//     likelihood: the even tasks' answers under the crowd model fitted (with the point's prior)
//     on the odd tasks, and the other way round.
//   - No information. Every Dawid–Skene-type model has a degenerate fixed point where each
//     worker's rows are the same for every class and every posterior equals the prior. If the
//     fit ends there (the answers move the posteriors by less than 0.001 nats on average), the
//     result is the first EM iterate instead: rows estimated against the majority vote, then
//     the posteriors.
//
// Confidence is the posterior of the chosen label; skill is Σ_j prior[j]·pi[w][j][j].
func Best(answers []Answer) Result {
	d := newDataset(answers)
	if len(d.tasks) == 0 {
		return d.result("best", nil, nil, nil, 0)
	}
	return d.best().result("best")
}

// Constants of Best. None is fitted to a dataset: they are conventional weak priors, numerical
// bounds, and the guards' thresholds.
const (
	bestClassPseudo = 1.0 // added to each class count: the posterior mode under Dirichlet(2,…,2)
	bestCrowdPseudo = 0.5 // added to each cell of the crowd's confusion: Jeffreys' Dirichlet(½)
	// The crowd's confusion also starts from 4 pseudo-answers per label and class of a worker as
	// accurate as the crowd's agreement with the majority vote: negligible against hundreds of
	// answers per class, decisive only where the answers cannot tell a crowd that is informative
	// from one that is not.
	bestAnchorPseudo = 4.0
	bestStrengthMin  = 2.0  // bounds of s_j, in pseudo-answers per row: 2 keeps a sparse row off
	bestStrengthMax  = 1e4  // zero, 10⁴ is complete pooling
	bestSkillMax     = 20.0 // γ bounds: 0 is a random answerer, 20 a worker who is never wrong
	bestSkillVarMin  = 1e-4 // τ² floor, so that Newton's steps stay defined when workers agree
	bestMaxIter      = 200
	// The prior guard stops profiling once the likelihood is this many nats below its best:
	// the posterior weight left beyond is below e⁻²⁰.
	bestProfileDrop = 20.0
	bestMinInfo     = 1e-3 // nats per task: below it the fit carries no information
	bestProfileTol  = 1e-5 // looser tolerance for the profile fits, which only give likelihoods
)

// bestProfile are the points t of the prior guard's profile, from π̂ toward the uniform prior.
var bestProfile = []float64{0.75, 0.5, 0.25, 0}

// best fits Best's model with its guards and returns the fitted model; its iterations are the
// sum over all the fits.
func (d *dataset) best() *model {
	main := d.fitHier(nil, nil, DefaultTolerance)
	if main.k < 2 {
		return main
	}
	m := d.guardPrior(main)
	if m.information() < bestMinInfo {
		one := d.oneStep()
		one.iters += m.iters
		return one
	}
	return m
}

// fitHier runs EM for the hierarchical model from init's posteriors (the majority vote when
// nil), with the class prior fixed when prior is not nil.
func (d *dataset) fitHier(init *model, prior []float64, tol float64) *model {
	m := newModel(d)
	if init == nil {
		m.initMajority()
	} else {
		copy(m.post, init.post)
	}
	m.skipSingles = d.overlaps()
	f := newHierFit(m, prior)
	m.run(f.mstep, bestMaxIter, tol)
	return m
}

// oneStep is the first EM iterate from the majority vote: one M-step, one E-step.
func (d *dataset) oneStep() *model {
	m := newModel(d)
	m.initMajority()
	m.skipSingles = d.overlaps()
	newHierFit(m, nil).mstep(m.counts())
	m.takeLogs()
	m.estep()
	m.iters, m.converged = 1, true
	return m
}

// guardPrior profiles the likelihood along the segment from the uniform prior to main's prior
// and refits the model at the posterior mean of the position on it (see Best).
func (d *dataset) guardPrior(main *model) *model {
	k := main.k
	mle := append([]float64(nil), main.prior...)
	along := func(t float64) []float64 {
		p := make([]float64, k)
		for j := range p {
			p[j] = 1/float64(k) + t*(mle[j]-1/float64(k))
		}
		return p
	}
	points := []profilePoint{pointOf(1, main)}
	iters, converged := main.iters, main.converged
	prev := main
	for _, t := range bestProfile {
		m := d.fitHier(prev, along(t), bestProfileTol)
		iters, converged = iters+m.iters, converged && m.converged
		points = append(points, pointOf(t, m))
		prev = m
		if top(points)-points[len(points)-1].ll > bestProfileDrop {
			break
		}
	}
	if len(points) == len(bestProfile)+1 {
		// The answers hardly pin the class shares down: weigh the points by how well each
		// predicts answers it was not fitted on.
		points = d.crossValidate(points, along)
	}
	main.average(points)
	main.iters, main.converged = iters, converged
	return main
}

// crossValidate replaces each profile point's log-likelihood by its held-out one: the answers of
// each half of the tasks (even and odd) under the crowd model fitted, with the point's prior, on
// the other half. Fitted in-sample, a prior far from uniform can buy a few nats by making every
// worker's rows fit their own answers (the collapse of a small crowd onto its common class);
// held out, that gain is gone.
func (d *dataset) crossValidate(points []profilePoint, along func(float64) []float64) []profilePoint {
	halves := d.halves()
	out := slices.Clone(points)
	for n, p := range out {
		prior := along(p.t)
		ll := 0.0
		for h := range halves {
			fit := halves[h].fitHier(nil, halves[h].reorder(d.labels, prior), bestProfileTol)
			ll += fit.snapshot().logLikelihood(halves[1-h])
		}
		out[n].ll = ll
	}
	return out
}

// halves splits the tasks into two datasets, the even and the odd tasks in order.
func (d *dataset) halves() [2]*dataset {
	var answers [2][]Answer
	for i := range d.tasks {
		for a := d.start[i]; a < d.start[i+1]; a++ {
			answers[i%2] = append(answers[i%2], Answer{Task: d.tasks[i], Worker: d.workers[d.aw[a]], Label: d.labels[d.al[a]]})
		}
	}
	return [2]*dataset{newDataset(answers[0]), newDataset(answers[1])}
}

// reorder returns values, given in the order of labels, in the order of d's labels.
func (d *dataset) reorder(labels []string, values []float64) []float64 {
	out := make([]float64, len(d.labels))
	for j, l := range d.labels {
		if x := slices.Index(labels, l); x >= 0 {
			out[j] = values[x]
		}
	}
	return out
}

// profilePoint is what the prior guard keeps of each fit along the profile: the fitted model
// itself is let go, so that at most two are held at once.
type profilePoint struct {
	t, ll        float64
	prior, skill []float64
	post         []float64
}

func pointOf(t float64, m *model) profilePoint {
	return profilePoint{t: t, ll: m.logLikelihood(), prior: append([]float64(nil), m.prior...),
		skill: m.skills(), post: append([]float64(nil), m.post...)}
}

func top(points []profilePoint) float64 {
	best := math.Inf(-1)
	for _, p := range points {
		best = max(best, p.ll)
	}
	return best
}

// average sets m's posteriors to the posterior-weighted average of the profile's, and its prior
// and skills to those of the point nearest the posterior mean of t.
func (m *model) average(points []profilePoint) {
	w := profileWeights(points)
	mean := 0.0
	for i, p := range points {
		mean += w[i] * p.t
	}
	near := 0
	for i, p := range points {
		if math.Abs(p.t-mean) < math.Abs(points[near].t-mean) {
			near = i
		}
	}
	clear(m.post)
	for i, p := range points {
		for x, q := range p.post {
			m.post[x] += w[i] * q
		}
	}
	copy(m.prior, points[near].prior)
	m.skill = points[near].skill
}

// profileWeights are the weights of the profile's points in the integral of exp(ll) over t with
// ll interpolated linearly between them (t decreasing).
func profileWeights(points []profilePoint) []float64 {
	best := top(points)
	w := make([]float64, len(points))
	if len(points) == 1 {
		w[0] = 1
		return w
	}
	const steps = 32
	total := 0.0
	for i := 0; i+1 < len(points); i++ {
		la, lb := points[i+1].ll-best, points[i].ll-best
		for s := range steps {
			u := (float64(s) + 0.5) / steps
			mass := math.Exp(la + (lb-la)*u)
			w[i+1] += mass * (1 - u)
			w[i] += mass * u
			total += mass
		}
	}
	for i := range w {
		w[i] /= total
	}
	return w
}

// overlaps reports whether some task has two answers or more. Without one, nothing tells a
// worker's mistakes apart, and leaving single-answer tasks out of the confusion counts would
// leave nothing to count.
func (d *dataset) overlaps() bool {
	for i := range d.tasks {
		if d.start[i+1]-d.start[i] > 1 {
			return true
		}
	}
	return false
}
