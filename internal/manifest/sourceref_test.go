package manifest

import (
	"errors"
	"strings"
	"testing"
)

func TestSourceRefsOutsideTheIntakeAreQuarantined(t *testing.T) {
	intake := func(uri string) error {
		if strings.HasPrefix(uri, "s3://intake/acme/") {
			return nil
		}
		return errors.New(uri + " is outside client acme's intake locations (s3://intake/acme/)")
	}
	input := `{"id":"a","source-ref":"s3://intake/acme/1.jpg"}
{"id":"b","source-ref":"s3://labelflow/workforce/people/p-0001.json"}
{"id":"c","source":"inline text is never checked"}
{"id":"d","source-ref":"s3://intake/globex/` + strings.Repeat("x", 400) + `.jpg"}
`
	opts := defaultOpts
	opts.CheckSourceRef = intake
	res, sink := split(t, input, opts)
	if res.Items != 2 || res.Rejects != 2 {
		t.Fatalf("result = %+v", res)
	}
	for _, it := range sink.items(t) {
		if it.ID != "a" && it.ID != "c" {
			t.Fatalf("item %s was kept", it.ID)
		}
	}
	rejects := sink.rejectList(t)
	want := "source-ref is refused: s3://labelflow/workforce/people/p-0001.json is outside client acme's intake locations"
	if r := rejects[0]; r.Line != 2 || r.Field != FieldSourceRef || !strings.HasPrefix(r.Reason, want) {
		t.Fatalf("reject = %+v", r)
	}
	if r := rejects[1]; r.Line != 4 || len(r.Reason) > 2*reasonValueMax+3 || !strings.HasSuffix(r.Reason, "...") {
		t.Fatalf("a long refusal is not shortened: %+v", r)
	}
	// Without a check, every s3:// reference is an item, as before.
	if res, _ := split(t, input, defaultOpts); res.Items != 4 {
		t.Fatalf("without a check: %+v", res)
	}
}
