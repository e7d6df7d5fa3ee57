package webtest

import (
	"context"
	"testing"
	"time"

	"github.com/labelflow/labelflow/internal/demo"
	"github.com/labelflow/labelflow/internal/role"
	"github.com/labelflow/labelflow/internal/workforce"
)

// TestDemoWorkbench checks what `labelflow demo` offers in the browser: a token for each role
// that signs its person in, and a project the annotator finds in the feed.
func TestDemoWorkbench(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	wb, err := demo.OpenWorkbench(ctx, stack.Env, 5)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{role.Annotator, role.Reviewer, role.Finance, role.Ops}
	if len(wb.Logins) != len(want) || wb.URL != stack.URL+"/" {
		t.Fatalf("workbench %+v", wb)
	}
	for i, l := range wb.Logins {
		act, err := stack.Env.App.Authenticate(ctx, l.Token)
		if err != nil || act.ID != l.Person.ID || act.Role != want[i] {
			t.Fatalf("login %d (%s): %+v, %v", i, want[i], act.Person, err)
		}
	}
	b := NewBrowser(t)
	b.SignIn(wb.URL, wb.Logins[0].Token)
	b.WaitVisible(`[data-project="` + demo.WorkbenchProject + `"] button.start`)

	// The project is open to everyone: finish it, so that it leaves the other tests' feeds.
	second, err := stack.Person(ctx, workforce.Person{ID: "demo-test-second", Name: "Second Annotator", Languages: []string{"en"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, token := range []string{wb.Logins[0].Token, second} {
		if _, err := stack.AnswerSuite(ctx, wb.Project, token, Always("positive")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := stack.Env.App.WaitProject(ctx, wb.Project, nil); err != nil {
		t.Fatal(err)
	}
}
