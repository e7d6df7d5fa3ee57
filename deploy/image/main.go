// Command image builds LabelFlow's container image as an OCI image layout tarball, with the Go
// toolchain alone: no container engine, no registry and no base image to pull. `make image` runs
// it; load the result with `podman load -i`, `docker load -i` (Docker 25 or later), or push it
// with `skopeo copy oci-archive:bin/labelflow-image.tar docker://REGISTRY/labelflow:TAG`.
//
//	go run ./deploy/image [--out bin/labelflow-image.tar] [--version V] [--revision COMMIT]
//	    [--arch amd64] [--binary PATH] [--ca-certs /etc/ssl/certs/ca-certificates.crt]
//
// The creation time comes from SOURCE_DATE_EPOCH (the Makefile sets the commit's time), so that
// building the same commit twice gives the same digest.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/labelflow/labelflow/internal/image"
)

func main() {
	if err := run(context.Background(), os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("image", flag.ContinueOnError)
	out := fs.String("out", "bin/labelflow-image.tar", "the OCI image layout tarball to write")
	binary := fs.String("binary", "", "a labelflow built for linux/ARCH with CGO_ENABLED=0 (built here when empty)")
	opts := image.Options{}
	fs.StringVar(&opts.Arch, "arch", runtime.GOARCH, "the image's architecture (GOARCH)")
	fs.StringVar(&opts.Version, "version", "dev", "the version label, and the image's tag in the layout")
	fs.StringVar(&opts.Revision, "revision", "", "the source commit label")
	fs.StringVar(&opts.Source, "source", image.DefaultSource, "the source repository label")
	fs.StringVar(&opts.CACerts, "ca-certs", image.CACertsPath, "the CA bundle the processes trust for TLS to S3 and Temporal")
	if err := fs.Parse(args); err != nil {
		return err
	}
	created, err := sourceDate()
	if err != nil {
		return err
	}
	opts.Created = created
	opts.Binary = *binary
	if opts.Binary == "" {
		dir, err := os.MkdirTemp("", "labelflow-image-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		opts.Binary = filepath.Join(dir, "labelflow")
		if err := image.BuildBinary(ctx, opts.Arch, opts.Binary); err != nil {
			return err
		}
	}
	return write(*out, opts)
}

func write(out string, opts image.Options) error {
	img, err := image.Build(opts)
	if err != nil {
		return err
	}
	if err := image.WriteLayoutFile(out, img, opts.Version, opts.Created); err != nil {
		return err
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	fmt.Printf("%s: labelflow:%s linux/%s %s\n", out, opts.Version, opts.Arch, digest)
	return nil
}

// sourceDate is SOURCE_DATE_EPOCH as a time, or the Unix epoch when it is not set: never the
// clock, which would make every build differ.
func sourceDate() (time.Time, error) {
	v := os.Getenv("SOURCE_DATE_EPOCH")
	if v == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	sec, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q is not a number of seconds", v)
	}
	return time.Unix(sec, 0).UTC(), nil
}
