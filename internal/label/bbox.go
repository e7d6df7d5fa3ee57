package label

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
)

// BoundingBox is object detection with axis-aligned boxes. The answer is
//
//	{"boxes":[{"label":"car","left":10,"top":20,"width":30,"height":40}, ...]}
//
// in pixels from the image's top-left corner; numbers may be fractional. An empty list means
// there is nothing to box.
type BoundingBox struct{}

// BoundingBoxName is the spec value for bounding boxes.
const BoundingBoxName = "bounding-box"

// MaxBoxes is the most boxes one answer may hold.
const MaxBoxes = 200

const (
	// boxMatchIoU is the overlap at which two boxes of the same class count as the same object
	// when answers are compared, the usual object-detection criterion.
	boxMatchIoU = 0.5
	// duplicateBoxIoU is the overlap above which two boxes of the same class in one answer are
	// taken for the same object drawn twice.
	duplicateBoxIoU = 0.95
	// edgeSlack absorbs rounding when fractional coordinates are added up against the image size.
	edgeSlack = 1e-6
)

// Box is one bounding box, in pixels.
type Box struct {
	Label  string  `json:"label"`
	Left   float64 `json:"left"`
	Top    float64 `json:"top"`
	Width  float64 `json:"width"`
	Height float64 `json:"height"`
}

type boxesAnswer struct {
	Boxes []Box `json:"boxes"`
}

func init() { Register(BoundingBox{}) }

func (BoundingBox) Name() string { return BoundingBoxName }

// NeedsImageSize: boxes are checked against the image's width and height.
func (BoundingBox) NeedsImageSize() {}

func (BoundingBox) CheckTaxonomy(taxonomy []string) error { return checkClasses(taxonomy) }

func (BoundingBox) Validate(a Answer, item Item) error {
	if err := checkTop(a, "object", `a JSON object {"boxes": [...]}`); err != nil {
		return err
	}
	var top struct {
		Boxes *[]json.RawMessage `json:"boxes"`
	}
	if err := decodeStrict(a, &top, "answer"); err != nil {
		return err
	}
	if top.Boxes == nil {
		return fmt.Errorf(`boxes: is required (use [] when there is nothing to box)`)
	}
	raws := *top.Boxes
	if len(raws) > MaxBoxes {
		return fmt.Errorf("boxes: at most %d boxes, got %d", MaxBoxes, len(raws))
	}
	boxes := make([]Box, len(raws))
	for i, r := range raws {
		b, err := parseBox(r, i, item)
		if err != nil {
			return err
		}
		boxes[i] = b
	}
	for j := range boxes {
		for i := range j {
			if boxes[i].Label != boxes[j].Label {
				continue
			}
			if iou := IoU(boxes[i], boxes[j]); iou > duplicateBoxIoU {
				return fmt.Errorf("boxes[%d]: overlapping boxes[%d] (both %q, IoU %.3f > %v): the same object is boxed twice",
					j, i, boxes[j].Label, iou, duplicateBoxIoU)
			}
		}
	}
	return nil
}

func parseBox(raw json.RawMessage, i int, item Item) (Box, error) {
	field := fmt.Sprintf("boxes[%d]", i)
	if jsonKind(raw) != "object" {
		return Box{}, fmt.Errorf("%s: must be an object with label, left, top, width and height, got %s", field, truncate(raw))
	}
	var in struct {
		Label  *string  `json:"label"`
		Left   *float64 `json:"left"`
		Top    *float64 `json:"top"`
		Width  *float64 `json:"width"`
		Height *float64 `json:"height"`
	}
	if err := decodeStrict(raw, &in, field); err != nil {
		return Box{}, err
	}
	for _, f := range []struct {
		name    string
		missing bool
	}{{"label", in.Label == nil}, {"left", in.Left == nil}, {"top", in.Top == nil}, {"width", in.Width == nil}, {"height", in.Height == nil}} {
		if f.missing {
			return Box{}, fmt.Errorf("%s.%s: is required", field, f.name)
		}
	}
	b := Box{Label: *in.Label, Left: *in.Left, Top: *in.Top, Width: *in.Width, Height: *in.Height}
	if !slices.Contains(item.Taxonomy, b.Label) {
		return Box{}, fmt.Errorf("%s.label: %q is not in the taxonomy %v", field, b.Label, item.Taxonomy)
	}
	if b.Left < 0 {
		return Box{}, fmt.Errorf("%s.left: must be >= 0, got %v", field, b.Left)
	}
	if b.Top < 0 {
		return Box{}, fmt.Errorf("%s.top: must be >= 0, got %v", field, b.Top)
	}
	if !(b.Width > 0) {
		return Box{}, fmt.Errorf("%s.width: must be > 0, got %v", field, b.Width)
	}
	if !(b.Height > 0) {
		return Box{}, fmt.Errorf("%s.height: must be > 0, got %v", field, b.Height)
	}
	if math.IsInf(b.Left+b.Width, 0) {
		return Box{}, fmt.Errorf("%s.width: left + width is too large, got %v + %v", field, b.Left, b.Width)
	}
	if math.IsInf(b.Top+b.Height, 0) {
		return Box{}, fmt.Errorf("%s.height: top + height is too large, got %v + %v", field, b.Top, b.Height)
	}
	if w := float64(item.Width); w > 0 {
		if b.Left >= w {
			return Box{}, fmt.Errorf("%s.left: must be < the image width %d, got %v", field, item.Width, b.Left)
		}
		if b.Left+b.Width > w+edgeSlack {
			return Box{}, fmt.Errorf("%s.width: left + width must be <= the image width %d, got %v + %v = %v",
				field, item.Width, b.Left, b.Width, b.Left+b.Width)
		}
	}
	if h := float64(item.Height); h > 0 {
		if b.Top >= h {
			return Box{}, fmt.Errorf("%s.top: must be < the image height %d, got %v", field, item.Height, b.Top)
		}
		if b.Top+b.Height > h+edgeSlack {
			return Box{}, fmt.Errorf("%s.height: top + height must be <= the image height %d, got %v + %v = %v",
				field, item.Height, b.Top, b.Height, b.Top+b.Height)
		}
	}
	return b, nil
}

