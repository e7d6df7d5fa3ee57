package webtest

import (
	"net/http"
	"testing"
)

// TestWorkbenchShell opens the workbench: the gateway serves the app shell at / and the shell
// asks a signed-out visitor for a token.
func TestWorkbenchShell(t *testing.T) {
	resp, err := http.Get(stack.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET / answered %s: the gateway does not serve the workbench (web.Handler) at /", resp.Status)
	}
	b := NewBrowser(t)
	b.Run(navigate(stack.URL + "/"))
	b.WaitVisible("#signin-token")
	b.Shot("signin")
}
