package image

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

// TestImage builds labelflow and its image as `make image` does, reads the tarball back as an
// OCI layout and checks what a container runtime would use.
func TestImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the labelflow binary")
	}
	dir := t.TempDir()
	binary := filepath.Join(dir, "labelflow")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	if err := BuildBinary(ctx, runtime.GOARCH, binary); err != nil {
		t.Fatal(err)
	}
	opts := Options{
		Binary: binary, CACerts: testCerts(t), Arch: runtime.GOARCH,
		Version: "1.2.3", Revision: "0123456789abcdef", Created: time.Unix(1700000000, 0),
	}
	tarPath := filepath.Join(dir, "image.tar")
	if err := WriteLayoutFile(tarPath, mustBuild(t, opts), opts.Version, opts.Created); err != nil {
		t.Fatal(err)
	}
	img := readLayout(t, tarPath, dir)

	t.Run("valid OCI image", func(t *testing.T) { checkValid(t, img) })
	t.Run("config", func(t *testing.T) { checkConfig(t, img, opts) })
	t.Run("binary runs", func(t *testing.T) { checkBinaryRuns(t, img, dir) })
	t.Run("reproducible", func(t *testing.T) { checkReproducible(t, img, tarPath, opts) })
}

func mustBuild(t *testing.T, opts Options) v1.Image {
	t.Helper()
	img, err := Build(opts)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// testCerts is the build machine's CA bundle when it has one, else a stand-in: the image takes
// whatever PEM file it is given.
func testCerts(t *testing.T) string {
	if _, err := os.Stat(CACertsPath); err == nil {
		return CACertsPath
	}
	p := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(p, []byte("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// readLayout unpacks the tarball and opens it with go-containerregistry's layout reader, the
// way skopeo or podman would read an oci-archive.
func readLayout(t *testing.T, tarPath, dir string) v1.Image {
	t.Helper()
	root := filepath.Join(dir, "layout")
	untar(t, tarPath, root)
	p, err := layout.FromPath(root)
	if err != nil {
		t.Fatal(err)
	}
	index, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	im, err := index.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 {
		t.Fatalf("the layout holds %d manifests, want 1", len(im.Manifests))
	}
	desc := im.Manifests[0]
	if got := desc.Annotations[refNameAnnotation]; got != "1.2.3" {
		t.Errorf("tag in the layout = %q, want 1.2.3", got)
	}
	if got := desc.Annotations[imageNameAnnotation]; got != "docker.io/library/labelflow:1.2.3" {
		t.Errorf("image name in the layout = %q, want docker.io/library/labelflow:1.2.3", got)
	}
	if desc.Platform == nil || desc.Platform.OS != "linux" || desc.Platform.Architecture != runtime.GOARCH {
		t.Errorf("platform in the index = %+v, want linux/%s", desc.Platform, runtime.GOARCH)
	}
	img, err := index.Image(desc.Digest)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func checkValid(t *testing.T, img v1.Image) {
	// validate.Image recomputes every digest and diff id from the blobs.
	if err := validate.Image(img); err != nil {
		t.Fatal(err)
	}
	mt, _ := img.MediaType()
	if mt != types.OCIManifestSchema1 {
		t.Errorf("manifest media type = %s, want %s", mt, types.OCIManifestSchema1)
	}
	layers, _ := img.Layers()
	if len(layers) != 1 {
		t.Fatalf("%d layers, want 1", len(layers))
	}
	if lmt, _ := layers[0].MediaType(); lmt != types.OCILayer {
		t.Errorf("layer media type = %s, want %s", lmt, types.OCILayer)
	}
}

func checkConfig(t *testing.T, img v1.Image, opts Options) {
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Config
	if c.User != "65532:65532" {
		t.Errorf("user = %q, want the numeric non-root 65532:65532", c.User)
	}
	if strings.Join(c.Entrypoint, " ") != BinaryPath {
		t.Errorf("entrypoint = %q, want [%s]", c.Entrypoint, BinaryPath)
	}
	want := map[string]string{
		"org.opencontainers.image.source":   DefaultSource,
		"org.opencontainers.image.version":  opts.Version,
		"org.opencontainers.image.revision": opts.Revision,
	}
	for k, v := range want {
		if c.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, c.Labels[k], v)
		}
	}
	if cfg.OS != "linux" || cfg.Architecture != opts.Arch {
		t.Errorf("platform = %s/%s, want linux/%s", cfg.OS, cfg.Architecture, opts.Arch)
	}
	if !cfg.Created.Time.Equal(opts.Created) {
		t.Errorf("created = %v, want %v", cfg.Created.Time, opts.Created)
	}
}

// checkBinaryRuns takes labelflow out of the layer, checks it needs no dynamic loader (the base
// is empty), and runs it.
func checkBinaryRuns(t *testing.T, img v1.Image, dir string) {
	files := layerFiles(t, img)
	for _, name := range []string{BinaryPath, CACertsPath, "/etc/passwd"} {
		if _, ok := files[name]; !ok {
			t.Errorf("%s is not in the image", name)
		}
	}
	hdr := files[BinaryPath]
	if hdr == nil {
		t.FailNow()
	}
	if hdr.Mode&0o111 == 0 {
		t.Errorf("%s mode %o is not executable", BinaryPath, hdr.Mode)
	}
	bin := filepath.Join(dir, "extracted-labelflow")
	if err := os.WriteFile(bin, hdr.body, 0o755); err != nil {
		t.Fatal(err)
	}
	checkStatic(t, bin)
	if runtime.GOOS != "linux" {
		t.Skip("the image's binary runs on linux only")
	}
	out, err := exec.Command(bin, "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("labelflow --help from the image: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "worker") {
		t.Errorf("labelflow --help does not list the worker command:\n%s", out)
	}
}

func checkStatic(t *testing.T, bin string) {
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("labelflow in the image is dynamically linked: it needs a loader the empty base does not have")
		}
	}
}

// checkReproducible builds the image again from the same inputs: same digest, same tarball bytes.
func checkReproducible(t *testing.T, img v1.Image, tarPath string, opts Options) {
	again := filepath.Join(t.TempDir(), "again.tar")
	if err := WriteLayoutFile(again, mustBuild(t, opts), opts.Version, opts.Created); err != nil {
		t.Fatal(err)
	}
	d1, _ := img.Digest()
	d2, _ := mustBuild(t, opts).Digest()
	if d1 != d2 {
		t.Errorf("digest differs between two builds of the same inputs: %s, %s", d1, d2)
	}
	if fileSum(t, tarPath) != fileSum(t, again) {
		t.Error("the layout tarball differs between two builds of the same inputs")
	}
	changed := opts
	changed.Revision = "fedcba9876543210"
	if d3, _ := mustBuild(t, changed).Digest(); d3 == d1 {
		t.Error("a different revision label gave the same digest")
	}
}

type layerFile struct {
	*tar.Header
	body []byte
}

func layerFiles(t *testing.T, img v1.Image) map[string]*layerFile {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	files := map[string]*layerFile{}
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Uid != 0 && hdr.Name != HomeDir[1:]+"/" {
			t.Errorf("%s is owned by %d: only the home directory belongs to the non-root user", hdr.Name, hdr.Uid)
		}
		files["/"+strings.TrimSuffix(hdr.Name, "/")] = &layerFile{Header: hdr, body: body}
	}
}

func untar(t *testing.T, tarPath, root string) {
	t.Helper()
	f, err := os.Open(tarPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		target := filepath.Join(root, filepath.FromSlash(hdr.Name))
		if hdr.Typeflag == tar.TypeDir {
			if err := os.MkdirAll(target, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		var body bytes.Buffer
		if _, err := io.Copy(&body, tr); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(target, body.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func fileSum(t *testing.T, p string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}