// IoU is the intersection over union of two boxes, from 0 (disjoint) to 1 (the same rectangle).
// Labels are ignored. A box without a positive width and height has no area: its IoU is 0.
func IoU(a, b Box) float64 {
	if !(a.Width > 0 && a.Height > 0 && b.Width > 0 && b.Height > 0) {
		return 0
	}
	if a.Left == b.Left && a.Top == b.Top && a.Width == b.Width && a.Height == b.Height {
		return 1 // exactly, whatever rounding the arithmetic below would bring
	}
	iw := math.Min(a.Left+a.Width, b.Left+b.Width) - math.Max(a.Left, b.Left)
	ih := math.Min(a.Top+a.Height, b.Top+b.Height) - math.Max(a.Top, b.Top)
	if !(iw > 0 && ih > 0) {
		return 0
	}
	inter := iw * ih
	union := a.Width*a.Height + b.Width*b.Height - inter
	iou := inter / union
	if !(iou > 0) || math.IsInf(union, 0) { // NaN from overflowing areas
		return 0
	}
	return math.Min(iou, 1)
}

// matchBoxes pairs the boxes of a and b one to one so that the summed IoU of the pairs is the
// largest possible, counting only pairs of the same label with IoU >= minIoU. It returns the
// pairs (indices into a and b) and their summed IoU. The assignment is optimal, not greedy:
// taking the best-overlapping pair first can cost two other pairs.
func matchBoxes(a, b []Box, minIoU float64) (pairs [][2]int, sum float64) {
	if len(a) == 0 || len(b) == 0 {
		return nil, 0
	}
	gain := make([][]float64, len(a))
	cost := make([][]float64, len(a))
	for i := range a {
		gain[i] = make([]float64, len(b))
		cost[i] = make([]float64, len(b))
		for j := range b {
			if a[i].Label == b[j].Label {
				if iou := IoU(a[i], b[j]); iou >= minIoU && iou > 0 {
					gain[i][j] = iou
					cost[i][j] = -iou
				}
			}
		}
	}
	for i, j := range hungarian(cost) {
		if j >= 0 && gain[i][j] > 0 {
			pairs = append(pairs, [2]int{i, j})
			sum += gain[i][j]
		}
	}
	return pairs, sum
}

// Agreement matches boxes one to one (optimally, same label, IoU >= 0.5) and is the mean IoU of
// the matched pairs times the share of boxes matched, 2·matched/(n_a+n_b) — equivalently
// 2·ΣIoU/(n_a+n_b). It is 1 only when every box has an identical twin; two empty answers agree fully.
func (BoundingBox) Agreement(a, b Answer) float64 {
	x, errA := parseBoxes(a)
	y, errB := parseBoxes(b)
	if errA != nil || errB != nil {
		return 0
	}
	if len(x) == 0 && len(y) == 0 {
		return 1
	}
	_, sum := matchBoxes(x, y, boxMatchIoU)
	return math.Min(2*sum/float64(len(x)+len(y)), 1)
}

// BoxesAgree reports whether two answers have as many boxes and every box matches one box of the
// other answer (one to one) with the same class and an IoU of at least iouThreshold.
func BoxesAgree(a, b Answer, iouThreshold float64) bool {
	x, errA := parseBoxes(a)
	y, errB := parseBoxes(b)
	if errA != nil || errB != nil || len(x) != len(y) {
		return false
	}
	if len(x) == 0 {
		return true
	}
	// A perfect matching over the allowed pairs exists exactly when the cheapest assignment,
	// with allowed pairs free and others costing 1, costs nothing.
	cost := make([][]float64, len(x))
	for i := range x {
		cost[i] = make([]float64, len(y))
		for j := range y {
			if x[i].Label != y[j].Label || !(IoU(x[i], y[j]) >= iouThreshold) {
				cost[i][j] = 1
			}
		}
	}
	for i, j := range hungarian(cost) {
		if j < 0 || cost[i][j] != 0 {
			return false
		}
	}
	return true
}

