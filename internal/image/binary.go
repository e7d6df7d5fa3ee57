package image

import (
	"context"
	"fmt"
	"os"
	"os/exec"
)

// Package is the import path of the command the image runs.
const Package = "github.com/labelflow/labelflow/cmd/labelflow"

// BuildBinary compiles labelflow for linux/arch into out: without cgo, so it is statically linked
// and runs on an empty base; with -trimpath and no VCS stamp, so that the same source gives the
// same bytes wherever it is built.
func BuildBinary(ctx context.Context, arch, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid=", "-o", out, Package)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("image: go build %s: %w\n%s", Package, err, msg)
	}
	return nil
}
