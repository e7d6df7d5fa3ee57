package manifest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"
)

// memSink records everything Split writes.
type memSink struct {
	chunks      [][]byte
	indexes     []int
	counts      []int
	rejects     []byte
	rejectCount int
	rejectCalls int

	failChunk   int // chunk index to fail on, -1 for none
	failRejects bool
	onChunk     func(index int)
}

var errSink = errors.New("object store unavailable")

func newMemSink() *memSink { return &memSink{failChunk: -1} }

func (s *memSink) WriteChunk(_ context.Context, index int, data []byte, items int) error {
	if index == s.failChunk {
		return errSink
	}
	s.chunks = append(s.chunks, data)
	s.indexes = append(s.indexes, index)
	s.counts = append(s.counts, items)
	if s.onChunk != nil {
		s.onChunk(index)
	}
	return nil
}

func (s *memSink) WriteRejects(_ context.Context, data []byte, count int) error {
	s.rejectCalls++
	if s.failRejects {
		return errSink
	}
	s.rejects = data
	s.rejectCount = count
	return nil
}

func (s *memSink) items(t *testing.T) []Item {
	t.Helper()
	var all []Item
	for i, c := range s.chunks {
		items, err := ReadChunk(c)
		if err != nil {
			t.Fatalf("ReadChunk(chunk %d): %v", i, err)
		}
		all = append(all, items...)
	}
	return all
}

func (s *memSink) rejectList(t *testing.T) []Reject {
	t.Helper()
	var out []Reject
	for i, line := range bytes.SplitAfter(s.rejects, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		if line[len(line)-1] != '\n' {
			t.Fatalf("rejects line %d does not end in a newline: %q", i+1, line)
		}
		var r Reject
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("rejects line %d: %v", i+1, err)
		}
		out = append(out, r)
	}
	return out
}

var defaultOpts = Options{ChunkSize: 3, MaxLineBytes: 65536}

func split(t *testing.T, input string, opts Options) (Result, *memSink) {
	t.Helper()
	sink := newMemSink()
	res, err := Split(context.Background(), strings.NewReader(input), opts, sink, nil)
	if err != nil {
		t.Fatalf("Split: %v", err)
	}
	if sink.rejectCalls != 1 {
		t.Fatalf("WriteRejects called %d times, want 1", sink.rejectCalls)
	}
	if res.Chunks != len(sink.chunks) {
		t.Fatalf("Result.Chunks = %d, sink got %d chunks", res.Chunks, len(sink.chunks))
	}
	if res.Rejects != sink.rejectCount {
		t.Fatalf("Result.Rejects = %d, sink got count %d", res.Rejects, sink.rejectCount)
	}
	return res, sink
}

// sourceLine returns a valid manifest line of exactly n bytes.
func sourceLine(n int) string {
	return `{"source":"` + strings.Repeat("a", n-13) + `"}`
}

func TestSplitValidItems(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []Item
	}{
		{
			name:  "inline source with string id",
			input: `{"source":"hello world","id":"a1"}` + "\n",
			want:  []Item{{ID: "a1", Line: 1, Source: "hello world", Data: json.RawMessage(`{"source":"hello world","id":"a1"}`)}},
		},
		{
			name:  "source-ref",
			input: `{"source-ref":"s3://client-bucket/images/cat.jpg","id":"img-1"}` + "\n",
			want:  []Item{{ID: "img-1", Line: 1, SourceRef: "s3://client-bucket/images/cat.jpg", Data: json.RawMessage(`{"source-ref":"s3://client-bucket/images/cat.jpg","id":"img-1"}`)}},
		},
		{
			name:  "numeric id becomes its decimal string",
			input: `{"id": 42, "source": "x"}` + "\n",
			want:  []Item{{ID: "42", Line: 1, Source: "x", Data: json.RawMessage(`{"id":42,"source":"x"}`)}},
		},
		{
			name:  "large integer id kept exactly",
			input: `{"id":123456789012345678901234567890,"source":"x"}` + "\n",
			want:  []Item{{ID: "123456789012345678901234567890", Line: 1, Source: "x", Data: json.RawMessage(`{"id":123456789012345678901234567890,"source":"x"}`)}},
		},
		{
			name:  "exponent and fraction ids in decimal form",
			input: `{"id":1e3,"source":"x"}` + "\n" + `{"id":-2.50,"source":"y"}` + "\n",
			want: []Item{
				{ID: "1000", Line: 1, Source: "x", Data: json.RawMessage(`{"id":1e3,"source":"x"}`)},
				{ID: "-2.5", Line: 2, Source: "y", Data: json.RawMessage(`{"id":-2.50,"source":"y"}`)},
			},
		},
		{
			name:  "missing id gets line number",
			input: `{"source":"first","id":"x"}` + "\n" + `{"source":"second"}` + "\n",
			want: []Item{
				{ID: "x", Line: 1, Source: "first", Data: json.RawMessage(`{"source":"first","id":"x"}`)},
				{ID: "line-2", Line: 2, Source: "second", Data: json.RawMessage(`{"source":"second"}`)},
			},
		},
		{
			name:  "both source and source-ref kept",
			input: `{"source":"caption","source-ref":"s3://b/k.png"}` + "\n",
			want:  []Item{{ID: "line-1", Line: 1, Source: "caption", SourceRef: "s3://b/k.png", Data: json.RawMessage(`{"source":"caption","source-ref":"s3://b/k.png"}`)}},
		},
		{
			name:  "metadata kept and line compacted",
			input: `{ "source-ref" : "s3://b/k.png",  "truth": {"label": "cat", "boxes": [1, 2]}, "lang": "fr" }` + "\n",
			want:  []Item{{ID: "line-1", Line: 1, SourceRef: "s3://b/k.png", Data: json.RawMessage(`{"source-ref":"s3://b/k.png","truth":{"label":"cat","boxes":[1,2]},"lang":"fr"}`)}},
		},
		{
			name:  "markup and non-ASCII text untouched",
			input: `{"source":"<b>café</b> & co \u2028"}` + "\n",
			want:  []Item{{ID: "line-1", Line: 1, Source: "<b>café</b> & co \u2028", Data: json.RawMessage(`{"source":"<b>café</b> & co \u2028"}`)}},
		},
		{
			name:  "escaped key and value decoded",
			input: `{"sour\u0063e":"line\nbreak \"q\"","id":"tab\tid"}` + "\n",
			want:  []Item{{ID: "tab\tid", Line: 1, Source: "line\nbreak \"q\"", Data: json.RawMessage(`{"sour\u0063e":"line\nbreak \"q\"","id":"tab\tid"}`)}},
		},
		{
			name:  "keys match case-sensitively",
			input: `{"ID":"meta","Source":"meta","source":"real"}` + "\n",
			want:  []Item{{ID: "line-1", Line: 1, Source: "real", Data: json.RawMessage(`{"ID":"meta","Source":"meta","source":"real"}`)}},
		},
		{
			name:  "nested id and source are metadata",
			input: `{"truth":{"id":true,"source":""},"source-ref":"s3://b/a/b/c.txt"}` + "\n",
			want:  []Item{{ID: "line-1", Line: 1, SourceRef: "s3://b/a/b/c.txt", Data: json.RawMessage(`{"truth":{"id":true,"source":""},"source-ref":"s3://b/a/b/c.txt"}`)}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, sink := split(t, tc.input, defaultOpts)
			got := sink.items(t)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("items:\n got %+v\nwant %+v", got, tc.want)
			}
			if res.Items != len(tc.want) || res.Rejects != 0 || res.Lines != len(tc.want) {
				t.Fatalf("result = %+v, want %d lines, %d items, no rejects", res, len(tc.want), len(tc.want))
			}
			if len(sink.rejects) != 0 {
				t.Fatalf("rejects file = %q, want empty", sink.rejects)
			}
		})
	}
}

