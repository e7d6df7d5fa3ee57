package aggregate

// Tuning of Best, chosen on synthetic crowds: symmetric, class-dependent and class-swapping
// mistakes; 5 to 300 workers; 10 to 2,000 tasks; 2 to 5 answers per task; with and without
// spammers and class imbalance.
const (
	bestRowStrength    = 4.0   // s = bestRowStrength·K pseudo-answers per confusion row
	bestAccStrengthMin = 2.0   // bounds of the empirical-Bayes Beta strength S
	bestAccStrengthMax = 200.0 //
	bestMeanPrior      = 0.8   // prior guess μ₀ of the crowd's mean accuracy (trained annotators) …
	bestMeanPriorN     = 10.0  // … worth n₀ answers
	bestClassPrior     = 3.0   // Dirichlet pseudo-count of each class in the class prior
	bestMaxIter        = 200
)

// Best labels tasks with a hierarchical (Bayesian) Dawid–Skene model fitted by EM, each M-step
// taking the posterior-mean estimates under the priors below with empirical-Bayes hyperparameters.
// It is the most accurate method here: it matches DawidSkene when every worker has many
// answers and beats it clearly when many workers have few answers or the crowd has spammers, and
// on very small projects it stays level with MajorityVote, where DawidSkene falls well behind.
//
// The model, from the top:
//
//   - Worker accuracies a_w ~ Beta(S·μ, S·(1−μ)): the crowd has a mean accuracy μ and a spread
//     given by the strength S, both estimated from the data (empirical Bayes), μ with a weak
//     prior of 0.8 worth 10 answers.
//   - The crowd shares an error pattern E[j][l]: when the true label is j, how a wrong answer
//     spreads over the other labels l (uniform for symmetric mistakes; concentrated on l when j
//     is commonly mistaken for l).
//   - Each worker's confusion row pi[w][j] ~ Dirichlet(s·c_w[j]), centred on the matrix c_w of a
//     worker with that accuracy who errs like the crowd: c_w[j][j] = a_w and
//     c_w[j][l] = (1−a_w)·E[j][l]; s = 4K pseudo-answers.
//   - True labels ~ Categorical(prior), prior ~ Dirichlet(3,…,3).
//   - Answers are independent given the true label: P(w answers l | j) = pi[w][j][l].
//
// EM starts from the majority-vote shares. Each M-step takes the expected counts n[w][j][l]
// under the current posteriors (leaving out tasks with a single answer, whose posterior only
// echoes that answer back to its worker; they still count toward the class prior) and sets, in
// turn,
//
//	μ       = (Σ_w agree_w + 0.8·10) / (Σ_w total_w + 10)
//	          (agree_w = Σ_j n[w][j][j], total_w = Σ_j Σ_l n[w][j][l])
//	S       = μ(1−μ)/σ² − 1 in [2, 200]  (σ² the between-worker variance of raw accuracy net of
//	                                      binomial noise: a beta-binomial moment estimate)
//	a_w     = (agree_w + S·μ) / (total_w + S)
//	E[j][l] ∝ ½ + Σ_w n[w][j][l]  (l ≠ j)
//	pi[w][j][l] = (n[w][j][l] + s·c_w[j][l]) / (Σ_l n[w][j][l] + s)
//	prior[j]    = (3 + n[j]) / (3K + tasks)
//
// and the E-step computes the posteriors in log space, until no posterior moves by 1e-6 or
// after 200 iterations.
//
// Why: plain Dawid–Skene fits K(K−1) free parameters per worker with no pooling, so a worker
// with ten answers gets a near-deterministic matrix that over-trusts whatever agreement they
// happened to have (their own answers shaped the posteriors they are measured against), and a
// spammer with few answers can look reliable. Here a worker with few answers is pulled toward
// the crowd's mean accuracy and the crowd's error pattern, while a worker with many answers keeps
// a confusion matrix estimated from their own data, as in Dawid–Skene. Centring on the crowd's
// error pattern rather than on uniform mistakes keeps class-dependent confusions (two labels
// that everybody mixes up) even under strong shrinkage, which a purely one-coin model loses.
//
// Confidence is the posterior of the chosen label; skill is Σ_j prior[j]·pi[w][j][j].
func Best(answers []Answer) Result {
	d := newDataset(answers)
	if len(d.tasks) == 0 {
		return d.result("best", nil, nil, nil, 0)
	}
	return d.best().result("best")
}