// DefaultThreshold is 0.7. With the same boxes in both answers, their mean IoU must reach 0.7:
// a 100×100 box may be off by about 8 pixels both ways (IoU 0.73), not 10 (0.68). A box missing
// from one answer fails among one or two boxes (at most 2/3) and among three passes only when the
// others match almost exactly (IoU >= 0.875), so a forgotten object sends the item to review.
func (BoundingBox) DefaultThreshold() float64 { return 0.7 }

// Consolidate averages matched boxes. For two answers, each matched pair (as in Agreement) gives
// the box whose coordinates are the means of the pair's, and unmatched boxes are dropped. With
// more answers, each box of the first answer is kept when a strict majority of the answers
// (itself included) has a box matching it, and is replaced by the mean of those boxes. Boxes are
// ordered by top, then left, with coordinates rounded as in Canonical.
func (BoundingBox) Consolidate(answers []Answer) Answer {
	if len(answers) == 0 {
		return nil
	}
	ref, err := parseBoxes(answers[0])
	if err != nil {
		ref = nil
	}
	groups := make([][]Box, len(ref))
	for i, b := range ref {
		groups[i] = []Box{b}
	}
	for _, other := range answers[1:] {
		boxes, err := parseBoxes(other)
		if err != nil {
			continue // an unreadable answer matches nothing
		}
		pairs, _ := matchBoxes(ref, boxes, boxMatchIoU)
		for _, p := range pairs {
			groups[p[0]] = append(groups[p[0]], boxes[p[1]])
		}
	}
	out := []Box{}
	for _, g := range groups {
		if 2*len(g) <= len(answers) {
			continue
		}
		mean := Box{Label: g[0].Label}
		for _, b := range g {
			mean.Left += b.Left
			mean.Top += b.Top
			mean.Width += b.Width
			mean.Height += b.Height
		}
		n := float64(len(g))
		mean.Left, mean.Top, mean.Width, mean.Height = mean.Left/n, mean.Top/n, mean.Width/n, mean.Height/n
		out = append(out, roundBox(mean))
	}
	sort.SliceStable(out, func(i, j int) bool {
		x, y := out[i], out[j]
		if x.Top != y.Top {
			return x.Top < y.Top
		}
		if x.Left != y.Left {
			return x.Left < y.Left
		}
		return lessBox(x, y)
	})
	return marshalAnswer(boxesAnswer{Boxes: out})
}

// Canonical sorts boxes by label, top, left, width and height, and rounds coordinates to
// hundredths of a pixel. Edges are rounded rather than sizes, so a box that ends on the image's
// border still does; a box thinner than a hundredth of a pixel keeps its exact position and size
// that way rather than collapsing.
func (BoundingBox) Canonical(a Answer) Answer {
	boxes, err := parseBoxes(a)
	if err != nil {
		return a
	}
	for i := range boxes {
		boxes[i] = roundBox(boxes[i])
	}
	sort.SliceStable(boxes, func(i, j int) bool { return lessBox(boxes[i], boxes[j]) })
	return marshalAnswer(boxesAnswer{Boxes: boxes})
}

// lessBox orders boxes by label, top, left, width, height.
func lessBox(x, y Box) bool {
	switch {
	case x.Label != y.Label:
		return x.Label < y.Label
	case x.Top != y.Top:
		return x.Top < y.Top
	case x.Left != y.Left:
		return x.Left < y.Left
	case x.Width != y.Width:
		return x.Width < y.Width
	}
	return x.Height < y.Height
}

func roundBox(b Box) Box {
	left, top := round2(b.Left), round2(b.Top)
	width := round2(round2(b.Left+b.Width) - left)
	height := round2(round2(b.Top+b.Height) - top)
	if width <= 0 { // thinner than a hundredth: kept exact rather than collapsed
		left, width = b.Left, b.Width
	}
	if height <= 0 {
		top, height = b.Top, b.Height
	}
	return Box{Label: b.Label, Left: left, Top: top, Width: width, Height: height}
}

func round2(x float64) float64 {
	r := math.Round(x*100) / 100
	switch {
	case math.IsInf(r, 0) || math.IsNaN(r): // x*100 overflowed
		return x
	case r == 0:
		return 0 // no negative zero
	}
	return r
}

func parseBoxes(a Answer) ([]Box, error) {
	var ans boxesAnswer
	if err := json.Unmarshal(a, &ans); err != nil {
		return nil, err
	}
	if jsonKind(a) != "object" {
		return nil, fmt.Errorf("not an object")
	}
	if len(ans.Boxes) > MaxBoxes { // no valid answer has more; matching them would take cubic time
		return nil, fmt.Errorf("more than %d boxes", MaxBoxes)
	}
	return ans.Boxes, nil
}