func TestSplitRejects(t *testing.T) {
	const ok = `{"source":"ok"}`
	tests := []struct {
		name      string
		input     string
		want      []Reject // Reason checked exactly unless reasonSuffix is set
		suffix    string   // when set, the single reject's reason must start with "invalid JSON: " and end with it
		wantItems int
	}{
		{
			name:      "truncated JSON",
			input:     ok + "\n" + `{"source": "abc"` + "\n" + ok + "\n",
			want:      []Reject{{Line: 2, Reason: "invalid JSON: unexpected end of input at offset 16", Excerpt: `{"source": "abc"`}},
			wantItems: 2,
		},
		{
			name:  "truncated literal",
			input: `{"source":tru` + "\n",
			want:  []Reject{{Line: 1, Reason: "invalid JSON: unexpected end of input at offset 13", Excerpt: `{"source":tru`}},
		},
		{
			name:   "trailing data after the object",
			input:  `{"source":"a"} x` + "\n",
			want:   []Reject{{Line: 1, Excerpt: `{"source":"a"} x`}},
			suffix: " at offset 15",
		},
		{
			name:   "bad character",
			input:  `{"source":'a'}` + "\n",
			want:   []Reject{{Line: 1, Excerpt: `{"source":'a'}`}},
			suffix: " at offset 10",
		},
		{
			name:  "array is not an object",
			input: `["a"]` + "\n",
			want:  []Reject{{Line: 1, Reason: "line is a JSON array, not an object", Excerpt: `["a"]`}},
		},
		{
			name:  "scalars are not objects",
			input: `"hello"` + "\n" + `42` + "\n" + `null` + "\n" + `true` + "\n",
			want: []Reject{
				{Line: 1, Reason: "line is a JSON string, not an object", Excerpt: `"hello"`},
				{Line: 2, Reason: "line is a JSON number, not an object", Excerpt: `42`},
				{Line: 3, Reason: "line is a JSON null, not an object", Excerpt: `null`},
				{Line: 4, Reason: "line is a JSON boolean, not an object", Excerpt: `true`},
			},
		},
		{
			name:  "id of the wrong type",
			input: `{"id":true,"source":"a"}` + "\n" + `{"id":null,"source":"a"}` + "\n" + `{"id":{"k":1},"source":"a"}` + "\n" + `{"id":["a"],"source":"a"}` + "\n",
			want: []Reject{
				{Line: 1, Field: "id", Reason: "id must be a string or a number, not a JSON boolean", Excerpt: `{"id":true,"source":"a"}`},
				{Line: 2, Field: "id", Reason: "id must be a string or a number, not a JSON null", Excerpt: `{"id":null,"source":"a"}`},
				{Line: 3, Field: "id", Reason: "id must be a string or a number, not a JSON object", Excerpt: `{"id":{"k":1},"source":"a"}`},
				{Line: 4, Field: "id", Reason: "id must be a string or a number, not a JSON array", Excerpt: `{"id":["a"],"source":"a"}`},
			},
		},
		{
			name:  "empty id",
			input: `{"id":"","source":"a"}` + "\n",
			want:  []Reject{{Line: 1, Field: "id", Reason: "id must be a non-empty string", Excerpt: `{"id":"","source":"a"}`}},
		},
		{
			name:  "id number out of range",
			input: `{"id":1e999,"source":"a"}` + "\n",
			want:  []Reject{{Line: 1, Field: "id", Reason: `id "1e999" is out of range`, Excerpt: `{"id":1e999,"source":"a"}`}},
		},
		{
			name:      "neither source nor source-ref",
			input:     ok + "\n" + `{"id":"a","lang":"en"}` + "\n" + `{}` + "\n",
			want:      []Reject{{Line: 2, Reason: "neither source nor source-ref", Excerpt: `{"id":"a","lang":"en"}`}, {Line: 3, Reason: "neither source nor source-ref", Excerpt: `{}`}},
			wantItems: 1,
		},
		{
			name:  "source not a non-empty string",
			input: `{"source":""}` + "\n" + `{"source":5}` + "\n" + `{"source":null,"source-ref":"s3://b/k"}` + "\n",
			want: []Reject{
				{Line: 1, Field: "source", Reason: "source must be a non-empty string", Excerpt: `{"source":""}`},
				{Line: 2, Field: "source", Reason: "source must be a non-empty string", Excerpt: `{"source":5}`},
				{Line: 3, Field: "source", Reason: "source must be a non-empty string", Excerpt: `{"source":null,"source-ref":"s3://b/k"}`},
			},
		},
		{
			name:  "source-ref not an s3 URI",
			input: `{"source-ref":"https://b/k.jpg"}` + "\n" + `{"source-ref":7}` + "\n" + `{"source-ref":"S3://b/k"}` + "\n" + `{"source":"ok","source-ref":""}` + "\n",
			want: []Reject{
				{Line: 1, Field: "source-ref", Reason: "source-ref must be an s3:// URI", Excerpt: `{"source-ref":"https://b/k.jpg"}`},
				{Line: 2, Field: "source-ref", Reason: "source-ref must be an s3:// URI", Excerpt: `{"source-ref":7}`},
				{Line: 3, Field: "source-ref", Reason: "source-ref must be an s3:// URI", Excerpt: `{"source-ref":"S3://b/k"}`},
				{Line: 4, Field: "source-ref", Reason: "source-ref must be an s3:// URI", Excerpt: `{"source":"ok","source-ref":""}`},
			},
		},
		{
			name:  "source-ref without bucket or key",
			input: `{"source-ref":"s3://bucket"}` + "\n" + `{"source-ref":"s3://bucket/"}` + "\n" + `{"source-ref":"s3:///key"}` + "\n" + `{"source-ref":"s3://"}` + "\n",
			want: []Reject{
				{Line: 1, Field: "source-ref", Reason: "source-ref must name a bucket and a key (s3://bucket/key)", Excerpt: `{"source-ref":"s3://bucket"}`},
				{Line: 2, Field: "source-ref", Reason: "source-ref must name a bucket and a key (s3://bucket/key)", Excerpt: `{"source-ref":"s3://bucket/"}`},
				{Line: 3, Field: "source-ref", Reason: "source-ref must name a bucket and a key (s3://bucket/key)", Excerpt: `{"source-ref":"s3:///key"}`},
				{Line: 4, Field: "source-ref", Reason: "source-ref must name a bucket and a key (s3://bucket/key)", Excerpt: `{"source-ref":"s3://"}`},
			},
		},
		{
			name:      "invalid UTF-8",
			input:     `{"source":"a` + "\xff" + `b"}` + "\n" + ok + "\n",
			want:      []Reject{{Line: 1, Reason: "invalid UTF-8 at byte offset 12", Excerpt: `{"source":"a` + "\uFFFD" + `b"}`}},
			wantItems: 1,
		},
		{
			name: "duplicate ids name the first line",
			input: `{"id":"a-17","source":"x"}` + "\n" + ok + "\n" + `{"id":"a-17","source":"y"}` + "\n" +
				`{"id":"a-17","source-ref":"s3://b/k"}` + "\n",
			want: []Reject{
				{Line: 3, Field: "id", Reason: `duplicate id "a-17" (first on line 1)`, Excerpt: `{"id":"a-17","source":"y"}`},
				{Line: 4, Field: "id", Reason: `duplicate id "a-17" (first on line 1)`, Excerpt: `{"id":"a-17","source-ref":"s3://b/k"}`},
			},
			wantItems: 2,
		},
		{
			name:      "numeric and string ids collide",
			input:     `{"id":17,"source":"x"}` + "\n" + `{"id":"17","source":"y"}` + "\n",
			want:      []Reject{{Line: 2, Field: "id", Reason: `duplicate id "17" (first on line 1)`, Excerpt: `{"id":"17","source":"y"}`}},
			wantItems: 1,
		},
		{
			name:  "rejected line does not claim its id",
			input: `{"id":"x"}` + "\n" + `{"id":"x","source":"s"}` + "\n" + `{"id":"x","source":"t"}` + "\n",
			want: []Reject{
				{Line: 1, Reason: "neither source nor source-ref", Excerpt: `{"id":"x"}`},
				{Line: 3, Field: "id", Reason: `duplicate id "x" (first on line 2)`, Excerpt: `{"id":"x","source":"t"}`},
			},
			wantItems: 1,
		},
		{
			name:  "duplicate key",
			input: `{"source":"a","source":"b"}` + "\n" + `{"id":"a","sour\u0063e":"b","id":"c"}` + "\n",
			want: []Reject{
				{Line: 1, Field: "source", Reason: `duplicate key "source"`, Excerpt: `{"source":"a","source":"b"}`},
				{Line: 2, Field: "id", Reason: `duplicate key "id"`, Excerpt: `{"id":"a","sour\u0063e":"b","id":"c"}`},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, sink := split(t, tc.input, defaultOpts)
			got := sink.rejectList(t)
			if tc.suffix != "" {
				if len(got) != 1 {
					t.Fatalf("got %d rejects, want 1: %+v", len(got), got)
				}
				r := got[0].Reason
				if !strings.HasPrefix(r, "invalid JSON: ") || !strings.HasSuffix(r, tc.suffix) {
					t.Fatalf("reason = %q, want \"invalid JSON: ...%s\"", r, tc.suffix)
				}
				got[0].Reason = ""
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("rejects:\n got %+v\nwant %+v", got, tc.want)
			}
			if res.Rejects != len(tc.want) || res.Items != tc.wantItems || res.Lines != len(tc.want)+tc.wantItems {
				t.Fatalf("result = %+v, want %d rejects, %d items", res, len(tc.want), tc.wantItems)
			}
			if n := len(sink.items(t)); n != tc.wantItems {
				t.Fatalf("chunks hold %d items, want %d", n, tc.wantItems)
			}
		})
	}
}

