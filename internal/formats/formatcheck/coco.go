package formatcheck

import (
	"encoding/json"
	"fmt"
	"net/url"
	"path"
	"strings"
)

// COCO checks a COCO object detection dataset by what its readers need (cocodataset.org's data
// format; pycocotools' coco.py: createIndex, loadRes, showAnns and annToMask; faster-coco-eval,
// which reads the same keys):
//
//   - the top level holds info (an object: loadRes copies it, KeyError in pycocotools 2.0.9 and
//     2.0.10 without it), licenses (a list), images, annotations and categories (lists);
//   - images, categories and annotations have unique integer ids (createIndex keys on them);
//   - an image's file_name is a relative path, which loaders join to an image root; its
//     coco_url, when given, is an absolute URI; width and height are positive;
//   - an annotation's image_id and category_id name an image and a category; bbox is
//     [x, y, width, height] inside its image; area is a positive number (COCOeval's area
//     ranges); iscrowd is 0 or 1; segmentation is a list of polygons of at least three points
//     (showAnns draws them, annToMask rasterises them with frPyObjects).
func COCO(data []byte) error {
	var ds struct {
		Info        *map[string]any   `json:"info"`
		Licenses    *[]any            `json:"licenses"`
		Images      *[]cocoImage      `json:"images"`
		Annotations *[]cocoAnnotation `json:"annotations"`
		Categories  *[]cocoCategory   `json:"categories"`
	}
	if err := json.Unmarshal(data, &ds); err != nil {
		return fmt.Errorf("not a COCO dataset: %v", err)
	}
	switch {
	case ds.Info == nil || *ds.Info == nil:
		return fmt.Errorf(`no "info" object: pycocotools' loadRes raises KeyError: 'info'`)
	case ds.Licenses == nil:
		return fmt.Errorf(`no "licenses" list`)
	case ds.Images == nil || ds.Annotations == nil || ds.Categories == nil:
		return fmt.Errorf(`"images", "annotations" and "categories" must all be lists`)
	}
	images, err := cocoImages(*ds.Images)
	if err != nil {
		return err
	}
	categories := map[int]bool{}
	for i, c := range *ds.Categories {
		if c.ID == nil || categories[*c.ID] || c.Name == "" {
			return fmt.Errorf("categories[%d]: ids must be unique integers and names given", i)
		}
		categories[*c.ID] = true
	}
	seen := map[int]bool{}
	for i, a := range *ds.Annotations {
		if a.ID == nil || seen[*a.ID] {
			return fmt.Errorf("annotations[%d]: ids must be unique integers", i)
		}
		seen[*a.ID] = true
		if err := cocoAnnotationOK(a, images, categories); err != nil {
			return fmt.Errorf("annotations[%d] (id %d): %v", i, *a.ID, err)
		}
	}
	return nil
}

type cocoImage struct {
	ID       *int   `json:"id"`
	FileName string `json:"file_name"`
	CocoURL  string `json:"coco_url"`
	Width    int    `json:"width"`
	Height   int    `json:"height"`
}

type cocoCategory struct {
	ID   *int   `json:"id"`
	Name string `json:"name"`
}

type cocoAnnotation struct {
	ID           *int            `json:"id"`
	ImageID      int             `json:"image_id"`
	CategoryID   int             `json:"category_id"`
	BBox         []float64       `json:"bbox"`
	Area         *float64        `json:"area"`
	IsCrowd      *int            `json:"iscrowd"`
	Segmentation json.RawMessage `json:"segmentation"`
}

func cocoImages(list []cocoImage) (map[int]cocoImage, error) {
	images := map[int]cocoImage{}
	for i, im := range list {
		if im.ID == nil || images[*im.ID].ID != nil {
			return nil, fmt.Errorf("images[%d]: ids must be unique integers", i)
		}
		if im.Width <= 0 || im.Height <= 0 {
			return nil, fmt.Errorf("images[%d]: width and height must be positive", i)
		}
		if err := relativePath(im.FileName); err != nil {
			return nil, fmt.Errorf("images[%d]: file_name %q: %v", i, im.FileName, err)
		}
		if im.CocoURL != "" {
			if u, err := url.Parse(im.CocoURL); err != nil || u.Scheme == "" {
				return nil, fmt.Errorf("images[%d]: coco_url %q is not an absolute URI", i, im.CocoURL)
			}
		}
		images[*im.ID] = im
	}
	return images, nil
}

// relativePath refuses what breaks os.path.join(image_root, file_name): a URI, an absolute path,
// a way out of the root.
func relativePath(p string) error {
	switch {
	case p == "":
		return fmt.Errorf("empty")
	case strings.Contains(p, "://"):
		return fmt.Errorf("a URI, not a path under an image root")
	case strings.HasPrefix(p, "/"):
		return fmt.Errorf("absolute: joining it to an image root drops the root")
	case strings.HasPrefix(path.Clean(p), ".."):
		return fmt.Errorf("leaves the image root")
	}
	return nil
}

func cocoAnnotationOK(a cocoAnnotation, images map[int]cocoImage, categories map[int]bool) error {
	im, ok := images[a.ImageID]
	if !ok {
		return fmt.Errorf("image_id %d names no image", a.ImageID)
	}
	if !categories[a.CategoryID] {
		return fmt.Errorf("category_id %d names no category", a.CategoryID)
	}
	if len(a.BBox) != 4 || a.BBox[2] < 0 || a.BBox[3] < 0 {
		return fmt.Errorf("bbox %v is not [x, y, width, height]", a.BBox)
	}
	const slack = 0.5 // half a pixel of rounding
	if a.BBox[0] < -slack || a.BBox[1] < -slack || a.BBox[0]+a.BBox[2] > float64(im.Width)+slack || a.BBox[1]+a.BBox[3] > float64(im.Height)+slack {
		return fmt.Errorf("bbox %v leaves its %dx%d image", a.BBox, im.Width, im.Height)
	}
	if a.Area == nil || *a.Area <= 0 {
		return fmt.Errorf("no positive area")
	}
	if a.IsCrowd == nil || (*a.IsCrowd != 0 && *a.IsCrowd != 1) {
		return fmt.Errorf("iscrowd must be 0 or 1")
	}
	var polygons [][]float64
	if err := json.Unmarshal(a.Segmentation, &polygons); err != nil || len(polygons) == 0 {
		return fmt.Errorf("segmentation must be a list of polygons")
	}
	for _, p := range polygons {
		if len(p) < 6 || len(p)%2 != 0 {
			return fmt.Errorf("a polygon needs at least three x,y points, got %d numbers", len(p))
		}
	}
	return nil
}
