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
	k, kk := m.k, m.k*m.k
	nw := len(d.workers)
	agree := make([]float64, nw)
	total := make([]float64, nw)
	acc := make([]float64, nw)
	popErr := make([]float64, kk)
	s := bestRowStrength * float64(k)
	m.run(func(n, class []float64) {
		tasks := 0.0
		for _, c := range class {
			tasks += c
		}
		for j, c := range class {
			m.prior[j] = (bestClassPrior + c) / (bestClassPrior*float64(k) + tasks)
		}
		if k == 1 {
			for x := range m.pi {
				m.pi[x] = 1
			}
			return
		}

		// Crowd mean accuracy μ and the Beta strength S.
		sumAgree, sumTotal := 0.0, 0.0
		for w := 0; w < nw; w++ {
			agree[w], total[w] = 0, 0
			for j := 0; j < k; j++ {
				agree[w] += n[w*kk+j*k+j]
				for l := 0; l < k; l++ {
					total[w] += n[w*kk+j*k+l]
				}
			}
			sumAgree += agree[w]
			sumTotal += total[w]
		}
		mu := min(max((sumAgree+bestMeanPrior*bestMeanPriorN)/(sumTotal+bestMeanPriorN), 1e-3), 1-1e-3)
		// For a worker's raw accuracy x_w over t_w answers,
		// E[(x_w−μ)²] = μ(1−μ)/t_w + σ²(1 − 1/t_w).
		num, den := 0.0, 0.0
		for w := 0; w < nw; w++ {
			if total[w] < 1 {
				continue
			}
			x := agree[w] / total[w]
			num += (x-mu)*(x-mu) - mu*(1-mu)/total[w]
			den += 1 - 1/total[w]
		}
		strength := bestAccStrengthMax
		if num > 0 && den > 0 {
			strength = mu*(1-mu)/(num/den) - 1
		}
		strength = min(max(strength, bestAccStrengthMin), bestAccStrengthMax)
		for w := 0; w < nw; w++ {
			a := (agree[w] + strength*mu) / (total[w] + strength)
			acc[w] = min(max(a, 1e-4), 1-1e-4)
		}

		// The crowd's error pattern.
		for j := 0; j < k; j++ {
			sum := 0.0
			for l := 0; l < k; l++ {
				popErr[j*k+l] = 0
				if l == j {
					continue
				}
				e := 0.5
				for w := 0; w < nw; w++ {
					e += n[w*kk+j*k+l]
				}
				popErr[j*k+l] = e
				sum += e
			}
			for l := 0; l < k; l++ {
				popErr[j*k+l] /= sum
			}
		}

		// Confusion rows shrunk toward each worker's centre.
		for w := 0; w < nw; w++ {
			for j := 0; j < k; j++ {
				row := n[w*kk+j*k : w*kk+(j+1)*k]
				sum := 0.0
				for _, c := range row {
					sum += c
				}
				out := m.pi[w*kk+j*k : w*kk+(j+1)*k]
				for l, c := range row {
					q := (1 - acc[w]) * popErr[j*k+l]
					if l == j {
						q = acc[w]
					}
					out[l] = (c + s*q) / (sum + s)
				}
			}
		}
	}, bestMaxIter, DefaultTolerance)
	return m
}