func TestSplitBlankLinesKeepNumbering(t *testing.T) {
	input := "\n" + `{"source":"a"}` + "\n   \n\t\n" + `{"source":"b"}` + "\n\n" + `{"source":` + "\n\n"
	res, sink := split(t, input, defaultOpts)
	if want := (Result{Lines: 3, Items: 2, Chunks: 1, Rejects: 1}); res != want {
		t.Fatalf("result = %+v, want %+v", res, want)
	}
	items := sink.items(t)
	if items[0].Line != 2 || items[0].ID != "line-2" || items[1].Line != 5 || items[1].ID != "line-5" {
		t.Fatalf("items = %+v, want lines 2 and 5", items)
	}
	if r := sink.rejectList(t); r[0].Line != 7 {
		t.Fatalf("reject line = %d, want 7", r[0].Line)
	}
}

func TestSplitCRLF(t *testing.T) {
	input := `{"source":"a"}` + "\r\n\r\n" + `{bad` + "\r\n" + `{"id":"x","source":"b"}` + "\r\n"
	res, sink := split(t, input, defaultOpts)
	if want := (Result{Lines: 3, Items: 2, Chunks: 1, Rejects: 1}); res != want {
		t.Fatalf("result = %+v, want %+v", res, want)
	}
	want := []Item{
		{ID: "line-1", Line: 1, Source: "a", Data: json.RawMessage(`{"source":"a"}`)},
		{ID: "x", Line: 4, Source: "b", Data: json.RawMessage(`{"id":"x","source":"b"}`)},
	}
	if got := sink.items(t); !reflect.DeepEqual(got, want) {
		t.Fatalf("items:\n got %+v\nwant %+v", got, want)
	}
	got := sink.rejectList(t)
	if len(got) != 1 || got[0].Line != 3 || got[0].Field != "" || got[0].Excerpt != "{bad" ||
		!strings.HasPrefix(got[0].Reason, "invalid JSON: ") || !strings.HasSuffix(got[0].Reason, " at offset 1") {
		t.Fatalf("rejects = %+v, want line 3, excerpt \"{bad\", invalid JSON at offset 1", got)
	}
}

