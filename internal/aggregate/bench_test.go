package aggregate

import "testing"

// 100,000 answers: 20,000 tasks × 5, 100 workers, 4 classes.
var bench100k = CrowdSpec{Tasks: 20000, Workers: 100, Classes: 4, AnswersPerTask: 5, SkillMin: 0.55, SkillMax: 0.95, Seed: 1}

func BenchmarkDawidSkene100k(b *testing.B) {
	answers, _, _ := Synthesize(bench100k)
	b.ResetTimer()
	for b.Loop() {
		r := DawidSkene(answers, DSOptions{})
		b.ReportMetric(float64(r.Iterations), "iterations")
	}
}

func BenchmarkBest100k(b *testing.B) {
	answers, _, _ := Synthesize(bench100k)
	b.ResetTimer()
	for b.Loop() {
		r := Best(answers)
		b.ReportMetric(float64(r.Iterations), "iterations")
	}
}

func BenchmarkMajorityVote100k(b *testing.B) {
	answers, _, _ := Synthesize(bench100k)
	b.ResetTimer()
	for b.Loop() {
		MajorityVote(answers)
	}
}

func BenchmarkPolicy100k(b *testing.B) {
	answers, _, _ := Synthesize(bench100k)
	b.ResetTimer()
	for b.Loop() {
		Policy(answers)
	}
}

func BenchmarkOneCoin100k(b *testing.B) {
	answers, _, _ := Synthesize(bench100k)
	b.ResetTimer()
	for b.Loop() {
		r := OneCoin(answers)
		b.ReportMetric(float64(r.Iterations), "iterations")
	}
}

// 100,000 answers at 3 per task with class-dependent accuracy and spammers: the regime of the
// platform's chunks, where Best's guards do their work.
var bench100kHard = CrowdSpec{Tasks: 33334, Workers: 100, Classes: 4, AnswersPerTask: 3, SkillMin: 0.55, SkillMax: 0.95,
	ClassSkillDrop: 0.3, FirstClassErrors: 0.5, SpammerShare: 0.2, Seed: 2}

func BenchmarkBest100kHard(b *testing.B) {
	answers, _, _ := Synthesize(bench100kHard)
	b.ResetTimer()
	for b.Loop() {
		r := Best(answers)
		b.ReportMetric(float64(r.Iterations), "iterations")
	}
}

func BenchmarkReplayDynamic(b *testing.B) {
	answers, truth, _ := Synthesize(CrowdSpec{Tasks: 5000, Workers: 100, Classes: 4, AnswersPerTask: 7, SkillMin: 0.55, SkillMax: 0.95, SpammerShare: 0.2, Seed: 3})
	b.ResetTimer()
	for b.Loop() {
		if _, err := Replay(answers, truth, ReplayOptions{Policy: "dynamic"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSettle20Labels is the pipeline's call on each answer to an item (workflow code) at
// the largest taxonomy that carries a model: five answers of known accuracies, two answers
// looked ahead; alone, and as the chunk makes it.
func BenchmarkSettle20Labels(b *testing.B) {
	labels := names("c", 0, 20)
	s := DefaultSnapshot(labels, 0.7)
	s.Crowd[0][1], s.Crowd[0][0] = s.Crowd[0][1]+0.1, s.Crowd[0][0]-0.1
	votes := []Vote{{labels[0], 0.8}, {labels[1], 0.75}, {labels[0], 0.6}, {labels[1], 0.9}, {labels[2], 0}}
	rule := StopRule{Target: 0.99, MinGain: DefaultMinGain}
	b.Run("alone", func(b *testing.B) {
		for b.Loop() {
			s.Settle(votes, rule)
		}
	})
	// As a chunk makes the call: its Posteriors have met these annotators before.
	b.Run("chunk", func(b *testing.B) {
		ps := s.Posteriors()
		for b.Loop() {
			ps.Next(votes, rule)
		}
	})
}

// BenchmarkPosterior20Labels is RecordChunk's call for each delivered single-label item at the
// largest taxonomy that carries a model: three answers of known accuracies, once on its own and
// once as RecordChunk makes it, through Posteriors, where the same people answer many items.
func BenchmarkPosterior20Labels(b *testing.B) {
	labels := names("c", 0, 20)
	s := DefaultSnapshot(labels, 0.7)
	s.Crowd[0][1], s.Crowd[0][0] = s.Crowd[0][1]+0.1, s.Crowd[0][0]-0.1
	votes := []Vote{{labels[0], 0.8}, {labels[1], 0.75}, {labels[0], 0.9}}
	b.Run("alone", func(b *testing.B) {
		for b.Loop() {
			s.Posterior(votes)
		}
	})
	b.Run("chunk", func(b *testing.B) {
		ps := s.Posteriors()
		for b.Loop() {
			ps.Of(votes)
		}
	})
}
