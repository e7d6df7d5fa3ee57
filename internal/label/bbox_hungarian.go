package label

import "math"

// hungarian solves the assignment problem for an n×m cost matrix (rectangular allowed) in
// O(min(n,m)²·max(n,m)) time: it returns, for each row, the column assigned to it (or -1 when
// there are more rows than columns and the row is left out), so that every row (n <= m) or every
// column (n > m) is assigned once and the total cost is minimal. Costs must be finite; with
// non-finite costs some rows may be left unassigned (-1).
func hungarian(cost [][]float64) []int {
	n := len(cost)
	if n == 0 {
		return nil
	}
	m := len(cost[0])
	if m == 0 || n > m {
		assign := make([]int, n)
		for i := range assign {
			assign[i] = -1
		}
		if m > 0 {
			// Solve the transpose, which has no more rows than columns, and read it back.
			for j, i := range assignRows(transpose(cost, m)) {
				if i >= 0 {
					assign[i] = j
				}
			}
		}
		return assign
	}
	return assignRows(cost)
}

// transpose returns the m×n transpose of the n×m matrix a.
func transpose(a [][]float64, m int) [][]float64 {
	t := make([][]float64, m)
	for j := range t {
		t[j] = make([]float64, len(a))
		for i := range a {
			t[j][i] = a[i][j]
		}
	}
	return t
}

// assignRows is hungarian for n <= m: every row gets a column.
//
// It is the textbook potentials method (Kuhn–Munkres with Dijkstra-like augmenting paths) kept
// in one piece on purpose: its loops share the potentials, the matching and the shortest-path
// state, and it reads best side by side with the published algorithm it follows.
func assignRows(cost [][]float64) []int {
	n, m := len(cost), len(cost[0])
	assign := make([]int, n)
	for i := range assign {
		assign[i] = -1
	}
	// 1-based with a virtual column 0: rows are added one by one, each along a shortest
	// augmenting path in reduced costs, which stay non-negative thanks to the potentials u (rows)
	// and v (columns).
	u := make([]float64, n+1)
	v := make([]float64, m+1)
	p := make([]int, m+1)   // p[j]: row matched to column j, 0 for none
	way := make([]int, m+1) // previous column on the shortest path to column j
	minv := make([]float64, m+1)
	used := make([]bool, m+1)
	for i := 1; i <= n; i++ {
		p[0] = i
		j0 := 0
		for j := range minv {
			minv[j] = math.Inf(1)
			used[j] = false
		}
		for {
			used[j0] = true
			i0, delta, j1 := p[j0], math.Inf(1), 0
			for j := 1; j <= m; j++ {
				if used[j] {
					continue
				}
				if cur := cost[i0-1][j-1] - u[i0] - v[j]; cur < minv[j] {
					minv[j], way[j] = cur, j0
				}
				if minv[j] < delta {
					delta, j1 = minv[j], j
				}
			}
			if j1 == 0 { // only with non-finite costs: give up rather than loop
				return assign
			}
			for j := 0; j <= m; j++ {
				if used[j] {
					u[p[j]] += delta
					v[j] -= delta
				} else {
					minv[j] -= delta
				}
			}
			j0 = j1
			if p[j0] == 0 {
				break
			}
		}
		for j0 != 0 { // flip the augmenting path
			j1 := way[j0]
			p[j0] = p[j1]
			j0 = j1
		}
	}
	for j := 1; j <= m; j++ {
		if p[j] != 0 {
			assign[p[j]-1] = j - 1
		}
	}
	return assign
}