func TestSplitLastLineWithoutNewline(t *testing.T) {
	tests := []struct {
		name        string
		input       string
		wantItems   []string // ids
		wantRejects []Reject
	}{
		{"valid last line", `{"source":"a"}` + "\n" + `{"source":"b","id":"z"}`, []string{"line-1", "z"}, nil},
		{"valid last line ending in CR", `{"source":"a"}` + "\n" + `{"source":"b"}` + "\r", []string{"line-1", "line-2"}, nil},
		{"invalid last line", `{"source":"a"}` + "\n" + `{"source":`, []string{"line-1"},
			[]Reject{{Line: 2, Reason: "invalid JSON: unexpected end of input at offset 10", Excerpt: `{"source":`}}},
		{"single line", `{"source":"only"}`, []string{"line-1"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, sink := split(t, tc.input, defaultOpts)
			var ids []string
			for _, it := range sink.items(t) {
				ids = append(ids, it.ID)
			}
			if !reflect.DeepEqual(ids, tc.wantItems) {
				t.Fatalf("ids = %q, want %q", ids, tc.wantItems)
			}
			if got := sink.rejectList(t); !reflect.DeepEqual(got, tc.wantRejects) {
				t.Fatalf("rejects:\n got %+v\nwant %+v", got, tc.wantRejects)
			}
		})
	}
}

