package aggregate

// Policy replays the double-annotation policy offline. Per task, answers are taken in file order:
//
//   - two agreeing answers decide;
//   - on disagreement the third answer decides: its label is taken (whether or not it matches one
//     of the first two);
//   - a task with a single answer takes it;
//   - a task whose two answers disagree and that has no third, i.e. one still waiting for
//     arbitration, takes whichever of the two labels has the higher posterior below (the first
//     answer's on a tie);
//   - answers after those used are ignored.
//
// Confidence is the Dawid–Skene posterior of the chosen label given only the answers used, with
// the class priors and confusion matrices that DawidSkene (default options) estimates on all the
// answers. Skill is as in MajorityVote, (½ + agree)/(1 + total) over all of a worker's answers,
// measured against the policy's labels. Iterations is 0.
func Policy(answers []Answer) Result {
	r, _ := policy(newDataset(answers))
	return r
}

// policy also returns the mean number of answers per task the policy used.
func policy(d *dataset) (Result, float64) {
	if len(d.tasks) == 0 {
		return d.result("policy", nil, nil, nil, 0), 0
	}
	m := d.dawidSkene(DSOptions{})
	k := m.k
	label := make([]int, len(d.tasks))
	conf := make([]float64, len(d.tasks))
	s := make([]float64, k)
	used := 0
	for i := range d.tasks {
		a0, n := d.start[i], d.start[i+1]-d.start[i]
		first := int(d.al[a0])
		var take int32
		switch {
		case n == 1:
			take, label[i] = 1, first
		case int(d.al[a0+1]) == first:
			take, label[i] = 2, first
		case n >= 3:
			take, label[i] = 3, int(d.al[a0+2])
		default:
			take, label[i] = 2, first
		}
		m.restricted(s, a0, a0+take)
		if take == 2 && label[i] != int(d.al[a0+1]) {
			if second := int(d.al[a0+1]); s[second] > s[first] {
				label[i] = second
			}
		}
		conf[i] = s[label[i]]
		used += int(take)
	}
	return d.result("policy", label, conf, d.agreementSkill(label), 0), float64(used) / float64(len(d.tasks))
}
