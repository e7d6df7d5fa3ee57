package formats

import (
	"errors"
	"fmt"
)

type cocoDataset struct {
	Images      []cocoImage      `json:"images"`
	Categories  []cocoCategory   `json:"categories"`
	Annotations []cocoAnnotation `json:"annotations"`
}

type cocoImage struct {
	ID       int    `json:"id"`
	FileName string `json:"file_name"`
	Width    int    `json:"width"`
	Height   int    `json:"height"`
}

type cocoCategory struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

type cocoAnnotation struct {
	ID         int        `json:"id"`
	ImageID    int        `json:"image_id"`
	CategoryID int        `json:"category_id"`
	BBox       [4]float64 `json:"bbox"`
	Area       float64    `json:"area"`
	IsCrowd    int        `json:"iscrowd"`
	Score      float64    `json:"score"`
}

// COCO writes bounding-box lines as a COCO object detection dataset. Line n (1-based) is image n
// (file_name its source-ref, width and height from its width/height or image_size fields);
// category k+1 is taxonomy[k]; annotations are numbered from 1 in line then box order, with bbox
// [left, top, width, height] in pixels, area width*height, iscrowd 0 and score the line's
// confidence. A line of another type, without a source-ref or without an image size is an error
// naming the line.
func COCO(lines []Line, taxonomy []string) ([]byte, error) {
	ds := cocoDataset{
		Images:      make([]cocoImage, 0, len(lines)),
		Categories:  make([]cocoCategory, 0, len(taxonomy)),
		Annotations: []cocoAnnotation{},
	}
	for i, c := range taxonomy {
		ds.Categories = append(ds.Categories, cocoCategory{ID: i + 1, Name: c})
	}
	idx := classIndex(taxonomy)
	for i, l := range lines {
		if err := cocoLine(&ds, l, i+1, idx); err != nil {
			return nil, lineError(l, i, "%v", err)
		}
	}
	return marshal(ds)
}

func cocoLine(ds *cocoDataset, l Line, imageID int, idx map[string]int) error {
	if l.Meta.Type != TypeBoundingBox {
		return fmt.Errorf("COCO holds bounding-box labels only, not %q", l.Meta.Type)
	}
	if l.SourceRef == "" {
		return errors.New("the line has no source-ref to name its image")
	}
	boxes, err := decodeBoxes(l)
	if err != nil {
		return err
	}
	size, ok, err := sizeOf(l)
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("the image has no width and height (or image_size) fields")
	}
	ds.Images = append(ds.Images, cocoImage{ID: imageID, FileName: l.SourceRef, Width: size.Width, Height: size.Height})
	for k, b := range boxes {
		c, ok := idx[b.Label]
		if !ok {
			return fmt.Errorf("boxes[%d]: class %q is not in the taxonomy", k, b.Label)
		}
		w, h := num(b.Width), num(b.Height)
		ds.Annotations = append(ds.Annotations, cocoAnnotation{
			ID:         len(ds.Annotations) + 1,
			ImageID:    imageID,
			CategoryID: c + 1,
			BBox:       [4]float64{num(b.Left), num(b.Top), w, h},
			Area:       w * h,
			IsCrowd:    0,
			Score:      l.Meta.Confidence,
		})
	}
	return nil
}
