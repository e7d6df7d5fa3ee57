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
