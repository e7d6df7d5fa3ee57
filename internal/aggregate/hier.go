package aggregate

import "math"

// hierFit is Best's M-step (see Best for the model) and the estimates it keeps between
// iterations.
type hierFit struct {
	m          *model
	fixedPrior []float64 // the class prior when it is not estimated
	crowd      []float64 // k×k: the crowd's confusion P[j][l]
	logCrowd   []float64
	skill      []float64 // per worker: γ_w
	strength   []float64 // per class: s_j
	anchor     float64   // the accuracy of the crowd's prior: its agreement with the majority vote
	centre     []float64 // scratch row
}

func newHierFit(m *model, prior []float64) *hierFit {
	f := &hierFit{
		m:          m,
		fixedPrior: prior,
		crowd:      make([]float64, m.k*m.k),
		logCrowd:   make([]float64, m.k*m.k),
		skill:      make([]float64, len(m.d.workers)),
		strength:   make([]float64, m.k),
		anchor:     m.d.mvAgreement(),
		centre:     make([]float64, m.k),
	}
	for w := range f.skill {
		f.skill[w] = 1
	}
	return f
}

func (f *hierFit) mstep(n, class []float64) {
	m := f.m
	if f.fixedPrior != nil {
		copy(m.prior, f.fixedPrior)
	} else {
		m.setPrior(class, bestClassPseudo)
	}
	f.setCrowd(n)
	f.setSkills(n)
	f.setStrengths(n)
	m.setRows(n, f.shrinkRow)
}

// setCrowd sets P[j][l] ∝ ½ + a[j][l] + Σ_w n[w][j][l], where a[j] is the anchor: 4K
// pseudo-answers of a one-coin worker whose accuracy is the crowd's agreement with the majority
// vote.
func (f *hierFit) setCrowd(n []float64) {
	k, kk := f.m.k, f.m.k*f.m.k
	for x := range f.crowd {
		f.crowd[x] = bestCrowdPseudo
	}
	if k > 1 {
		for j := 0; j < k; j++ {
			for l := 0; l < k; l++ {
				c := (1 - f.anchor) / float64(k-1)
				if l == j {
					c = f.anchor
				}
				f.crowd[j*k+l] += bestAnchorPseudo * float64(k) * c
			}
		}
	}
	for w := range f.skill {
		for x, c := range n[w*kk : (w+1)*kk] {
			f.crowd[x] += c
		}
	}
	for j := 0; j < k; j++ {
		row := f.crowd[j*k : (j+1)*k]
		sum := 0.0
		for _, v := range row {
			sum += v
		}
		for l := range row {
			row[l] /= sum
			f.logCrowd[j*k+l] = math.Log(row[l])
		}
	}
}

// centreRow writes c[l] ∝ P[j][l]^γ into out.
func (f *hierFit) centreRow(j int, gamma float64, out []float64) {
	k := f.m.k
	logs := f.logCrowd[j*k : (j+1)*k]
	top := math.Inf(-1)
	for l, lp := range logs {
		out[l] = gamma * lp
		top = max(top, out[l])
	}
	sum := 0.0
	for l := range out {
		out[l] = math.Exp(out[l] - top)
		sum += out[l]
	}
	for l := range out {
		out[l] /= sum
	}
}

// skillStats are what fitting a worker's γ needs of their counts: per class j, the expected
// answers N_j = Σ_l n[w][j][l] and Σ_l n[w][j][l]·log P[j][l]. Layout: workers × k × 2.
type skillStats []float64

// statsOf sums the counts n into skill statistics.
func (f *hierFit) statsOf(n []float64) skillStats {
	k, kk := f.m.k, f.m.k*f.m.k
	st := make(skillStats, len(f.skill)*k*2)
	for w := range f.skill {
		for j := 0; j < k; j++ {
			total, observed := 0.0, 0.0
			for l, c := range n[w*kk+j*k : w*kk+(j+1)*k] {
				total += c
				observed += c * f.logCrowd[j*k+l]
			}
			st[(w*k+j)*2], st[(w*k+j)*2+1] = total, observed
		}
	}
	return st
}