func (d *dataset) best() *model {
	m := newModel(d)
	m.initMajority()
	m.skipSingles = true
	fit := newBestFit(m)
	m.run(fit.mstep, bestMaxIter, DefaultTolerance)
	return m
}

// bestFit is Best's M-step and the estimates it keeps between iterations.
type bestFit struct {
	m            *model
	agree, total []float64 // per worker: expected answers that agree with the true label, and all
	acc          []float64 // per worker: shrunk accuracy a_w
	popErr       []float64 // k×k: the crowd's error pattern E[j][l]
	rowStrength  float64   // s: pseudo-answers per confusion row
}

func newBestFit(m *model) *bestFit {
	nw := len(m.d.workers)
	return &bestFit{
		m:           m,
		agree:       make([]float64, nw),
		total:       make([]float64, nw),
		acc:         make([]float64, nw),
		popErr:      make([]float64, m.k*m.k),
		rowStrength: bestRowStrength * float64(m.k),
	}
}

func (b *bestFit) mstep(n, class []float64) {
	m := b.m
	m.setPrior(class, bestClassPrior)
	if m.k == 1 {
		for x := range m.pi {
			m.pi[x] = 1
		}
		return
	}
	mu := b.countAgreement(n)
	b.setAccuracies(mu, b.accuracyStrength(mu))
	b.setErrorPattern(n)
	m.setRows(n, b.shrinkRow)
}

// countAgreement sets each worker's agree_w and total_w and returns the crowd's mean accuracy μ,
// with its weak prior, kept off 0 and 1.
func (b *bestFit) countAgreement(n []float64) float64 {
	k, kk := b.m.k, b.m.k*b.m.k
	sumAgree, sumTotal := 0.0, 0.0
	for w := range b.agree {
		b.agree[w], b.total[w] = 0, 0
		for j := 0; j < k; j++ {
			b.agree[w] += n[w*kk+j*k+j]
			for l := 0; l < k; l++ {
				b.total[w] += n[w*kk+j*k+l]
			}
		}
		sumAgree += b.agree[w]
		sumTotal += b.total[w]
	}
	return min(max((sumAgree+bestMeanPrior*bestMeanPriorN)/(sumTotal+bestMeanPriorN), 1e-3), 1-1e-3)
}

// accuracyStrength is the Beta strength S, a beta-binomial moment estimate: for a worker's raw
// accuracy x_w over t_w answers, E[(x_w−μ)²] = μ(1−μ)/t_w + σ²(1 − 1/t_w).
func (b *bestFit) accuracyStrength(mu float64) float64 {
	num, den := 0.0, 0.0
	for w, total := range b.total {
		if total < 1 {
			continue
		}
		x := b.agree[w] / total
		num += (x-mu)*(x-mu) - mu*(1-mu)/total
		den += 1 - 1/total
	}
	strength := bestAccStrengthMax
	if num > 0 && den > 0 {
		strength = mu*(1-mu)/(num/den) - 1
	}
	return min(max(strength, bestAccStrengthMin), bestAccStrengthMax)
}

// setAccuracies shrinks each worker's accuracy toward μ with strength S.
func (b *bestFit) setAccuracies(mu, strength float64) {
	for w := range b.acc {
		a := (b.agree[w] + strength*mu) / (b.total[w] + strength)
		b.acc[w] = min(max(a, 1e-4), 1-1e-4)
	}
}

// setErrorPattern sets E[j][l] ∝ ½ + Σ_w n[w][j][l] over l ≠ j.
func (b *bestFit) setErrorPattern(n []float64) {
	k, kk, nw := b.m.k, b.m.k*b.m.k, len(b.acc)
	for j := 0; j < k; j++ {
		sum := 0.0
		for l := 0; l < k; l++ {
			b.popErr[j*k+l] = 0
			if l == j {
				continue
			}
			e := 0.5
			for w := 0; w < nw; w++ {
				e += n[w*kk+j*k+l]
			}
			b.popErr[j*k+l] = e
			sum += e
		}
		for l := 0; l < k; l++ {
			b.popErr[j*k+l] /= sum
		}
	}
}

// shrinkRow estimates pi[w][j] shrunk toward the centre c_w[j]: a worker with worker w's
// accuracy who errs like the crowd.
func (b *bestFit) shrinkRow(w, j int, counts []float64, sum float64, out []float64) {
	k, s := b.m.k, b.rowStrength
	for l, c := range counts {
		q := (1 - b.acc[w]) * b.popErr[j*k+l]
		if l == j {
			q = b.acc[w]
		}
		out[l] = (c + s*q) / (sum + s)
	}
}
