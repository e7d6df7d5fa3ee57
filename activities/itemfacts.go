package activities

import (
	"context"
	"encoding/json"
	"image"
	_ "image/gif" // image headers the platform reads for sizes
	_ "image/jpeg"
	_ "image/png"
	"io"
	"unicode/utf8"

	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/manifest"
	"github.com/labelflow/labelflow/internal/store"
)

// ItemFacts is what answer validation must know of one item: the image's size for boxes, the
// text's length for spans. Zero means unknown or not needed.
type ItemFacts struct {
	Width   int `json:"w,omitempty"`
	Height  int `json:"h,omitempty"`
	TextLen int `json:"t,omitempty"`
}

// ItemFactsInput names the chunk and what is needed.
type ItemFactsInput struct {
	ProjectID  string
	Chunk      int
	ImageSize  bool
	TextLength bool
}

// ItemFacts reads, once per chunk, the facts validation needs. Image sizes come from the manifest
// line (width/height or image_size) or else from the image's header in the platform store.
func (a *Activities) ItemFacts(ctx context.Context, in ItemFactsInput) ([]ItemFacts, error) {
	data, err := a.Store.Get(ctx, layout.ChunkKey(in.ProjectID, in.Chunk))
	if err != nil {
		return nil, err
	}
	items, err := manifest.ReadChunk(data)
	if err != nil {
		return nil, invalidInput("chunk %d: %v", in.Chunk, err)
	}
	var client string
	if in.ImageSize {
		sp, err := a.spec(ctx, in.ProjectID)
		if err != nil {
			return nil, err
		}
		client = sp.Client
	}
	out := make([]ItemFacts, len(items))
	for i, it := range items {
		if in.TextLength {
			out[i].TextLen = utf8.RuneCountInString(it.Source)
		}
		if in.ImageSize {
			out[i].Width, out[i].Height = declaredSize(it.Data)
			if out[i].Width == 0 && it.SourceRef != "" {
				out[i].Width, out[i].Height = a.headerSize(ctx, client, it.SourceRef)
			}
		}
	}
	return out, nil
}

func declaredSize(line json.RawMessage) (int, int) {
	var v struct {
		Width     float64         `json:"width"`
		Height    float64         `json:"height"`
		ImageSize json.RawMessage `json:"image_size"`
	}
	if json.Unmarshal(line, &v) != nil {
		return 0, 0
	}
	if v.Width > 0 && v.Height > 0 {
		return int(v.Width), int(v.Height)
	}
	var one struct{ Width, Height float64 }
	if json.Unmarshal(v.ImageSize, &one) == nil && one.Width > 0 {
		return int(one.Width), int(one.Height)
	}
	var list []struct{ Width, Height float64 }
	if json.Unmarshal(v.ImageSize, &list) == nil && len(list) > 0 {
		return int(list[0].Width), int(list[0].Height)
	}
	return 0, 0
}

// headerSize decodes only the image header; an image that cannot be read leaves the size unknown
// and boxes are then checked for shape only. Only images in the client's intake are read (chunks
// split before intake checks existed may still name others).
func (a *Activities) headerSize(ctx context.Context, client, ref string) (int, int) {
	if err := a.Boundary.MayRead(client, ref); err != nil {
		a.logger(ctx).Warn("image size unknown", "source_ref", ref, "error", err)
		return 0, 0
	}
	bucket, key, err := store.ParseURI(ref)
	if err != nil {
		return 0, 0
	}
	r, err := a.Store.OpenIn(ctx, bucket, key)
	if err != nil {
		a.logger(ctx).Warn("image size unknown", "source_ref", ref, "error", err)
		return 0, 0
	}
	defer r.Close()
	cfg, _, err := image.DecodeConfig(io.LimitReader(r, 1<<20))
	if err != nil {
		a.logger(ctx).Warn("image size unknown", "source_ref", ref, "error", err)
		return 0, 0
	}
	return cfg.Width, cfg.Height
}