// halfStats are the skill statistics of two halves of the tasks, even and odd in task order,
// counted as the confusion counts are.
func (f *hierFit) halfStats() [2]skillStats {
	m := f.m
	d, k := m.d, m.k
	halves := [2]skillStats{make(skillStats, len(f.skill)*k*2), make(skillStats, len(f.skill)*k*2)}
	for i := range d.tasks {
		if m.skipSingles && d.start[i+1]-d.start[i] < 2 {
			continue
		}
		st := halves[i%2]
		p := m.post[i*k : (i+1)*k]
		for a := d.start[i]; a < d.start[i+1]; a++ {
			w, l := int(d.aw[a]), int(d.al[a])
			for j, q := range p {
				st[(w*k+j)*2] += q
				st[(w*k+j)*2+1] += q * f.logCrowd[j*k+l]
			}
		}
	}
	return halves
}

// skillSlope returns the first and second derivatives in γ of worker w's log-likelihood of
// their expected counts under the centres, Σ_j Σ_l n[w][j][l]·log c_w[j][l]. The model is an
// exponential family in γ, so the second derivative, −Σ_j N_j·Var_{c_j}(log P[j]), is never
// positive.
func (f *hierFit) skillSlope(st skillStats, w int, gamma float64) (d1, d2 float64) {
	k := f.m.k
	for j := 0; j < k; j++ {
		total, observed := st[(w*k+j)*2], st[(w*k+j)*2+1]
		if total == 0 {
			continue
		}
		f.centreRow(j, gamma, f.centre)
		mean, sq := 0.0, 0.0
		for l, p := range f.centre {
			lp := f.logCrowd[j*k+l]
			mean += p * lp
			sq += p * lp * lp
		}
		d1 += observed - total*mean
		d2 -= total * (sq - mean*mean)
	}
	return d1, d2
}

// maxSkill maximises worker w's log-likelihood plus the log-density of Normal(mean, 1/prec)
// by Newton's method from start, within [0, bestSkillMax]. It returns the estimate and the
// curvature there (negative).
func (f *hierFit) maxSkill(st skillStats, w int, start, mean, prec float64) (gamma, curve float64) {
	gamma = start
	for range 8 {
		d1, d2 := f.skillSlope(st, w, gamma)
		d1 -= prec * (gamma - mean)
		curve = d2 - prec
		next := min(max(gamma-d1/curve, 0), bestSkillMax)
		if math.Abs(next-gamma) < 1e-6 {
			return next, curve
		}
		gamma = next
	}
	return gamma, curve
}

// vaguePrecision is the prior precision of a worker's own estimate of γ: worth a thousandth of
// an answer, it only keeps workers without counts defined.
const vaguePrecision = 1e-3

// setSkills estimates every worker's γ, then shrinks the estimates toward the crowd's skill: a
// normal prior whose variance τ² is what two halves of the workers' tasks agree on (the
// covariance across workers of their estimates from the even and the odd tasks: noise is
// independent between the halves, skill is not), and whose mean is the random-effects mean.
// The halves are needed because the counts are expected counts under posteriors the worker's
// own answers shaped, whose spread the multinomial standard errors do not describe.
func (f *hierFit) setSkills(n []float64) {
	full := f.statsOf(n)
	est := make([]float64, len(f.skill))
	variance := make([]float64, len(f.skill))
	for w := range f.skill {
		g, curve := f.maxSkill(full, w, f.skill[w], 1, vaguePrecision)
		est[w], variance[w] = g, -1/curve
	}
	tau2 := f.splitHalfVariance(est)
	mean := randomEffectsMean(est, variance, tau2)
	for w := range f.skill {
		f.skill[w], _ = f.maxSkill(full, w, est[w], mean, 1/tau2)
	}
}

// splitHalfVariance is the covariance, across workers with answers in both halves, of their γ
// estimated on each half, each worker weighted by the inverse of the two estimates' summed
// sampling variances; at least bestSkillVarMin.
func (f *hierFit) splitHalfVariance(start []float64) float64 {
	halves := f.halfStats()
	var a, b, wt []float64
	for w := range f.skill {
		ga, ca := f.maxSkill(halves[0], w, start[w], 1, vaguePrecision)
		gb, cb := f.maxSkill(halves[1], w, start[w], 1, vaguePrecision)
		if ca >= -vaguePrecision*1.0001 || cb >= -vaguePrecision*1.0001 {
			continue // no answer in one of the halves
		}
		a, b, wt = append(a, ga), append(b, gb), append(wt, 1/(-1/ca-1/cb))
	}
	return max(weightedCovariance(a, b, wt), bestSkillVarMin)
}