func TestSplitChunkBoundaries(t *testing.T) {
	tests := []struct {
		items, chunkSize int
		want             []int
	}{
		{7, 3, []int{3, 3, 1}},
		{6, 3, []int{3, 3}},
		{1, 1, []int{1}},
		{5, 10, []int{5}},
		{10, 1, []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
		{0, 3, nil},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d items by %d", tc.items, tc.chunkSize), func(t *testing.T) {
			var b strings.Builder
			for i := 1; i <= tc.items; i++ {
				fmt.Fprintf(&b, `{"id":"item-%d","source-ref":"s3://b/%d.png"}`+"\n", i, i)
				b.WriteString(`{"source":""}` + "\n") // a reject between every item
			}
			sink := newMemSink()
			var progress []int
			res, err := Split(context.Background(), strings.NewReader(b.String()), Options{ChunkSize: tc.chunkSize, MaxLineBytes: 1024}, sink,
				func(n int) { progress = append(progress, n) })
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(sink.counts, tc.want) {
				t.Fatalf("chunk sizes = %v, want %v", sink.counts, tc.want)
			}
			if res.Chunks != len(tc.want) || res.Items != tc.items || res.Rejects != tc.items || res.Lines != 2*tc.items {
				t.Fatalf("result = %+v", res)
			}
			next := 1
			for i, c := range sink.chunks {
				if sink.indexes[i] != i {
					t.Fatalf("chunk %d written with index %d", i, sink.indexes[i])
				}
				if n := ChunkItems(res.Items, tc.chunkSize, i); n != sink.counts[i] {
					t.Fatalf("ChunkItems(%d, %d, %d) = %d, chunk holds %d", res.Items, tc.chunkSize, i, n, sink.counts[i])
				}
				items, err := ReadChunk(c)
				if err != nil {
					t.Fatal(err)
				}
				if len(items) != sink.counts[i] || bytes.Count(c, []byte("\n")) != len(items) || c[len(c)-1] != '\n' {
					t.Fatalf("chunk %d: %d items decoded, reported %d", i, len(items), sink.counts[i])
				}
				for _, it := range items {
					if want := fmt.Sprintf("item-%d", next); it.ID != want || it.Line != 2*next-1 {
						t.Fatalf("chunk %d: got item %q on line %d, want %q on line %d", i, it.ID, it.Line, want, 2*next-1)
					}
					next++
				}
				// a full chunk is written as soon as its last item is read; the
				// short final chunk only once the whole manifest has been read
				want := 2*(i*tc.chunkSize+len(items)) - 1
				if len(items) < tc.chunkSize {
					want = res.Lines
				}
				if progress[i] != want {
					t.Fatalf("progress after chunk %d = %d, want %d", i, progress[i], want)
				}
			}
			if len(progress) != len(tc.want) {
				t.Fatalf("progress called %d times, want %d", len(progress), len(tc.want))
			}
			if n := ChunkItems(res.Items, tc.chunkSize, len(tc.want)); n != 0 {
				t.Fatalf("ChunkItems past the last chunk = %d, want 0", n)
			}
		})
	}
}

func TestChunkItems(t *testing.T) {
	tests := []struct{ total, size, i, want int }{
		{7, 3, 0, 3},
		{7, 3, 1, 3},
		{7, 3, 2, 1},
		{7, 3, 3, 0},
		{6, 3, 1, 3},
		{6, 3, 2, 0},
		{5, 10, 0, 5},
		{0, 3, 0, 0},
		{7, 3, -1, 0},
		{7, 0, 0, 0},
		{7, -3, 0, 0},
		{7, 3, 1 << 61, 0},
	}
	for _, tc := range tests {
		if got := ChunkItems(tc.total, tc.size, tc.i); got != tc.want {
			t.Errorf("ChunkItems(%d, %d, %d) = %d, want %d", tc.total, tc.size, tc.i, got, tc.want)
		}
	}
}

// mixedManifest returns a manifest with valid lines, rejects of every kind,
// blank lines and CRLF endings.
func mixedManifest(lines int) string {
	var b strings.Builder
	for i := 1; i <= lines; i++ {
		switch i % 9 {
		case 0:
			fmt.Fprintf(&b, `{"id":"dup-%d","source":"again"}`+"\r\n", i%4)
		case 1:
			fmt.Fprintf(&b, `{"id":"doc-%d","source":"text %d <b>&</b> é","lang":"en"}`+"\n", i, i)
		case 2:
			fmt.Fprintf(&b, `{"source-ref":"s3://client/img/%d.jpg","truth":{"label":"cat","score":0.%d}}`+"\r\n", i, i)
		case 3:
			fmt.Fprintf(&b, `{"id":%d,"source":"numeric"}`+"\n", i)
		case 4:
			b.WriteString("\n")
		case 5:
			fmt.Fprintf(&b, `{"id":"dup-%d","source":"x"}`+"\n", i%4)
		case 6:
			fmt.Fprintf(&b, `{"source-ref":"http://nope/%d"}`+"\n", i)
		case 7:
			b.WriteString(`{"source":"broken` + "\n")
		case 8:
			b.WriteString(`{"source":"bad ` + "\xc3\x28" + `"}` + "\n")
		}
	}
	return b.String()
}

