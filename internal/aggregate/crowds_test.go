package aggregate

import (
	"math/rand/v2"
)

// confusedCrowd draws a crowd with class-dependent mistakes: each worker has an accuracy in
// [lo, hi] per true class, and 80% of the errors on class j go to class j+1 (mod k).
func confusedCrowd(tasks, workers, k, per int, lo, hi float64, seed uint64) ([]Answer, map[string]string) {
	rng := rand.New(rand.NewPCG(seed, 7))
	tn, wn, cn := names("t", 1, tasks), names("w", 1, workers), names("c", 0, k)
	pi := make([][][]float64, workers)
	for w := range pi {
		pi[w] = make([][]float64, k)
		for j := range pi[w] {
			row := make([]float64, k)
			a := lo + (hi-lo)*rng.Float64()
			row[j] = a
			conf := (j + 1) % k
			for l := range row {
				if l == j {
					continue
				}
				if l == conf {
					row[l] = (1 - a) * 0.8
				} else if k > 2 {
					row[l] = (1 - a) * 0.2 / float64(k-2)
				}
			}
			if k == 2 {
				row[conf] = 1 - a
			}
			pi[w][j] = row
		}
	}
	var ans []Answer
	truth := map[string]string{}
	pool := make([]int, workers)
	for i := range pool {
		pool[i] = i
	}
	for t := 0; t < tasks; t++ {
		c := rng.IntN(k)
		truth[tn[t]] = cn[c]
		for x := 0; x < per; x++ {
			y := x + rng.IntN(workers-x)
			pool[x], pool[y] = pool[y], pool[x]
			w := pool[x]
			u := rng.Float64()
			l := 0
			for ; l < k-1; l++ {
				u -= pi[w][c][l]
				if u < 0 {
					break
				}
			}
			ans = append(ans, Answer{tn[t], wn[w], cn[l]})
		}
	}
	return ans, truth
}

// swapCrowd draws symmetric-mistake workers of whom a share systematically swap classes 0 and 1
// (guidelines misread).
func swapCrowd(tasks, workers, k, per int, lo, hi, swapShare float64, seed uint64) ([]Answer, map[string]string) {
	rng := rand.New(rand.NewPCG(seed, 9))
	tn, wn, cn := names("t", 1, tasks), names("w", 1, workers), names("c", 0, k)
	acc := make([]float64, workers)
	swap := make([]bool, workers)
	for w := range acc {
		acc[w] = lo + (hi-lo)*rng.Float64()
		swap[w] = rng.Float64() < swapShare
	}
	var ans []Answer
	truth := map[string]string{}
	pool := make([]int, workers)
	for i := range pool {
		pool[i] = i
	}
	for t := 0; t < tasks; t++ {
		c := rng.IntN(k)
		truth[tn[t]] = cn[c]
		for x := 0; x < per; x++ {
			y := x + rng.IntN(workers-x)
			pool[x], pool[y] = pool[y], pool[x]
			w := pool[x]
			l := c
			if rng.Float64() >= acc[w] {
				l = rng.IntN(k - 1)
				if l >= c {
					l++
				}
			}
			if swap[w] && l < 2 {
				l = 1 - l
			}
			ans = append(ans, Answer{tn[t], wn[w], cn[l]})
		}
	}
	return ans, truth
}
