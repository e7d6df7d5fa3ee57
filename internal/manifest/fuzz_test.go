package manifest

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzSplit feeds manifests to Split, which validates them line by line. Whatever the input:
// every line is an item or a reject; chunks decode with ReadChunk and hold the line they came
// from; rejects name a line of the input and a known field; two runs write the same bytes; and
// the items written back as a manifest split into the same items again.
func FuzzSplit(f *testing.F) {
	for _, seed := range []string{
		// Lines of the demo dataset, good and bad.
		`{"id":"review-00001","lang":"en","source":"The kettle was excellent.","truth":"positive"}` + "\n" +
			`{"id": "review-bad-json", "source": "unterminated` + "\n" +
			`{"id": "review-no-source", "lang": "en"}` + "\n" +
			`{"id": "review-00001", "source": "a second line with an id already used", "truth": "neutral"}` + "\n" +
			`{"id": "review-bad-ref", "source-ref": "https://example.com/x.jpg"}` + "\n" +
			`["not", "an", "object"]` + "\n",
		`{"source-ref":"s3://images/cat.jpg","width":640,"height":480}` + "\r\n\r\n" + `{"id":7,"source":"x"}`,
		`{"id":1e3,"source":"a"}` + "\n" + `{"id":"1000","source":"b"}` + "\n" + `{"id":1e999,"source":"c"}`,
		`{"id":"a","id":"b","source":"x"}` + "\n" + `{"\u0069d":"é","source":"\ud83d\ude00"}`,
		`{"source":"x","source-ref":"s3://b"}` + "\n" + `{"source":""}` + "\n" + `{"id":null,"source":"x"}`,
		"\xff\xfe{\"source\":\"x\"}\n  \t\n{\"source\":\"" + strings.Repeat("y", 300) + "\"}",
		`{"source":"x","meta":{"a":[1,{"b":"}"}],"c":"\"]"}}`,
	} {
		f.Add([]byte(seed), uint8(2), uint16(256))
	}
	f.Fuzz(func(t *testing.T, data []byte, chunkSize uint8, maxLine uint16) {
		opts := Options{ChunkSize: int(chunkSize%8) + 1, MaxLineBytes: int(maxLine%2048) + 1}
		res, sink := fuzzSplit(t, data, opts)
		lines := bytes.Count(data, []byte("\n")) + 1
		if res.Items+res.Rejects != res.Lines || res.Lines > lines {
			t.Fatalf("%d items + %d rejects for %d lines read, %d in the input", res.Items, res.Rejects, res.Lines, lines)
		}
		items := checkChunks(t, sink, opts, res, lines)
		checkRejects(t, sink, lines)

		_, again := fuzzSplit(t, data, opts)
		if !bytes.Equal(bytes.Join(sink.chunks, nil), bytes.Join(again.chunks, nil)) || !bytes.Equal(sink.rejects, again.rejects) {
			t.Fatal("two splits of the same input differ")
		}

		// The items' data is a manifest of its own, every line valid and unchanged.
		var manifest []byte
		for _, it := range items {
			manifest = append(append(manifest, it.Data...), '\n')
		}
		res2, sink2 := fuzzSplit(t, manifest, Options{ChunkSize: 1000, MaxLineBytes: len(manifest) + 1})
		if res2.Rejects != 0 || res2.Items != len(items) {
			t.Fatalf("items written back: %d items and %d rejects, want %d items\n%s", res2.Items, res2.Rejects, len(items), sink2.rejects)
		}
		for i, it := range readAll(t, sink2) {
			was := items[i]
			if !bytes.Equal(it.Data, was.Data) || it.Source != was.Source || it.SourceRef != was.SourceRef {
				t.Fatalf("item %d changed through a round trip:\n%+v\n%+v", i, was, it)
			}
			if !strings.HasPrefix(was.ID, "line-") && it.ID != was.ID {
				t.Fatalf("item %d: id %q became %q", i, was.ID, it.ID)
			}
		}
	})
}

func fuzzSplit(t *testing.T, data []byte, opts Options) (Result, *memSink) {
	t.Helper()
	sink := newMemSink()
	res, err := Split(context.Background(), bytes.NewReader(data), opts, sink, nil)
	if err != nil {
		t.Fatalf("Split: %v", err)
	}
	if sink.rejectCalls != 1 || res.Chunks != len(sink.chunks) || res.Rejects != sink.rejectCount {
		t.Fatalf("result %+v disagrees with the sink: %d chunks, %d rejects, %d reject writes",
			res, len(sink.chunks), sink.rejectCount, sink.rejectCalls)
	}
	return res, sink
}

func readAll(t *testing.T, sink *memSink) []Item {
	t.Helper()
	var all []Item
	for i, c := range sink.chunks {
		items, err := ReadChunk(c)
		if err != nil {
			t.Fatalf("chunk %d does not read back: %v\n%s", i, err, c)
		}
		all = append(all, items...)
	}
	return all
}

// checkChunks asserts chunks are full but for the last, and hold valid items in line order.
func checkChunks(t *testing.T, sink *memSink, opts Options, res Result, lines int) []Item {
	t.Helper()
	for i, n := range sink.counts {
		if n != ChunkItems(res.Items, opts.ChunkSize, i) {
			t.Fatalf("chunk %d holds %d items of %d, chunk size %d", i, n, res.Items, opts.ChunkSize)
		}
	}
	items := readAll(t, sink)
	if len(items) != res.Items {
		t.Fatalf("%d items read back, %d reported", len(items), res.Items)
	}
	last := 0
	for _, it := range items {
		if it.Line <= last || it.Line > lines {
			t.Fatalf("item on line %d after line %d, input has %d lines", it.Line, last, lines)
		}
		last = it.Line
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(it.Data, &obj); err != nil {
			t.Fatalf("item data is not a JSON object: %v: %s", err, it.Data)
		}
		if it.ID == "" || (it.Source == "" && it.SourceRef == "") {
			t.Fatalf("item without an id or a source: %+v", it)
		}
		if it.SourceRef != "" && !strings.HasPrefix(it.SourceRef, s3Scheme) {
			t.Fatalf("item's source-ref is not s3: %q", it.SourceRef)
		}
	}
	return items
}

// checkRejects asserts each reject names a line of the input, a known field and a reason, with a
// short valid excerpt.
func checkRejects(t *testing.T, sink *memSink, lines int) {
	t.Helper()
	for _, line := range bytes.SplitAfter(sink.rejects, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var r Reject
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("rejects line does not decode: %v: %s", err, line)
		}
		switch {
		case r.Line < 1 || r.Line > lines:
			t.Fatalf("reject on line %d of %d: %+v", r.Line, lines, r)
		case r.Field != "" && r.Field != FieldID && r.Field != FieldSource && r.Field != FieldSourceRef:
			t.Fatalf("reject names an unknown field: %+v", r)
		case r.Reason == "":
			t.Fatalf("reject without a reason: %+v", r)
		case len(r.Excerpt) > excerptMax || !utf8.ValidString(r.Excerpt):
			t.Fatalf("reject excerpt of %d bytes, valid UTF-8 %v", len(r.Excerpt), utf8.ValidString(r.Excerpt))
		}
	}
}
