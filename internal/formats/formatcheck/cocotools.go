package formatcheck

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

//go:embed coco_tools.py
var cocoToolsScript []byte

// ErrNoCOCOTools: neither pycocotools nor faster-coco-eval (nor python3) is installed here.
var ErrNoCOCOTools = errors.New("no COCO tool is installed: python3 with pycocotools or faster-coco-eval is needed (`make coco-tools`)")

// COCOToolRun is what one COCO tool made of a dataset.
type COCOToolRun struct {
	Tool        string   `json:"tool"`
	Images      int      `json:"images"`
	Annotations int      `json:"annotations"`
	AP          *float64 `json:"ap"` // the dataset's boxes scored against themselves; nil without boxes
}

// RunCOCOTools loads the dataset at path with every COCO tool installed (pycocotools,
// faster-coco-eval): it indexes it, rasterises every annotation's segmentation, loads its boxes
// as results (loadRes) and scores them against the dataset with COCOeval. ErrNoCOCOTools when
// none is installed.
func RunCOCOTools(dataset string) ([]COCOToolRun, error) {
	python, err := pythonWithPackages()
	if err != nil {
		return nil, ErrNoCOCOTools
	}
	dir, err := os.MkdirTemp("", "coco-tools-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	script := filepath.Join(dir, "coco_tools.py")
	if err := os.WriteFile(script, cocoToolsScript, 0o600); err != nil {
		return nil, err
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(python, script, dataset)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 3 {
		return nil, ErrNoCOCOTools
	}
	if err != nil {
		return nil, fmt.Errorf("a COCO tool failed on the dataset: %v\n%s%s", err, stdout.Bytes(), stderr.Bytes())
	}
	out := bytes.TrimSpace(stdout.Bytes())
	var runs []COCOToolRun
	if err := json.Unmarshal(out[bytes.LastIndexByte(out, '\n')+1:], &runs); err != nil {
		return nil, fmt.Errorf("reading the COCO tools' report: %v\n%s", err, out)
	}
	return runs, nil
}

// pythonWithPackages is the system's python3, where Debian's python3-* packages install (an
// interpreter of a version manager earlier in PATH would not see them), else python3 on PATH.
func pythonWithPackages() (string, error) {
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		return "/usr/bin/python3", nil
	}
	return exec.LookPath("python3")
}
