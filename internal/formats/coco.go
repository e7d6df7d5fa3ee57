package formats

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"
)

// The COCO dataset written here follows the data format of cocodataset.org ("Data format",
// object detection) and what its readers need of it:
//
//   - info and licenses are present: pycocotools' COCO.loadRes copies dataset["info"] (2.0.9 and
//     2.0.10 raise KeyError without it) and several loaders read dataset["licenses"]. The
//     client's image licences are not known to LabelFlow, so licenses is an empty list and images
//     name none.
//   - an image's file_name is relative (the object's key in its bucket), so that loaders that
//     join an image root to it (detectron2, torchvision's CocoDetection, faster-coco-eval's
//     viewers) find the file in a synced copy of the bucket; coco_url keeps the S3 URI.
//   - ids are integers from 1; image_id and category_id name an image and a category.
//   - each annotation has segmentation (the box as a polygon: pycocotools' showAnns and annToMask
//     read it), area (the box's, in square pixels), bbox [x, y, width, height] in pixels,
//     iscrowd 0 and score (the label's confidence: ignored in a ground-truth set, read by
//     COCOeval when the file is loaded as results).

type cocoInfo struct {
	Description string `json:"description"`
	URL         string `json:"url"`
	Version     string `json:"version"`
	Year        int    `json:"year"`
	Contributor string `json:"contributor"`
	DateCreated string `json:"date_created"`
}

type cocoImage struct {
	ID       int    `json:"id"`
	FileName string `json:"file_name"`
	CocoURL  string `json:"coco_url"`
	Width    int    `json:"width"`
	Height   int    `json:"height"`
}

type cocoCategory struct {
	ID            int    `json:"id"`
	Name          string `json:"name"`
	Supercategory string `json:"supercategory"`
}

type cocoAnnotation struct {
	ID           int          `json:"id"`
	ImageID      int          `json:"image_id"`
	CategoryID   int          `json:"category_id"`
	Segmentation [][8]float64 `json:"segmentation"`
	Area         float64      `json:"area"`
	BBox         [4]float64   `json:"bbox"`
	IsCrowd      int          `json:"iscrowd"`
	Score        float64      `json:"score"`
}

// cocoDateLayout is COCO's own date_created form ("2017/09/01").
const cocoDateLayout = "2006/01/02"

// COCO writes bounding-box lines as one COCO object detection dataset. Line n (1-based) is image
// n; category k+1 is taxonomy[k]; annotations are numbered from 1 in line then box order. A line
// of another type, without a source-ref or without an image size is an error naming the line.
// See WriteCOCO for a dataset written chunk by chunk.
func COCO(lines []Line, taxonomy []string) ([]byte, error) {
	var b strings.Builder
	_, err := WriteCOCO(&b, 1, taxonomy, func(int) ([]Line, error) { return lines, nil })
	if err != nil {
		var ce *ChunkError
		if errors.As(err, &ce) {
			return nil, ce.Err
		}
		return nil, err
	}
	return []byte(strings.TrimSuffix(b.String(), "\n")), nil
}

// ChunkError is a line of a chunk that cannot be written in a format: retrying cannot fix it.
type ChunkError struct {
	Chunk int
	Err   error
}

func (e *ChunkError) Error() string { return fmt.Sprintf("chunk %d: %v", e.Chunk, e.Err) }
func (e *ChunkError) Unwrap() error { return e.Err }

// WriteCOCO writes one COCO dataset from chunks read by read, holding one chunk at a time:
// images in a first pass over the chunks, annotations in a second, image and annotation ids
// running across chunks; info and licenses close the object, since info's date is the latest
// completion, known after the first pass. Errors of read are returned as they are; a line that
// cannot be written is a *ChunkError. It returns the number of images.
func WriteCOCO(w io.Writer, chunks int, taxonomy []string, read func(chunk int) ([]Line, error)) (int, error) {
	bw := bufio.NewWriter(w)
	c := cocoWriter{w: bw, idx: classIndex(taxonomy), offsets: make([]int, chunks)}
	bw.WriteString(`{"images":[`)
	for chunk := range chunks {
		if err := c.chunkImages(chunk, read); err != nil {
			return 0, err
		}
	}
	cats := make([]cocoCategory, 0, len(taxonomy))
	for i, name := range taxonomy {
		cats = append(cats, cocoCategory{ID: i + 1, Name: name, Supercategory: name})
	}
	bw.WriteString(`],"categories":`)
	c.put(cats)
	bw.WriteString(`,"annotations":[`)
	for chunk := range chunks {
		if err := c.chunkAnnotations(chunk, read); err != nil {
			return 0, err
		}
	}
	bw.WriteString(`],"info":`)
	c.put(c.info())
	bw.WriteString(`,"licenses":[]}` + "\n")
	if c.err != nil {
		return 0, c.err
	}
	return c.images, bw.Flush()
}

