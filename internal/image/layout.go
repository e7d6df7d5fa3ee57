package image

import (
	"archive/tar"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The names an OCI layout gives its image: podman load and skopeo copy oci-archive: read the
// tag; docker load (containerd's importer) reads the full name.
const (
	refNameAnnotation   = "org.opencontainers.image.ref.name"
	imageNameAnnotation = "io.containerd.image.name"
	imageName           = "docker.io/library/labelflow"
)

// WriteLayoutFile writes img as an OCI image layout tarball at path, tagged tag, replacing the
// file only once the whole tarball is written.
func WriteLayoutFile(path string, img v1.Image, tag string, created time.Time) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".image-*.tar")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := WriteLayout(tmp, img, tag, created); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// WriteLayout writes img as an OCI image layout (oci-layout, index.json, blobs/sha256/...) in a
// tar stream. Entries come in a fixed order with fixed times, so the tarball is reproducible
// as well as the image.
func WriteLayout(w io.Writer, img v1.Image, tag string, created time.Time) error {
	manifest, err := img.RawManifest()
	if err != nil {
		return err
	}
	index, err := indexJSON(img, tag, int64(len(manifest)))
	if err != nil {
		return err
	}
	tw := tar.NewWriter(w)
	lw := layoutWriter{tw: tw, created: created.UTC()}
	lw.file("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`))
	lw.file("index.json", index)
	lw.dir("blobs/")
	lw.dir("blobs/sha256/")
	lw.blob(img.Digest, manifest)
	config, err := img.RawConfigFile()
	if err != nil {
		return err
	}
	lw.blob(img.ConfigName, config)
	if err := lw.layers(img); err != nil {
		return err
	}
	if lw.err != nil {
		return lw.err
	}
	return tw.Close()
}

// indexJSON is the layout's index: the one image, with its platform and tag.
func indexJSON(img v1.Image, tag string, manifestSize int64) ([]byte, error) {
	digest, err := img.Digest()
	if err != nil {
		return nil, err
	}
	mediaType, err := img.MediaType()
	if err != nil {
		return nil, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	return json.Marshal(v1.IndexManifest{
		SchemaVersion: 2,
		MediaType:     types.OCIImageIndex,
		Manifests: []v1.Descriptor{{
			MediaType:   mediaType,
			Size:        manifestSize,
			Digest:      digest,
			Platform:    cfg.Platform(),
			Annotations: map[string]string{refNameAnnotation: tag, imageNameAnnotation: imageName + ":" + tag},
		}},
	})
}

// layoutWriter writes tar entries, keeping the first error.
type layoutWriter struct {
	tw      *tar.Writer
	created time.Time
	err     error
}

func (lw *layoutWriter) header(name string, typ byte, mode, size int64) {
	if lw.err != nil {
		return
	}
	lw.err = lw.tw.WriteHeader(&tar.Header{Name: name, Typeflag: typ, Mode: mode, Size: size, ModTime: lw.created, Format: tar.FormatPAX})
}

func (lw *layoutWriter) dir(name string) { lw.header(name, tar.TypeDir, 0o755, 0) }

func (lw *layoutWriter) file(name string, body []byte) {
	lw.header(name, tar.TypeReg, 0o644, int64(len(body)))
	if lw.err == nil {
		_, lw.err = lw.tw.Write(body)
	}
}

func (lw *layoutWriter) blob(digest func() (v1.Hash, error), body []byte) {
	if lw.err != nil {
		return
	}
	h, err := digest()
	if err != nil {
		lw.err = err
		return
	}
	lw.file(blobName(h), body)
}

func (lw *layoutWriter) layers(img v1.Image) error {
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	for _, l := range layers {
		if err := lw.layer(l); err != nil {
			return err
		}
	}
	return nil
}

func (lw *layoutWriter) layer(l v1.Layer) error {
	h, err := l.Digest()
	if err != nil {
		return err
	}
	size, err := l.Size()
	if err != nil {
		return err
	}
	rc, err := l.Compressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	lw.header(blobName(h), tar.TypeReg, 0o644, size)
	if lw.err != nil {
		return lw.err
	}
	n, err := io.Copy(lw.tw, rc)
	if err == nil && n != size {
		err = fmt.Errorf("image: layer %s is %d bytes, not the %d its descriptor says", h, n, size)
	}
	return err
}

func blobName(h v1.Hash) string { return "blobs/" + h.Algorithm + "/" + h.Hex }