// weightedCovariance of paired values, less one standard error of it: only the agreement
// between the halves that the workers clearly show counts. 0 with fewer than two pairs.
func weightedCovariance(a, b, w []float64) float64 {
	if len(a) < 2 {
		return 0
	}
	sw, ma, mb := 0.0, 0.0, 0.0
	for i := range a {
		sw, ma, mb = sw+w[i], ma+w[i]*a[i], mb+w[i]*b[i]
	}
	ma, mb = ma/sw, mb/sw
	cov, sw2 := 0.0, 0.0
	for i := range a {
		cov += w[i] * (a[i] - ma) * (b[i] - mb)
		sw2 += w[i] * w[i]
	}
	// Unbiased for weighted pairs: divide by sw − Σw²/sw.
	cov /= sw - sw2/sw
	spread := 0.0
	for i := range a {
		x := (a[i]-ma)*(b[i]-mb) - cov
		spread += w[i] * w[i] * x * x
	}
	return cov - math.Sqrt(spread)/sw
}

// randomEffectsMean is the mean of estimates with the given sampling variances under a
// between-unit variance tau2: each weighted by 1/(variance + tau2).
func randomEffectsMean(est, variance []float64, tau2 float64) float64 {
	sw, swx := 0.0, 0.0
	for i, x := range est {
		w := 1 / (variance[i] + tau2)
		sw, swx = sw+w, swx+w*x
	}
	return swx / sw
}

// setStrengths sets each class's s_j = 1/ρ_j − 1 from a moment estimate of ρ_j, the share of
// the variance of a worker's row around its centre that is not sampling noise: for a worker
// with N answers in the row, E[N·Σ_l (x_l − c_l)²] = G·(1 + (N−1)ρ) with G = 1 − Σ_l c_l².
// Each class's estimate is pooled with the estimate over all classes, weighted by the data
// behind it (Σ_w G·(N−1)) against the average class's, so a class with little data borrows
// from the others.
func (f *hierFit) setStrengths(n []float64) {
	k := f.m.k
	excess := make([]float64, k) // Σ_w (N·Σ_l (x_l − c_l)² − G)
	weight := make([]float64, k) // Σ_w G·(N − 1)
	for j := 0; j < k; j++ {
		excess[j], weight[j] = f.rowSpread(n, j)
	}
	allExcess, allWeight := 0.0, 0.0
	for j := range excess {
		allExcess, allWeight = allExcess+excess[j], allWeight+weight[j]
	}
	for j := range f.strength {
		f.strength[j] = bestStrengthMax
		if allWeight <= 0 {
			continue
		}
		avg := allWeight / float64(k)
		rho := (excess[j] + avg*allExcess/allWeight) / (weight[j] + avg)
		if rho > 0 {
			f.strength[j] = min(max(1/rho-1, bestStrengthMin), bestStrengthMax)
		}
	}
}

// rowSpread sums, over the workers with at least one expected answer in row j, the excess
// spread of their row around its centre and the weight of that evidence (see setStrengths).
func (f *hierFit) rowSpread(n []float64, j int) (excess, weight float64) {
	k, kk := f.m.k, f.m.k*f.m.k
	for w := range f.skill {
		counts := n[w*kk+j*k : w*kk+(j+1)*k]
		total := 0.0
		for _, c := range counts {
			total += c
		}
		if total < 1 {
			continue
		}
		f.centreRow(j, f.skill[w], f.centre)
		spread, g := 0.0, 1.0
		for l, c := range counts {
			dev := c/total - f.centre[l]
			spread += dev * dev
			g -= f.centre[l] * f.centre[l]
		}
		excess += total*spread - g
		weight += g * (total - 1)
	}
	return excess, weight
}

// shrinkRow estimates pi[w][j] as the posterior mean under Dirichlet(s_j·c_w[j]).
func (f *hierFit) shrinkRow(w, j int, counts []float64, sum float64, out []float64) {
	f.centreRow(j, f.skill[w], out)
	s := f.strength[j]
	for l, c := range counts {
		out[l] = (c + s*out[l]) / (sum + s)
	}
}

// mvAgreement is the share of the answers on tasks with two answers or more that agree with the
// task's majority label (½ when there are none).
func (d *dataset) mvAgreement() float64 {
	_, label := d.majority()
	agree, total := 0.0, 0.0
	for i := range d.tasks {
		if d.start[i+1]-d.start[i] < 2 {
			continue
		}
		for a := d.start[i]; a < d.start[i+1]; a++ {
			total++
			if int(d.al[a]) == label[i] {
				agree++
			}
		}
	}
	if total == 0 {
		return 0.5
	}
	return agree / total
}
