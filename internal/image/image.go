// Package image builds LabelFlow's container image without a container engine: one layer on an
// empty base holding the statically linked labelflow binary and the build machine's CA
// certificates, written as an OCI image layout tarball. The same binary, certificates and
// options give the same image digest, byte for byte.
package image

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Where things are inside the image.
const (
	BinaryPath  = "/usr/local/bin/labelflow"
	CACertsPath = "/etc/ssl/certs/ca-certificates.crt"
	HomeDir     = "/home/nonroot"
)

// NonRootUser is the numeric user and group the processes run as: distroless's nonroot, so that
// the image built here and the one the Dockerfile builds run as the same user, and Kubernetes'
// runAsNonRoot can check it without a passwd lookup.
const NonRootUser = 65532

// DefaultSource is the repository the image's source label points to.
const DefaultSource = "https://github.com/labelflow/labelflow"

// Options say what goes into the image.
type Options struct {
	Binary   string    // a statically linked labelflow for linux/Arch
	CACerts  string    // a PEM bundle, usually /etc/ssl/certs/ca-certificates.crt
	Arch     string    // GOARCH of the binary: amd64, arm64
	Version  string    // the image's version label and its tag in the layout
	Revision string    // the source revision label (a commit)
	Source   string    // the source repository label; DefaultSource when empty
	Created  time.Time // the image's creation time and every file's time; fixed for reproducibility
}

// Build assembles the image in memory.
func Build(opts Options) (v1.Image, error) {
	if opts.Arch == "" || opts.Version == "" {
		return nil, fmt.Errorf("image: Arch and Version are required")
	}
	layer, err := rootLayer(opts)
	if err != nil {
		return nil, err
	}
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:   layer,
		History: v1.History{Created: v1.Time{Time: opts.Created.UTC()}, CreatedBy: "labelflow image build", Comment: "labelflow and CA certificates"},
	})
	if err != nil {
		return nil, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", opts.Arch
	cfg.Created = v1.Time{Time: opts.Created.UTC()}
	cfg.Config = runConfig(opts)
	return mutate.ConfigFile(img, cfg)
}

// runConfig is how a container of the image starts: labelflow as a non-root user, no shell.
func runConfig(opts Options) v1.Config {
	source := opts.Source
	if source == "" {
		source = DefaultSource
	}
	user := fmt.Sprintf("%d:%d", NonRootUser, NonRootUser)
	return v1.Config{
		User:       user,
		Entrypoint: []string{BinaryPath},
		WorkingDir: HomeDir,
		Env: []string{
			"PATH=/usr/local/bin",
			"HOME=" + HomeDir,
			"SSL_CERT_FILE=" + CACertsPath,
		},
		Labels: map[string]string{
			"org.opencontainers.image.source":   source,
			"org.opencontainers.image.version":  opts.Version,
			"org.opencontainers.image.revision": opts.Revision,
			"org.opencontainers.image.title":    "labelflow",
		},
	}
}

// rootLayer is the image's single layer, gzip-compressed as OCI layers are.
func rootLayer(opts Options) (v1.Layer, error) {
	binary, err := os.ReadFile(opts.Binary)
	if err != nil {
		return nil, fmt.Errorf("image: the labelflow binary: %w", err)
	}
	certs, err := os.ReadFile(opts.CACerts)
	if err != nil {
		return nil, fmt.Errorf("image: CA certificates: %w", err)
	}
	files, err := layerTar(opts.Created, binary, certs)
	if err != nil {
		return nil, err
	}
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(files)), nil
	}, tarball.WithMediaType(types.OCILayer), tarball.WithCompressedCaching)
}

// entry is one file or directory of the layer.
type entry struct {
	name string
	mode int64
	uid  int
	body []byte
	dir  bool
}

// layerTar writes the layer's files in a fixed order with fixed owners and times. /etc/passwd
// and /etc/group name the non-root user, so that tools that look users up find it; /tmp is the
// one place a process may write when the root file system is writable.
func layerTar(created time.Time, binary, certs []byte) ([]byte, error) {
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:%s:/sbin/nologin\n", NonRootUser, NonRootUser, HomeDir)
	group := fmt.Sprintf("root:x:0:\nnonroot:x:%d:\n", NonRootUser)
	entries := []entry{
		{name: "etc/", mode: 0o755, dir: true},
		{name: "etc/group", mode: 0o644, body: []byte(group)},
		{name: "etc/passwd", mode: 0o644, body: []byte(passwd)},
		{name: "etc/ssl/", mode: 0o755, dir: true},
		{name: "etc/ssl/certs/", mode: 0o755, dir: true},
		{name: path.Clean(CACertsPath[1:]), mode: 0o644, body: certs},
		{name: "home/", mode: 0o755, dir: true},
		{name: HomeDir[1:] + "/", mode: 0o700, uid: NonRootUser, dir: true},
		{name: "tmp/", mode: 0o1777, dir: true},
		{name: "usr/", mode: 0o755, dir: true},
		{name: "usr/local/", mode: 0o755, dir: true},
		{name: "usr/local/bin/", mode: 0o755, dir: true},
		{name: BinaryPath[1:], mode: 0o755, body: binary},
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		if err := writeEntry(tw, e, created); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeEntry(tw *tar.Writer, e entry, created time.Time) error {
	hdr := &tar.Header{
		Name:     e.name,
		Mode:     e.mode,
		Uid:      e.uid,
		Gid:      e.uid,
		ModTime:  created.UTC(),
		Typeflag: tar.TypeReg,
		Size:     int64(len(e.body)),
		Format:   tar.FormatPAX,
	}
	if e.dir {
		hdr.Typeflag, hdr.Size = tar.TypeDir, 0
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	_, err := tw.Write(e.body)
	return err
}
