package store

import "sync"

// Parallel runs fn(0), …, fn(n-1) on at most width goroutines and returns the first error.
// Store round trips dominate payroll and delivery; running them side by side is what makes
// thousands of small objects affordable.
func Parallel(n, width int, fn func(i int) error) error {
	if width < 1 {
		width = 1
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	sem := make(chan struct{}, width)
	for i := 0; i < n; i++ {
		mu.Lock()
		failed := first != nil
		mu.Unlock()
		if failed {
			break
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := fn(i); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return first
}