func TestSplitDeterministic(t *testing.T) {
	input := mixedManifest(500)
	opts := Options{ChunkSize: 16, MaxLineBytes: 4096}
	readers := map[string]func() io.Reader{
		"plain":      func() io.Reader { return strings.NewReader(input) },
		"one byte":   func() io.Reader { return iotest.OneByteReader(strings.NewReader(input)) },
		"half reads": func() io.Reader { return iotest.HalfReader(strings.NewReader(input)) },
	}
	first := newMemSink()
	firstRes, err := Split(context.Background(), strings.NewReader(input), opts, first, nil)
	if err != nil {
		t.Fatal(err)
	}
	if firstRes.Items == 0 || firstRes.Rejects == 0 || firstRes.Chunks < 2 {
		t.Fatalf("fixture too narrow: %+v", firstRes)
	}
	for name, mk := range readers {
		t.Run(name, func(t *testing.T) {
			sink := newMemSink()
			res, err := Split(context.Background(), mk(), opts, sink, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res != firstRes {
				t.Fatalf("result = %+v, first run %+v", res, firstRes)
			}
			for i := range first.chunks {
				if !bytes.Equal(sink.chunks[i], first.chunks[i]) {
					t.Fatalf("chunk %d differs between runs", i)
				}
			}
			if !bytes.Equal(sink.rejects, first.rejects) {
				t.Fatal("rejects file differs between runs")
			}
		})
	}
}

func TestSplitOversizeLines(t *testing.T) {
	const limit = 65536
	tests := []struct {
		name       string
		input      string
		maxLine    int
		wantItems  []int // line numbers
		wantReject *Reject
	}{
		{
			name:       "oversize line between valid lines",
			input:      `{"source":"a"}` + "\n" + sourceLine(70001) + "\n" + `{"source":"b"}` + "\n",
			wantItems:  []int{1, 3},
			wantReject: &Reject{Line: 2, Reason: "line is 70001 bytes, limit 65536", Excerpt: sourceLine(70001)[:200]},
		},
		{
			name:      "line at the limit",
			input:     sourceLine(limit) + "\n" + `{"source":"b"}` + "\n",
			wantItems: []int{1, 2},
		},
		{
			name:      "line at the limit with CRLF",
			input:     sourceLine(limit) + "\r\n" + `{"source":"b"}` + "\r\n",
			wantItems: []int{1, 2},
		},
		{
			name:       "one byte over the limit",
			input:      sourceLine(limit+1) + "\n" + `{"source":"b"}` + "\n",
			wantItems:  []int{2},
			wantReject: &Reject{Line: 1, Reason: "line is 65537 bytes, limit 65536", Excerpt: sourceLine(limit + 1)[:200]},
		},
		{
			name:       "oversize with CRLF counts only the content",
			input:      sourceLine(limit+2) + "\r\n" + `{"source":"b"}` + "\r\n",
			wantItems:  []int{2},
			wantReject: &Reject{Line: 1, Reason: "line is 65538 bytes, limit 65536", Excerpt: sourceLine(limit + 2)[:200]},
		},
		{
			name:       "oversize last line without newline",
			input:      `{"source":"a"}` + "\n" + sourceLine(100000),
			wantItems:  []int{1},
			wantReject: &Reject{Line: 2, Reason: "line is 100000 bytes, limit 65536", Excerpt: sourceLine(100000)[:200]},
		},
		{
			name:      "valid line longer than the read buffer",
			input:     sourceLine(300000) + "\n" + `{"source":"b"}` + "\n",
			maxLine:   1 << 20,
			wantItems: []int{1, 2},
		},
		{
			name:       "tiny limit",
			input:      `{"source":"abc"}` + "\n" + `{"source":"a"}` + "\n",
			maxLine:    15,
			wantItems:  []int{2},
			wantReject: &Reject{Line: 1, Reason: "line is 16 bytes, limit 15", Excerpt: `{"source":"abc"}`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := Options{ChunkSize: 2, MaxLineBytes: limit}
			if tc.maxLine > 0 {
				opts.MaxLineBytes = tc.maxLine
			}
			_, sink := split(t, tc.input, opts)
			var lines []int
			for _, it := range sink.items(t) {
				lines = append(lines, it.Line)
			}
			if !reflect.DeepEqual(lines, tc.wantItems) {
				t.Fatalf("item lines = %v, want %v", lines, tc.wantItems)
			}
			var want []Reject
			if tc.wantReject != nil {
				want = []Reject{*tc.wantReject}
			}
			if got := sink.rejectList(t); !reflect.DeepEqual(got, want) {
				t.Fatalf("rejects:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

// repeatReader yields n copies of b.
type repeatReader struct {
	n int
	b byte
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	n := min(len(p), r.n)
	for i := range p[:n] {
		p[i] = r.b
	}
	r.n -= n
	return n, nil
}

func TestSplitOversizeLineMemoryBounded(t *testing.T) {
	const huge = 64 << 20
	r := io.MultiReader(
		strings.NewReader(`{"source":"`),
		&repeatReader{n: huge, b: 'a'},
		strings.NewReader(`"}`+"\n"+`{"source":"after"}`+"\n"),
	)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	sink := newMemSink()
	res, err := Split(context.Background(), r, Options{ChunkSize: 10, MaxLineBytes: 1024}, sink, nil)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Result{Lines: 2, Items: 1, Chunks: 1, Rejects: 1}); res != want {
		t.Fatalf("result = %+v, want %+v", res, want)
	}
	if got, want := sink.rejectList(t)[0].Reason, fmt.Sprintf("line is %d bytes, limit 1024", huge+13); got != want {
		t.Fatalf("reason = %q, want %q", got, want)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
		t.Fatalf("allocated %d bytes while splitting a %d-byte line with a 1 KiB limit", alloc, huge)
	}
}

func TestSplitExcerpt(t *testing.T) {
	tests := []struct {
		name string
		rune string
	}{
		{"two-byte runes", "é"},
		{"three-byte runes", "€"},
		{"four-byte runes", "𝄞"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			line := `{"id":true,"source":"` + strings.Repeat(tc.rune, 150) + `"}`
			_, sink := split(t, line+"\n", defaultOpts)
			ex := sink.rejectList(t)[0].Excerpt
			if len(ex) > 200 || len(ex) <= 200-utf8.UTFMax || !utf8.ValidString(ex) || !strings.HasPrefix(line, ex) {
				t.Fatalf("excerpt of %d bytes is not the longest valid prefix of at most 200 bytes: %q", len(ex), ex)
			}
		})
	}
	t.Run("invalid UTF-8 stays valid", func(t *testing.T) {
		line := `{"source":"` + strings.Repeat("\xff", 300) + `"}`
		_, sink := split(t, line+"\n", defaultOpts)
		r := sink.rejectList(t)[0]
		if r.Reason != "invalid UTF-8 at byte offset 11" {
			t.Fatalf("reason = %q", r.Reason)
		}
		if len(r.Excerpt) > 200 || !utf8.ValidString(r.Excerpt) || !strings.HasPrefix(r.Excerpt, `{"source":"`+"\uFFFD") {
			t.Fatalf("excerpt = %q", r.Excerpt)
		}
	})
	t.Run("long duplicate id is shortened in the reason", func(t *testing.T) {
		id := strings.Repeat("x", 1000)
		line := `{"id":"` + id + `","source":"a"}`
		_, sink := split(t, line+"\n"+line+"\n", defaultOpts)
		want := `duplicate id "` + id[:128] + `"... (first on line 1)`
		if got := sink.rejectList(t)[0].Reason; got != want {
			t.Fatalf("reason = %q, want %q", got, want)
		}
	})
}

func TestSplitContextCancelled(t *testing.T) {
	input := mixedManifest(2000)
	opts := Options{ChunkSize: 10, MaxLineBytes: 4096}

	t.Run("before start", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		sink := newMemSink()
		_, err := Split(ctx, strings.NewReader(input), opts, sink, nil)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if len(sink.chunks) != 0 || sink.rejectCalls != 0 {
			t.Fatalf("sink written after cancellation: %d chunks, %d rejects calls", len(sink.chunks), sink.rejectCalls)
		}
	})
	t.Run("after first chunk", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		sink := newMemSink()
		sink.onChunk = func(int) { cancel() }
		res, err := Split(ctx, strings.NewReader(input), opts, sink, nil)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if len(sink.chunks) != 1 || res.Chunks != 1 || sink.rejectCalls != 0 {
			t.Fatalf("wrote %d chunks (result %d) and %d rejects files after cancellation", len(sink.chunks), res.Chunks, sink.rejectCalls)
		}
	})
	t.Run("while reading rejects only", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		bad := strings.Repeat(`{"source":""}`+"\n", 5000)
		r := &cancelReader{r: strings.NewReader(bad), cancel: cancel}
		sink := newMemSink()
		res, err := Split(ctx, r, opts, sink, nil)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if sink.rejectCalls != 0 || res.Lines >= 5000 {
			t.Fatalf("kept going after cancellation: %+v", res)
		}
	})
}

// cancelReader cancels its context on the first read.
type cancelReader struct {
	r      io.Reader
	cancel func()
}

func (c *cancelReader) Read(p []byte) (int, error) {
	c.cancel()
	return c.r.Read(p[:min(len(p), 4096)])
}

func TestSplitErrors(t *testing.T) {
	input := mixedManifest(200)
	opts := Options{ChunkSize: 5, MaxLineBytes: 4096}

	t.Run("chunk write fails", func(t *testing.T) {
		sink := newMemSink()
		sink.failChunk = 2
		res, err := Split(context.Background(), strings.NewReader(input), opts, sink, nil)
		if !errors.Is(err, errSink) || !strings.Contains(err.Error(), "chunk 2") {
			t.Fatalf("err = %v, want errSink naming chunk 2", err)
		}
		if res.Chunks != 2 || sink.rejectCalls != 0 {
			t.Fatalf("result = %+v, rejects calls = %d", res, sink.rejectCalls)
		}
	})
	t.Run("rejects write fails", func(t *testing.T) {
		sink := newMemSink()
		sink.failRejects = true
		_, err := Split(context.Background(), strings.NewReader(input), opts, sink, nil)
		if !errors.Is(err, errSink) || !strings.Contains(err.Error(), "rejects") {
			t.Fatalf("err = %v, want errSink naming rejects", err)
		}
	})
	t.Run("reader fails", func(t *testing.T) {
		errRead := errors.New("connection reset")
		r := io.MultiReader(strings.NewReader(`{"source":"a"}`+"\n"), iotest.ErrReader(errRead))
		_, err := Split(context.Background(), r, opts, newMemSink(), nil)
		if !errors.Is(err, errRead) || !strings.Contains(err.Error(), "line 2") {
			t.Fatalf("err = %v, want read error naming line 2", err)
		}
	})
	t.Run("invalid options", func(t *testing.T) {
		for _, o := range []Options{{ChunkSize: 0, MaxLineBytes: 10}, {ChunkSize: 1, MaxLineBytes: 0}, {ChunkSize: -1, MaxLineBytes: -1}} {
			if _, err := Split(context.Background(), strings.NewReader(input), o, newMemSink(), nil); err == nil {
				t.Errorf("Split with %+v succeeded", o)
			}
		}
		if _, err := Split(context.Background(), strings.NewReader(input), opts, nil, nil); err == nil {
			t.Error("Split with nil sink succeeded")
		}
	})
	t.Run("empty manifest", func(t *testing.T) {
		res, sink := split(t, "", opts)
		if res != (Result{}) || len(sink.chunks) != 0 || sink.rejects == nil || len(sink.rejects) != 0 {
			t.Fatalf("result = %+v, chunks = %d, rejects = %q", res, len(sink.chunks), sink.rejects)
		}
	})
}

func TestReadChunkRoundTrip(t *testing.T) {
	_, sink := split(t, mixedManifest(300), Options{ChunkSize: 7, MaxLineBytes: 4096})
	for i, chunk := range sink.chunks {
		items, err := ReadChunk(chunk)
		if err != nil {
			t.Fatalf("chunk %d: %v", i, err)
		}
		// re-encoding reproduces the chunk byte for byte
		var again []byte
		for _, it := range items {
			again = appendItem(again, []byte(it.ID), it.Line, []byte(it.Source), []byte(it.SourceRef), it.Data)
		}
		if !bytes.Equal(again, chunk) {
			t.Fatalf("chunk %d does not round trip:\n%s\n%s", i, chunk, again)
		}
		// the chunk is exactly what the standard encoder writes without HTML escaping
		var std bytes.Buffer
		enc := json.NewEncoder(&std)
		enc.SetEscapeHTML(false)
		for _, it := range items {
			if err := enc.Encode(it); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(std.Bytes(), chunk) {
			t.Fatalf("chunk %d differs from the standard encoding:\n%s\n%s", i, chunk, std.Bytes())
		}
	}
	want := []Item{
		{ID: "a\u2028b\x01", Line: 9, Source: "x \"y\" \\ \n", Data: json.RawMessage(`{"id":"a\u2028b\u0001","source":"x \"y\" \\ \n"}`)},
		{ID: "line-10", Line: 10, SourceRef: "s3://b/k", Data: json.RawMessage(`{"source-ref":"s3://b/k"}`)},
	}
	var enc []byte
	for _, it := range want {
		enc = appendItem(enc, []byte(it.ID), it.Line, []byte(it.Source), []byte(it.SourceRef), it.Data)
	}
	var std bytes.Buffer
	stdEnc := json.NewEncoder(&std)
	stdEnc.SetEscapeHTML(false)
	for _, it := range want {
		if err := stdEnc.Encode(it); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(enc, std.Bytes()) {
		t.Fatalf("escaping differs from the standard encoder:\n%s\n%s", enc, std.Bytes())
	}
	got, err := ReadChunk(bytes.TrimSuffix(enc, []byte("\n"))) // final newline is optional
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("items:\n got %+v\nwant %+v", got, want)
	}
}

func TestReadChunkErrors(t *testing.T) {
	good := `{"id":"a","line":1,"source":"x","data":{"source":"x"}}`
	tests := []struct {
		name, input, want string
	}{
		{"bad JSON", good + "\n" + `{"id":` + "\n", "chunk line 2"},
		{"empty line", good + "\n\n" + good + "\n", "chunk line 2: empty line"},
		{"missing id", good + "\n" + good + "\n" + `{"line":3,"source":"x","data":{}}` + "\n", "chunk line 3: missing id"},
		{"bad line number", `{"id":"a","line":0,"source":"x","data":{}}`, "chunk line 1: line number"},
		{"data not an object", `{"id":"a","line":1,"source":"x","data":[1]}`, "chunk line 1: data must be a JSON object"},
		{"missing data", `{"id":"a","line":1,"source":"x"}`, "chunk line 1: data must be a JSON object"},
		{"no source", `{"id":"a","line":1,"data":{}}`, "chunk line 1: neither source nor source-ref"},
		{"wrong type", `{"id":5,"line":1,"source":"x","data":{}}`, "chunk line 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadChunk([]byte(tc.input))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	if items, err := ReadChunk(nil); err != nil || len(items) != 0 {
		t.Fatalf("ReadChunk(nil) = %v, %v", items, err)
	}
}

type discardSink struct{}

func (discardSink) WriteChunk(context.Context, int, []byte, int) error { return nil }
func (discardSink) WriteRejects(context.Context, []byte, int) error    { return nil }

func BenchmarkSplit(b *testing.B) {
	const lines = 100_000
	var buf bytes.Buffer
	for i := 1; i <= lines; i++ {
		switch i % 4 {
		case 0:
			fmt.Fprintf(&buf, `{"source-ref":"s3://client-datasets/batch-7/images/%08d.jpg","id":"img-%d","truth":{"label":"vehicle","boxes":[[12,40,118,96]]}}`+"\n", i, i)
		case 1:
			fmt.Fprintf(&buf, `{"source":"Customer review %d: the delivery was quick and the product works as described.","lang":"en"}`+"\n", i)
		case 2:
			fmt.Fprintf(&buf, `{"id":%d,"source":"Texte d'exemple numéro %d","lang":"fr"}`+"\n", i, i)
		default:
			fmt.Fprintf(&buf, `{"source-ref":"s3://client-datasets/batch-7/audio/%08d.wav"}`+"\n", i)
		}
	}
	data := buf.Bytes()
	opts := Options{ChunkSize: 1000, MaxLineBytes: 65536}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	runs := 0
	for b.Loop() {
		res, err := Split(context.Background(), bytes.NewReader(data), opts, discardSink{}, nil)
		if err != nil {
			b.Fatal(err)
		}
		if res.Items != lines {
			b.Fatalf("items = %d, want %d", res.Items, lines)
		}
		runs++
	}
	b.ReportMetric(float64(lines*runs)/b.Elapsed().Seconds(), "lines/s")
}
