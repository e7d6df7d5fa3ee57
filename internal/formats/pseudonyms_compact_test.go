package formats

import (
	"bytes"
	"strings"
	"testing"
)

// The compact rename gives exactly the bytes of the full decode and encode, on stored lines and
// on lines in other forms, which it leaves to the full decode.
func TestCompactRenameGivesTheBytesOfTheFullRename(t *testing.T) {
	name := func(p string) string { return "p-" + p + "<&>" }
	m := meta(TypeSingleLabel)
	m.Reviewer = "boss"
	stored := delivered(t, `{"id":"1","source":"w1 \"wrote\" {this}, [x]","n":-1.5e3,"ok":true,"none":null}`, `"cat"`, m)
	lines := []string{
		stored,
		`{"id":"2","label-metadata":{"annotators":["a\u00e9","b"],"reviewer":"r","answers":[["x"],{"y":[1,2]}]},"z":{}}`,
		`{"label-metadata":{"annotators":[]},"label-metadata":{"reviewer":"r2"}}`,
		`{}`,
		`{"id": "3", "label-metadata": {"annotators": ["a"]}}`,
		`{"id":"4","label-metadata":{"annotators":null,"reviewer":"r"}}`,
		`{"k\u0065y":"5","label-metadata":{"annotators":["a"]}}`,
		`{"id":"6","label-metadata":{"annotators":["a"] ,"reviewer":"r"}}`,
	}
	for _, line := range lines {
		want, err := slowRename([]byte(line), name)
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		got, err := renameLine([]byte(line), name)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s:\n got %s, %v\nwant %s", line, got, err, want)
		}
	}
	for _, bad := range []string{`{"label-metadata":{"annotators":"a"}}`, `{"label-metadata":[1]}`, `{"id":1,}`, `[1]`} {
		if _, err := renameLine([]byte(bad), name); err == nil {
			t.Errorf("%s: renamed, want an error", bad)
		}
	}
	if _, ok := renameCompact([]byte(lines[4]), name); ok {
		t.Errorf("a line with spaces took the compact rename")
	}
	if _, ok := renameCompact([]byte(strings.TrimSpace(stored)), name); !ok {
		t.Errorf("a stored line did not take the compact rename")
	}
}

// slowRename is renameLine without the compact rename: the full decode and encode.
func slowRename(line []byte, name func(string) string) ([]byte, error) {
	fields, err := objectFields(line)
	if err != nil {
		return nil, err
	}
	for i, f := range fields {
		if f.key == fieldLabelMetadata {
			if fields[i].value, err = renameMetadata(f.value, name); err != nil {
				return nil, err
			}
		}
	}
	return marshal(object(fields))
}

func BenchmarkRenameAnnotators(b *testing.B) {
	line := `{"id":"review-1","label":"positive","label-metadata":{"annotators":["amina","grace"],"answers":["positive","positive"],` +
		`"completed_at":"2026-11-27T10:00:00Z","confidence":0.9697,"method":"agreed","project":"p","type":"single-label"},` +
		`"source":"The product was exactly what I ordered, thank you."}` + "\n"
	data := bytes.NewBufferString(strings.Repeat(line, 500))
	b.SetBytes(int64(data.Len()))
	for b.Loop() {
		if _, err := RenameAnnotators(data.Bytes(), func(p string) string { return "p-" + p }); err != nil {
			b.Fatal(err)
		}
	}
}
