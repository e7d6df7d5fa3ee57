package label

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func box(label string, left, top, width, height float64) Box {
	return Box{Label: label, Left: left, Top: top, Width: width, Height: height}
}

func boxesJSON(boxes ...Box) Answer {
	if boxes == nil {
		boxes = []Box{}
	}
	out, err := json.Marshal(boxesAnswer{Boxes: boxes})
	if err != nil {
		panic(err)
	}
	return out
}

func TestIoU(t *testing.T) {
	for _, c := range []struct {
		a, b Box
		want float64
	}{
		{box("", 0, 0, 10, 10), box("", 5, 5, 10, 10), 25.0 / 175},   // 5×5 over 100+100-25
		{box("", 0, 0, 10, 10), box("", 0, 0, 10, 10), 1},            // same rectangle
		{box("", 0, 0, 10, 10), box("", 0, 0, 5, 5), 25.0 / 100},     // contained
		{box("", 0, 0, 10, 10), box("", 10, 0, 10, 10), 0},           // touching edges
		{box("", 0, 0, 10, 10), box("", 20, 20, 5, 5), 0},            // disjoint
		{box("", 0, 0, 10, 20), box("", 0, 10, 10, 20), 100.0 / 300}, // half each
		{box("", 0.1, 0.2, 30.3, 40.4), box("", 0.1, 0.2, 30.3, 40.4), 1},
		{box("", 0, 0, 0, 10), box("", 0, 0, 0, 10), 0}, // no area
		{box("", 0, 0, 10, 10), box("", 2, 2, -5, 5), 0},
	} {
		if got := IoU(c.a, c.b); !near(got, c.want) {
			t.Errorf("IoU(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
		if got := IoU(c.b, c.a); !near(got, c.want) {
			t.Errorf("IoU(%v, %v) = %v, want %v (not symmetric)", c.b, c.a, got, c.want)
		}
	}
	if got := IoU(box("", 0, 0, 1e300, 1e300), box("", 1, 1, 1e300, 1e300)); math.IsNaN(got) || got < 0 || got > 1 {
		t.Errorf("IoU of huge boxes = %v", got)
	}
}

func assignmentCost(cost [][]float64, assign []int) float64 {
	total := 0.0
	for i, j := range assign {
		if j >= 0 {
			total += cost[i][j]
		}
	}
	return total
}

// bruteForceAssignment is the cheapest assignment by trying every one (rows <= columns).
func bruteForceAssignment(cost [][]float64) float64 {
	n, m := len(cost), len(cost[0])
	best := math.Inf(1)
	used := make([]bool, m)
	var try func(i int, total float64)
	try = func(i int, total float64) {
		if i == n {
			best = min(best, total)
			return
		}
		for j := range m {
			if !used[j] {
				used[j] = true
				try(i+1, total+cost[i][j])
				used[j] = false
			}
		}
	}
	try(0, 0)
	return best
}

func checkAssignment(t *testing.T, cost [][]float64, assign []int) {
	t.Helper()
	n, m := len(cost), len(cost[0])
	if len(assign) != n {
		t.Fatalf("assignment %v for %d rows", assign, n)
	}
	seen := map[int]bool{}
	assigned := 0
	for _, j := range assign {
		if j < 0 {
			continue
		}
		if j >= m || seen[j] {
			t.Fatalf("assignment %v is not one to one over %d columns", assign, m)
		}
		seen[j] = true
		assigned++
	}
	if assigned != min(n, m) {
		t.Fatalf("assignment %v leaves assignable rows out", assign)
	}
}

func TestHungarian(t *testing.T) {
	// 3×3: row 0→column 1 (1), row 1→column 0 (2), row 2→column 2 (2), total 5.
	square := [][]float64{
		{4, 1, 3},
		{2, 0, 5},
		{3, 2, 2},
	}
	assign := hungarian(square)
	checkAssignment(t, square, assign)
	if fmt.Sprint(assign) != "[1 0 2]" || assignmentCost(square, assign) != 5 {
		t.Errorf("3×3 assignment %v costs %v, want [1 0 2] costing 5", assign, assignmentCost(square, assign))
	}

	// 2×3: of the six assignments, row 0→column 1 (2) and row 1→column 0 (2) is the cheapest, 4.
	wide := [][]float64{
		{1, 2, 3},
		{2, 4, 6},
	}
	assign = hungarian(wide)
	checkAssignment(t, wide, assign)
	if fmt.Sprint(assign) != "[1 0]" || assignmentCost(wide, assign) != 4 {
		t.Errorf("2×3 assignment %v costs %v, want [1 0] costing 4", assign, assignmentCost(wide, assign))
	}

	// 3×2, the transpose: the third row is left out.
	tall := [][]float64{
		{1, 2},
		{2, 4},
		{3, 6},
	}
	assign = hungarian(tall)
	checkAssignment(t, tall, assign)
	if fmt.Sprint(assign) != "[1 0 -1]" || assignmentCost(tall, assign) != 4 {
		t.Errorf("3×2 assignment %v costs %v, want [1 0 -1] costing 4", assign, assignmentCost(tall, assign))
	}

	if got := hungarian(nil); got != nil {
		t.Errorf("hungarian(nil) = %v", got)
	}
	if got := hungarian([][]float64{{}, {}}); fmt.Sprint(got) != "[-1 -1]" {
		t.Errorf("hungarian with no columns = %v", got)
	}

	// Random matrices, negative costs included, against brute force.
	r := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		n, m := 1+r.IntN(5), 1+r.IntN(5)
		cost := make([][]float64, n)
		for i := range cost {
			cost[i] = make([]float64, m)
			for j := range cost[i] {
				cost[i][j] = float64(r.IntN(21) - 10)
			}
		}
		assign := hungarian(cost)
		checkAssignment(t, cost, assign)
		var want float64
		if n <= m {
			want = bruteForceAssignment(cost)
		} else {
			tr := make([][]float64, m)
			for j := range tr {
				tr[j] = make([]float64, n)
				for i := range n {
					tr[j][i] = cost[i][j]
				}
			}
			want = bruteForceAssignment(tr)
		}
		if got := assignmentCost(cost, assign); got != want {
			t.Fatalf("%v: assignment %v costs %v, optimum %v", cost, assign, got, want)
		}
	}
}

// greedyIoUSum pairs the most-overlapping boxes first, as a greedy matcher would.
func greedyIoUSum(a, b []Box, minIoU float64) float64 {
	usedA, usedB := map[int]bool{}, map[int]bool{}
	sum := 0.0
	for {
		bi, bj, best := -1, -1, 0.0
		for i := range a {
			for j := range b {
				if usedA[i] || usedB[j] || a[i].Label != b[j].Label {
					continue
				}
				if iou := IoU(a[i], b[j]); iou >= minIoU && iou > best {
					bi, bj, best = i, j, iou
				}
			}
		}
		if bi < 0 {
			return sum
		}
		usedA[bi], usedB[bj] = true, true
		sum += best
	}
}

func TestBoundingBoxAgreementOptimalNotGreedy(t *testing.T) {
	// Four 10×10 boxes in a row (only left differs). IoU(a1,b1) = 9/11 is the best pair, but
	// taking it leaves a2 with b2 at IoU 5/15 < 0.5. Pairing a1–b2 and a2–b1 (2/3 each) matches
	// everything.
	a := []Box{box("car", 10, 0, 10, 10), box("car", 13, 0, 10, 10)}
	b := []Box{box("car", 11, 0, 10, 10), box("car", 8, 0, 10, 10)}
	for _, c := range []struct {
		x, y Box
		want float64
	}{{a[0], b[0], 9.0 / 11}, {a[0], b[1], 2.0 / 3}, {a[1], b[0], 2.0 / 3}, {a[1], b[1], 1.0 / 3}} {
		if got := IoU(c.x, c.y); !near(got, c.want) {
			t.Fatalf("IoU(%v, %v) = %v, want %v", c.x, c.y, got, c.want)
		}
	}
	greedy := 2 * greedyIoUSum(a, b, 0.5) / 4
	if !near(greedy, 9.0/22) {
		t.Fatalf("greedy agreement = %v, want 9/22", greedy)
	}
	typ := lookupType(t, BoundingBoxName)
	got := typ.Agreement(boxesJSON(a...), boxesJSON(b...))
	if want := 2 * (2.0/3 + 2.0/3) / 4; !near(got, want) {
		t.Errorf("Agreement = %v, want the optimal %v (greedy would give %v)", got, want, greedy)
	}
	if !BoxesAgree(boxesJSON(a...), boxesJSON(b...), 0.6) {
		t.Error("BoxesAgree misses the one-to-one matching above 0.6")
	}
	if BoxesAgree(boxesJSON(a...), boxesJSON(b...), 0.7) {
		t.Error("BoxesAgree at 0.7 although a full matching needs a pair at 2/3")
	}
}

func TestBoundingBoxAgreement(t *testing.T) {
	typ := lookupType(t, BoundingBoxName)
	car := box("car", 0, 0, 10, 10)
	for _, c := range []struct {
		name string
		a, b Answer
		want float64
	}{
		{"both empty", boxesJSON(), boxesJSON(), 1},
		{"one empty", boxesJSON(car), boxesJSON(), 0},
		{"identical", boxesJSON(car, box("person", 20, 20, 5, 8)), boxesJSON(box("person", 20, 20, 5, 8), car), 1},
		{"other label", boxesJSON(car), boxesJSON(box("person", 0, 0, 10, 10)), 0},
		{"overlap under 0.5 is no match", boxesJSON(car), boxesJSON(box("car", 5, 5, 10, 10)), 0},
		{"half overlap", boxesJSON(car), boxesJSON(box("car", 0, 0, 10, 20)), 0.5},
		{"one box missing of three", boxesJSON(car, box("car", 20, 0, 10, 10), box("car", 40, 0, 10, 10)),
			boxesJSON(car, box("car", 20, 0, 10, 10)), 2.0 * 2 / 5},
		// mean IoU (1 + 0.5)/2 times 2·2/(2+3)
		{"mixed", boxesJSON(car, box("car", 20, 0, 10, 10)),
			boxesJSON(car, box("car", 20, 0, 10, 20), box("person", 50, 50, 5, 5)), (1.0 + 0.5) / 2 * (2.0 * 2 / 5)},
		{"unreadable", Answer(`nope`), boxesJSON(car), 0},
	} {
		if got := typ.Agreement(c.a, c.b); !near(got, c.want) {
			t.Errorf("%s: Agreement = %v, want %v", c.name, got, c.want)
		}
		if got := typ.Agreement(c.b, c.a); !near(got, c.want) {
			t.Errorf("%s: reversed Agreement = %v, want %v", c.name, got, c.want)
		}
	}
	if typ.DefaultThreshold() != 0.7 {
		t.Errorf("DefaultThreshold = %v", typ.DefaultThreshold())
	}
}

func TestBoxesAgree(t *testing.T) {
	a := boxesJSON(box("car", 0, 0, 100, 100), box("person", 200, 0, 50, 100))
	shifted := boxesJSON(box("person", 205, 0, 50, 100), box("car", 5, 5, 100, 100)) // IoU 45/55 and 9025/10975
	for _, c := range []struct {
		name string
		a, b Answer
		thr  float64
		want bool
	}{
		{"same", a, a, 0.99, true},
		{"shifted above", a, shifted, 0.8, true},
		{"shifted below", a, shifted, 0.83, false},
		{"count differs", a, boxesJSON(box("car", 0, 0, 100, 100)), 0.5, false},
		{"class differs", boxesJSON(box("car", 0, 0, 100, 100)), boxesJSON(box("bus", 0, 0, 100, 100)), 0.5, false},
		{"both empty", boxesJSON(), boxesJSON(), 0.5, true},
		{"unreadable", Answer(`{`), a, 0.5, false},
		// Both boxes of b sit on the first box of a: no one-to-one matching.
		{"not one to one", boxesJSON(box("car", 0, 0, 10, 10), box("car", 50, 50, 10, 10)),
			boxesJSON(box("car", 0, 0, 10, 10), box("car", 0, 0, 10, 9.9)), 0.5, false},
	} {
		if got := BoxesAgree(c.a, c.b, c.thr); got != c.want {
			t.Errorf("%s: BoxesAgree = %v, want %v", c.name, got, c.want)
		}
		if got := BoxesAgree(c.b, c.a, c.thr); got != c.want {
			t.Errorf("%s: reversed BoxesAgree = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestBoundingBoxValidate(t *testing.T) {
	typ := lookupType(t, BoundingBoxName)
	item := Item{Taxonomy: []string{"car", "person"}, Width: 100, Height: 80}
	ok := `{"label":"car","left":10,"top":20,"width":30,"height":40}`
	withBox := func(b string) string { return `{"boxes":[` + ok + `,` + b + `]}` }
	many := func(n int) string {
		var bs []string
		for i := range n {
			bs = append(bs, fmt.Sprintf(`{"label":"car","left":%d,"top":%d,"width":4,"height":4}`, (i%20)*5, (i/20)*5))
		}
		return `{"boxes":[` + strings.Join(bs, ",") + `]}`
	}
	runValidationCases(t, typ, item, []validationCase{
		{`{"boxes":[]}`, ""},
		{`{"boxes":[` + ok + `]}`, ""},
		{`{"boxes":[{"label":"person","left":0.5,"top":0,"width":99.5,"height":80}]}`, ""},  // fills the image
		{`{"boxes":[{"label":"car","left":0.1,"top":0.7,"width":99.9,"height":79.3}]}`, ""}, // sums off by rounding
		{withBox(`{"label":"person","left":10,"top":20,"width":30,"height":40}`), ""},       // same place, other class
		{withBox(`{"label":"car","left":12,"top":20,"width":30,"height":40}`), ""},          // IoU 28/32 < 0.95
		{many(200), ""},
		{``, "answer: is empty"},
		{`boxes`, "answer: is not valid JSON"},
		{`{"boxes":[]`, "answer: is not valid JSON"},
		{`{"boxes":[]} {}`, "answer: unexpected data after the JSON value"},
		{`[]`, `answer: must be a JSON object {"boxes": [...]}, got []`},
		{`null`, `answer: must be a JSON object`},
		{`{}`, "boxes: is required"},
		{`{"boxes":null}`, "boxes: is required"},
		{`{"boxes":{}}`, "boxes: must be an array, got object"},
		{`{"boxes":[],"image":"a.png"}`, "image: unknown field"},
		{`{"boxes":[3]}`, "boxes[0]: must be an object with label, left, top, width and height, got 3"},
		{withBox(`null`), "boxes[1]: must be an object"},
		{withBox(`{"left":1,"top":1,"width":1,"height":1}`), "boxes[1].label: is required"},
		{withBox(`{"label":"car","left":1,"top":1,"width":1}`), "boxes[1].height: is required"},
		{withBox(`{"label":"car","top":1,"width":1,"height":1}`), "boxes[1].left: is required"},
		{withBox(`{"label":"car","left":1,"top":1,"width":"1","height":1}`), "boxes[1].width: must be a finite number, got string"},
		{withBox(`{"label":"car","left":1e309,"top":1,"width":1,"height":1}`), "boxes[1].left: must be a finite number, got number 1e309"},
		{withBox(`{"label":7,"left":1,"top":1,"width":1,"height":1}`), "boxes[1].label: must be a string, got number"},
		{withBox(`{"label":"car","left":1,"top":1,"width":1,"height":1,"colour":"red"}`), "boxes[1].colour: unknown field"},
		{withBox(`{"label":"bus","left":1,"top":1,"width":1,"height":1}`), `boxes[1].label: "bus" is not in the taxonomy [car person]`},
		{`{"boxes":[` + ok + `,` + `{"label":"person","left":50,"top":1,"width":1,"height":1}` + `,` +
			`{"label":"car","left":1,"top":1,"width":0,"height":1}]}`, "boxes[2].width: must be > 0, got 0"},
		{withBox(`{"label":"car","left":1,"top":1,"width":-2.5,"height":1}`), "boxes[1].width: must be > 0, got -2.5"},
		{withBox(`{"label":"car","left":1,"top":1,"width":1,"height":0}`), "boxes[1].height: must be > 0, got 0"},
		{withBox(`{"label":"car","left":-1,"top":1,"width":1,"height":1}`), "boxes[1].left: must be >= 0, got -1"},
		{withBox(`{"label":"car","left":1,"top":-0.5,"width":1,"height":1}`), "boxes[1].top: must be >= 0, got -0.5"},
		{withBox(`{"label":"car","left":100,"top":1,"width":1,"height":1}`), "boxes[1].left: must be < the image width 100, got 100"},
		{withBox(`{"label":"car","left":90,"top":1,"width":20,"height":1}`), "boxes[1].width: left + width must be <= the image width 100, got 90 + 20 = 110"},
		{withBox(`{"label":"car","left":1,"top":80,"width":1,"height":1}`), "boxes[1].top: must be < the image height 80, got 80"},
		{withBox(`{"label":"car","left":1,"top":70,"width":1,"height":10.5}`), "boxes[1].height: top + height must be <= the image height 80, got 70 + 10.5 = 80.5"},
		{withBox(`{"label":"car","left":10,"top":20,"width":30,"height":40}`), `boxes[1]: overlapping boxes[0] (both "car", IoU 1.000 > 0.95)`},
		{withBox(`{"label":"car","left":10.5,"top":20,"width":30,"height":40}`), `boxes[1]: overlapping boxes[0] (both "car", IoU 0.967 > 0.95)`},
		{many(201), "boxes: at most 200 boxes, got 201"},
	})

	// An image of unknown size only bounds boxes below.
	unknown := Item{Taxonomy: []string{"car"}}
	runValidationCases(t, typ, unknown, []validationCase{
		{`{"boxes":[{"label":"car","left":5000,"top":9000,"width":30.25,"height":40}]}`, ""},
		{`{"boxes":[{"label":"car","left":-1,"top":0,"width":1,"height":1}]}`, "boxes[0].left: must be >= 0, got -1"},
		{`{"boxes":[{"label":"car","left":0,"top":0,"width":0,"height":1}]}`, "boxes[0].width: must be > 0, got 0"},
		{`{"boxes":[{"label":"car","left":1e308,"top":0,"width":1e308,"height":1}]}`, "boxes[0].width: left + width is too large"},
	})
}

func TestBoundingBoxConsolidate(t *testing.T) {
	typ := lookupType(t, BoundingBoxName)
	a := boxesJSON(
		box("person", 200, 10, 40, 80),
		box("car", 10, 50, 30, 20),
		box("car", 100, 50, 30, 20), // no counterpart: dropped
	)
	b := boxesJSON(
		box("car", 12, 52, 30, 21),
		box("person", 202, 11, 41, 79),
		box("person", 400, 0, 10, 10), // no counterpart: dropped
	)
	want := `{"boxes":[` +
		`{"label":"person","left":201,"top":10.5,"width":40.5,"height":79.5},` +
		`{"label":"car","left":11,"top":51,"width":30,"height":20.5}]}`
	if got := string(typ.Consolidate([]Answer{a, b})); got != want {
		t.Errorf("Consolidate =\n%s\nwant\n%s", got, want)
	}

	// The optimal matching decides which boxes are averaged (see the greedy case above).
	x := boxesJSON(box("car", 10, 0, 10, 10), box("car", 13, 0, 10, 10))
	y := boxesJSON(box("car", 11, 0, 10, 10), box("car", 8, 0, 10, 10))
	want = `{"boxes":[{"label":"car","left":9,"top":0,"width":10,"height":10},{"label":"car","left":12,"top":0,"width":10,"height":10}]}`
	if got := string(typ.Consolidate([]Answer{x, y})); got != want {
		t.Errorf("Consolidate =\n%s\nwant\n%s", got, want)
	}

	// Three answers: a box of the first answer stays when two of three have it.
	first := boxesJSON(box("car", 0, 0, 10, 10), box("car", 50, 50, 10, 10))
	second := boxesJSON(box("car", 1, 0, 10, 10))
	third := boxesJSON(box("car", 2, 0, 10, 10))
	want = `{"boxes":[{"label":"car","left":1,"top":0,"width":10,"height":10}]}`
	if got := string(typ.Consolidate([]Answer{first, second, third})); got != want {
		t.Errorf("Consolidate of three =\n%s\nwant\n%s", got, want)
	}

	// Averages are rounded to hundredths.
	want = `{"boxes":[{"label":"car","left":10.15,"top":0,"width":10,"height":10}]}`
	if got := string(typ.Consolidate([]Answer{boxesJSON(box("car", 10.1, 0, 10, 10)), boxesJSON(box("car", 10.2, 0, 10, 10))})); got != want {
		t.Errorf("rounded Consolidate = %s, want %s", got, want)
	}
	if got := string(typ.Consolidate([]Answer{boxesJSON(), boxesJSON()})); got != `{"boxes":[]}` {
		t.Errorf("Consolidate of empty answers = %s", got)
	}
	if got := typ.Consolidate(nil); got != nil {
		t.Errorf("Consolidate(nil) = %s", got)
	}
}

func TestBoundingBoxCanonical(t *testing.T) {
	typ := lookupType(t, BoundingBoxName)
	a := Answer(`{ "boxes": [
		{"width": 30, "height": 40, "label": "person", "left": 10, "top": 20},
		{"label": "car", "left": 50.004, "top": 5, "width": 10.001, "height": 10},
		{"label": "car", "left": 1, "top": 5, "width": 2, "height": 3}
	] }`)
	b := Answer(`{"boxes":[{"label":"car","left":1,"top":5,"width":2,"height":3},` +
		`{"label":"person","left":10,"top":20,"width":30,"height":40},` +
		`{"label":"car","left":50,"top":5.0,"width":10.0,"height":10}]}`)
	want := `{"boxes":[{"label":"car","left":1,"top":5,"width":2,"height":3},` +
		`{"label":"car","left":50,"top":5,"width":10.01,"height":10},` +
		`{"label":"person","left":10,"top":20,"width":30,"height":40}]}`
	if got := string(typ.Canonical(a)); got != want {
		t.Errorf("Canonical =\n%s\nwant\n%s", got, want)
	}
	// 50.004 + 10.001 = 60.005: the right edge rounds to 60.01, so the width to 10.01; with
	// b's 50 + 10 the stored forms differ only there.
	want = strings.Replace(want, "10.01", "10", 1)
	if got := string(typ.Canonical(b)); got != want {
		t.Errorf("Canonical =\n%s\nwant\n%s", got, want)
	}
	c := Answer(`{"boxes":[{"label":"car","left":1.0000001,"top":5,"width":1.9999999,"height":3}]}`)
	d := Answer(`{"boxes":[{"label":"car","left":1,"top":5,"width":2,"height":3}]}`)
	if x, y := typ.Canonical(c), typ.Canonical(d); string(x) != string(y) || string(x) != string(d) {
		t.Errorf("equal boxes stored as %s and %s", x, y)
	}
	// A box ending on the image border still does.
	e := Answer(`{"boxes":[{"label":"car","left":0.004,"top":0,"width":99.996,"height":80}]}`)
	if got, want := string(typ.Canonical(e)), `{"boxes":[{"label":"car","left":0,"top":0,"width":100,"height":80}]}`; got != want {
		t.Errorf("Canonical = %s, want %s", got, want)
	}
	if err := typ.Validate(typ.Canonical(e), Item{Taxonomy: []string{"car"}, Width: 100, Height: 80}); err != nil {
		t.Errorf("canonical form invalid: %v", err)
	}
	// A sliver thinner than a hundredth keeps its width.
	if got, want := string(typ.Canonical(Answer(`{"boxes":[{"label":"car","left":3,"top":0,"width":0.001,"height":8}]}`))),
		`{"boxes":[{"label":"car","left":3,"top":0,"width":0.001,"height":8}]}`; got != want {
		t.Errorf("Canonical = %s, want %s", got, want)
	}
	if got := string(typ.Canonical(Answer(`{"boxes":[]}`))); got != `{"boxes":[]}` {
		t.Errorf("Canonical of no boxes = %s", got)
	}
	if got := string(typ.Canonical(Answer(`[1]`))); got != `[1]` {
		t.Errorf("Canonical of an unreadable answer = %s, want it unchanged", got)
	}
}

func FuzzBoundingBoxValidate(f *testing.F) {
	f.Add([]byte(`{"boxes":[{"label":"car","left":10,"top":20,"width":30,"height":40}]}`), 100, 80)
	f.Add([]byte(`{"boxes":[]}`), 0, 0)
	f.Add([]byte(`{"boxes":[{"label":"car","left":1e308,"top":0,"width":1e308,"height":1e-308}]}`), 0, 0)
	f.Add([]byte(`{"boxes":[{"label":"person","left":0,"top":0,"width":5,"height":5},{"label":"person","left":0.1,"top":0,"width":5,"height":5}]}`), 10, 10)
	f.Add([]byte(`{"boxes":[null,{"label":"car","left":-0,"top":-0,"width":5e-324,"height":1}],"x":1}`), -3, 7)
	f.Add([]byte(`{"boxes":{"label":"car"}}`), 1, 1)
	f.Add([]byte("\xff{"), 0, 0)
	typ := BoundingBox{}
	f.Fuzz(func(t *testing.T, data []byte, width, height int) {
		item := Item{Taxonomy: []string{"car", "person"}, Width: width, Height: height}
		err := typ.Validate(Answer(data), item)
		// Whatever the input, the other methods must not panic either.
		canon := typ.Canonical(Answer(data))
		typ.Agreement(Answer(data), canon)
		typ.Consolidate([]Answer{Answer(data), canon})
		BoxesAgree(Answer(data), canon, 0.5)
		if err != nil {
			if !strings.Contains(err.Error(), ": ") {
				t.Errorf("error names no field: %v", err)
			}
			return
		}
		if got := typ.Agreement(Answer(data), Answer(data)); got != 1 {
			t.Errorf("valid answer agrees with itself at %v", got)
		}
		if !BoxesAgree(Answer(data), Answer(data), 1) {
			t.Error("valid answer does not agree with itself box by box")
		}
		if again := typ.Canonical(canon); string(again) != string(canon) {
			t.Errorf("Canonical not stable: %s then %s", canon, again)
		}
	})
}

func BenchmarkBoxAgreement(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	labels := []string{"car", "person", "bike"}
	var x, y []Box
	for i := range 50 {
		bx := box(labels[i%len(labels)], float64(r.IntN(1800)), float64(r.IntN(1000)), 20+float64(r.IntN(100)), 20+float64(r.IntN(60)))
		x = append(x, bx)
		bx.Left += float64(r.IntN(7) - 3)
		bx.Top += float64(r.IntN(7) - 3)
		bx.Width += float64(r.IntN(5))
		y = append(y, bx)
	}
	r.Shuffle(len(y), func(i, j int) { y[i], y[j] = y[j], y[i] })
	typ := BoundingBox{}
	a, c := boxesJSON(x...), boxesJSON(y...)
	if got := typ.Agreement(a, c); got < 0.5 {
		b.Fatalf("Agreement = %v", got)
	}
	b.ReportAllocs()
	for b.Loop() {
		typ.Agreement(a, c)
	}
}