// cocoWriter writes a dataset's members; the first error sticks.
type cocoWriter struct {
	w        *bufio.Writer
	idx      map[string]int
	offsets  []int // first image id of each chunk, less one
	images   int
	anns     int
	project  string
	latest   time.Time
	err      error
	needsSep bool
}

func (c *cocoWriter) put(v any) {
	if c.err != nil {
		return
	}
	b, err := marshal(v)
	if err != nil {
		c.err = err
		return
	}
	_, c.err = c.w.Write(b)
}

// item writes one element of the array being written.
func (c *cocoWriter) item(v any) {
	if c.needsSep {
		c.w.WriteByte(',')
	}
	c.needsSep = true
	c.put(v)
}

func (c *cocoWriter) chunkImages(chunk int, read func(int) ([]Line, error)) error {
	lines, err := read(chunk)
	if err != nil {
		return err
	}
	c.offsets[chunk] = c.images
	for i, l := range lines {
		img, err := cocoImageOf(l, c.images+1)
		if err != nil {
			return &ChunkError{Chunk: chunk, Err: lineError(l, i, "%v", err)}
		}
		c.images++
		c.item(img)
		if c.project == "" {
			c.project = l.Meta.Project
		}
		if l.Meta.CompletedAt.After(c.latest) {
			c.latest = l.Meta.CompletedAt
		}
	}
	return c.err
}

func (c *cocoWriter) chunkAnnotations(chunk int, read func(int) ([]Line, error)) error {
	c.needsSep = c.anns > 0
	lines, err := read(chunk)
	if err != nil {
		return err
	}
	for i, l := range lines {
		anns, err := cocoAnnotationsOf(l, c.offsets[chunk]+i+1, c.idx)
		if err != nil {
			return &ChunkError{Chunk: chunk, Err: lineError(l, i, "%v", err)}
		}
		for _, a := range anns {
			c.anns++
			a.ID = c.anns
			c.item(a)
		}
	}
	return c.err
}

func (c *cocoWriter) info() cocoInfo {
	latest := c.latest.UTC()
	return cocoInfo{
		Description: "LabelFlow labels of project " + c.project,
		Version:     "1.0",
		Year:        latest.Year(),
		Contributor: "LabelFlow",
		DateCreated: latest.Format(cocoDateLayout),
	}
}

func cocoImageOf(l Line, id int) (cocoImage, error) {
	if l.Meta.Type != TypeBoundingBox {
		return cocoImage{}, fmt.Errorf("COCO holds bounding-box labels only, not %q", l.Meta.Type)
	}
	if l.SourceRef == "" {
		return cocoImage{}, errors.New("the line has no source-ref to name its image")
	}
	size, ok, err := sizeOf(l)
	if err != nil {
		return cocoImage{}, err
	}
	if !ok {
		return cocoImage{}, errors.New("the image has no width and height (or image_size) fields")
	}
	return cocoImage{ID: id, FileName: relativeFileName(l.SourceRef), CocoURL: l.SourceRef, Width: size.Width, Height: size.Height}, nil
}

// relativeFileName is the path of an image under the root a client syncs its bucket to: the
// object key of an s3:// URI, the path of another URL, a plain path without its leading slash.
func relativeFileName(ref string) string {
	if u, err := url.Parse(ref); err == nil && u.Scheme != "" {
		if u.Scheme == "s3" {
			return strings.TrimPrefix(u.Path, "/")
		}
		return strings.TrimPrefix(u.EscapedPath(), "/")
	}
	return strings.TrimLeft(ref, "/")
}

func cocoAnnotationsOf(l Line, imageID int, idx map[string]int) ([]cocoAnnotation, error) {
	boxes, err := decodeBoxes(l)
	if err != nil {
		return nil, err
	}
	out := make([]cocoAnnotation, 0, len(boxes))
	for k, b := range boxes {
		c, ok := idx[b.Label]
		if !ok {
			return nil, fmt.Errorf("boxes[%d]: class %q is not in the taxonomy", k, b.Label)
		}
		x, y, w, h := num(b.Left), num(b.Top), num(b.Width), num(b.Height)
		out = append(out, cocoAnnotation{
			ImageID:      imageID,
			CategoryID:   c + 1,
			Segmentation: [][8]float64{{x, y, x + w, y, x + w, y + h, x, y + h}},
			Area:         w * h,
			BBox:         [4]float64{x, y, w, h},
			IsCrowd:      0,
			Score:        l.Meta.Confidence,
		})
	}
	return out, nil
}
