package webtest

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"
)

// stack is the embedded stack shared by the package's browser tests.
var stack *Stack

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

// run starts one stack for every test, or skips them all (failing under LABELFLOW_INTEGRATION=1)
// when Chromium or the servers are missing.
func run(m *testing.M) int {
	required := os.Getenv("LABELFLOW_INTEGRATION") == "1"
	_, errChromium := ChromiumPath()
	_, errServers := BinDir()
	if errChromium != nil || errServers != nil {
		for _, err := range []error{errChromium, errServers} {
			if err != nil {
				fmt.Fprintln(os.Stderr, "browser tests:", err)
			}
		}
		if required {
			return 1
		}
		fmt.Fprintln(os.Stderr, "skipping browser tests (make test installs chromium and builds the servers)")
		return 0
	}
	dir, err := os.MkdirTemp("", "labelflow-web-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	stack, err = StartStack(ctx, dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer stack.Stop()
	defer CloseBrowsers()
	return m.Run()
}
