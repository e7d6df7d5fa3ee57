// Package manifest reads LabelFlow client datasets delivered as input
// manifests in the SageMaker Ground Truth style and splits them into chunks.
//
// A manifest is JSON Lines: one JSON object per line, each carrying either
// "source-ref" (an s3://bucket/key URI) or "source" (inline text), an optional
// "id" (a string, or a JSON number converted to its decimal string form), and
// any other fields, which are kept as metadata.
//
// Split streams a manifest line by line, validates every line, writes valid
// items to chunk files of a fixed number of items and writes every invalid line
// to a single rejects file. Output is deterministic: the same input and options
// always produce byte-identical chunk and rejects files, so retried splits are
// idempotent.
package manifest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Item is one valid manifest line as it travels inside a chunk file.
type Item struct {
	ID        string          `json:"id"`   // the line's id, or "line-<n>" when the line has none (n = 1-based line number)
	Line      int             `json:"line"` // 1-based line number in the source manifest
	Source    string          `json:"source,omitempty"`
	SourceRef string          `json:"source-ref,omitempty"`
	Data      json.RawMessage `json:"data"` // the original line, compacted (json.Compact), unchanged otherwise
	// Gold marks a gold item (known answer, in Data's "truth"), mixed into the chunk by the
	// platform: scored, never delivered.
	Gold bool `json:"gold,omitempty"`
}

// Reject is one quarantined line.
type Reject struct {
	Line    int    `json:"line"`
	Field   string `json:"field,omitempty"`   // the field at fault: "id", "source", "source-ref", "" for whole-line problems
	Reason  string `json:"reason"`            // human-readable, precise
	Excerpt string `json:"excerpt,omitempty"` // at most the first 200 bytes of the line (valid UTF-8, cut on a rune boundary)
}

// Options configures Split.
type Options struct {
	ChunkSize    int // items per chunk, > 0
	MaxLineBytes int // lines longer than this (excluding the newline) are rejected as oversize without buffering them whole; > 0
	// CheckSourceRef, when set, is asked about every well-formed source-ref; a line whose
	// source-ref it refuses (an object outside the client's intake locations) is rejected with
	// its reason, so that no item ever points annotators or the platform at another's data.
	CheckSourceRef func(uri string) error
}

// ChunkSink receives the output of Split.
//
// WriteChunk gets the chunk index (0-based) and the encoded chunk file (JSON
// Lines of Item, each line ending in "\n"); it is called once per chunk, in
// order, the last chunk possibly short. WriteRejects is called exactly once at
// the end with the encoded rejects file (JSON Lines of Reject, possibly empty).
//
// Split never modifies a data slice after handing it to the sink, so a sink
// may keep it.
type ChunkSink interface {
	WriteChunk(ctx context.Context, index int, data []byte, items int) error
	WriteRejects(ctx context.Context, data []byte, count int) error
}

// Result summarises a Split.
type Result struct {
	Lines   int // lines read (blank lines are skipped and not counted as lines nor rejects, but keep line numbering exact)
	Items   int // valid items
	Chunks  int
	Rejects int
}

// Field names with a meaning of their own in a manifest line.
const (
	FieldID        = "id"
	FieldSource    = "source"
	FieldSourceRef = "source-ref"
)

const (
	// excerptMax bounds Reject.Excerpt, in bytes.
	excerptMax = 200
	// reasonValueMax bounds how much of a field value is quoted in a reason.
	reasonValueMax = 128
	// ctxCheckEvery is how many lines are read between context checks.
	ctxCheckEvery = 256
	// readBufferSize is the size of the bufio.Reader wrapped around the manifest.
	readBufferSize = 64 << 10
	// s3Scheme is the only accepted source-ref scheme.
	s3Scheme = "s3://"
)

// Split streams r, validates every line, and writes chunks and rejects to
// sink. progress (may be nil) is called after each chunk is written with the
// lines read so far (the same count as Result.Lines), for activity heartbeats.
//
// Memory stays bounded by Options.MaxLineBytes plus one encoded chunk, plus
// the set of explicit ids seen (for duplicate detection) and the rejects file.
//
// On error the Result describes the work done so far. A cancelled ctx yields
// an error wrapping ctx.Err(); sink errors are wrapped with the chunk index.
func Split(ctx context.Context, r io.Reader, opts Options, sink ChunkSink, progress func(linesRead int)) (Result, error) {
	switch {
	case opts.ChunkSize <= 0:
		return Result{}, fmt.Errorf("manifest: chunk size must be > 0, got %d", opts.ChunkSize)
	case opts.MaxLineBytes <= 0:
		return Result{}, fmt.Errorf("manifest: max line bytes must be > 0, got %d", opts.MaxLineBytes)
	case r == nil:
		return Result{}, errors.New("manifest: nil reader")
	case sink == nil:
		return Result{}, errors.New("manifest: nil sink")
	}
	s := &splitter{
		ctx:      ctx,
		opts:     opts,
		sink:     sink,
		progress: progress,
		lr:       newLineReader(r, opts.MaxLineBytes),
		seen:     make(map[string]int),
	}
	err := s.run()
	return s.res, err
}

type splitter struct {
	ctx      context.Context
	opts     Options
	sink     ChunkSink
	progress func(int)
	lr       *lineReader

	res        Result
	seen       map[string]int // explicit id -> first line
	chunk      []byte         // encoded items of the chunk being filled
	chunkItems int
	rejects    []byte       // encoded rejects file
	compact    bytes.Buffer // scratch buffer for the compacted line
	idBuf      []byte       // scratch buffer for generated ids
}

func (s *splitter) run() error {
	if err := s.ctx.Err(); err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	lineNo := 0
	for {
		line, size, err := s.lr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("manifest: read line %d: %w", lineNo+1, err)
		}
		lineNo++
		if lineNo%ctxCheckEvery == 0 {
			if err := s.ctx.Err(); err != nil {
				return fmt.Errorf("manifest: %w", err)
			}
		}
		if size <= s.opts.MaxLineBytes && isBlank(line) {
			continue
		}
		s.res.Lines++
		if err := s.line(lineNo, line, size); err != nil {
			return err
		}
	}
	if s.chunkItems > 0 {
		if err := s.flush(); err != nil {
			return err
		}
	}
	if err := s.ctx.Err(); err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	if s.rejects == nil {
		s.rejects = []byte{}
	}
	if err := s.sink.WriteRejects(s.ctx, s.rejects, s.res.Rejects); err != nil {
		return fmt.Errorf("manifest: write rejects: %w", err)
	}
	return nil
}

// line validates one non-blank line and adds it to the chunk, or to the
// rejects. raw holds the line without its terminator, or only its first bytes
// when size exceeds the limit.
func (s *splitter) line(lineNo int, raw []byte, size int) error {
	it, bad := s.item(lineNo, raw, size)
	if bad.reason != "" {
		s.reject(lineNo, bad.field, bad.reason, raw)
		return nil
	}
	s.chunk = appendItem(s.chunk, it.id, lineNo, it.source, it.sourceRef, it.data)
	s.chunkItems++
	s.res.Items++
	if s.chunkItems == s.opts.ChunkSize {
		return s.flush()
	}
	return nil
}

// problem is why a line is rejected: the field at fault ("" for the whole
// line) and a precise reason.
type problem struct{ field, reason string }

// lineItem is a valid line's item fields; every slice points into the
// splitter's scratch buffers, valid until the next line.
type lineItem struct{ id, source, sourceRef, data []byte }

// item validates a line: its shape, then its id, its source or source-ref,
// and last whether its id is new, so that only valid items claim an id.
func (s *splitter) item(lineNo int, raw []byte, size int) (lineItem, problem) {
	var it lineItem
	var f objectFields
	var bad problem
	if it.data, f, bad = s.object(raw, size); bad.reason != "" {
		return it, bad
	}
	if f.id != nil {
		var reason string
		if it.id, reason = decodeID(f.id); reason != "" {
			return it, problem{FieldID, reason}
		}
	}
	if it.source, it.sourceRef, bad = s.sources(f); bad.reason != "" {
		return it, bad
	}
	it.id, bad = s.claimID(lineNo, f.id != nil, it.id)
	return it, bad
}

// object checks that the line is a JSON object of valid UTF-8 within the size
// limit, and returns it compacted with the fields it is validated on.
func (s *splitter) object(raw []byte, size int) ([]byte, objectFields, problem) {
	if size > s.opts.MaxLineBytes {
		return nil, objectFields{}, problem{"", fmt.Sprintf("line is %d bytes, limit %d", size, s.opts.MaxLineBytes)}
	}
	if off := invalidUTF8Offset(raw); off >= 0 {
		return nil, objectFields{}, problem{"", fmt.Sprintf("invalid UTF-8 at byte offset %d", off)}
	}
	s.compact.Reset()
	if err := json.Compact(&s.compact, raw); err != nil {
		return nil, objectFields{}, problem{"", syntaxReason(raw, err)}
	}
	data := s.compact.Bytes()
	if data[0] != '{' {
		return nil, objectFields{}, problem{"", fmt.Sprintf("line is a JSON %s, not an object", jsonKind(data[0]))}
	}
	f, err := scanObject(data)
	if err != nil {
		return nil, objectFields{}, problem{f.field, err.Error()}
	}
	return data, f, problem{}
}

// sources decodes source and source-ref; a line needs at least one of them.
func (s *splitter) sources(f objectFields) (source, sourceRef []byte, bad problem) {
	if f.source == nil && f.sourceRef == nil {
		return nil, nil, problem{"", "neither source nor source-ref"}
	}
	if f.source != nil {
		v, ok := decodeString(f.source)
		if !ok || len(v) == 0 {
			return nil, nil, problem{FieldSource, "source must be a non-empty string"}
		}
		source = v
	}
	if f.sourceRef != nil {
		v, reason := s.decodeSourceRef(f.sourceRef)
		if reason != "" {
			return nil, nil, problem{FieldSourceRef, reason}
		}
		sourceRef = v
	}
	return source, sourceRef, problem{}
}

// decodeSourceRef accepts an s3://bucket/key URI that Options.CheckSourceRef,
// when set, does not refuse; otherwise it says why not.
func (s *splitter) decodeSourceRef(raw []byte) ([]byte, string) {
	v, ok := decodeString(raw)
	if !ok || !bytes.HasPrefix(v, []byte(s3Scheme)) {
		return nil, "source-ref must be an s3:// URI"
	}
	bucket, key, _ := bytes.Cut(v[len(s3Scheme):], []byte("/"))
	if len(bucket) == 0 || len(key) == 0 {
		return nil, "source-ref must name a bucket and a key (s3://bucket/key)"
	}
	if s.opts.CheckSourceRef != nil {
		if err := s.opts.CheckSourceRef(string(v)); err != nil {
			return nil, boundReason("source-ref is refused: " + err.Error())
		}
	}
	return v, ""
}

// claimID records an explicit id as taken, refusing one already taken, or
// makes up "line-<n>" for a line without one.
func (s *splitter) claimID(lineNo int, explicit bool, id []byte) ([]byte, problem) {
	if !explicit {
		s.idBuf = strconv.AppendInt(append(s.idBuf[:0], "line-"...), int64(lineNo), 10)
		return s.idBuf, problem{}
	}
	if first, dup := s.seen[string(id)]; dup {
		return nil, problem{FieldID, fmt.Sprintf("duplicate id %s (first on line %d)", quoteForReason(string(id)), first)}
	}
	s.seen[string(id)] = lineNo
	return id, problem{}
}

func (s *splitter) reject(lineNo int, field, reason string, raw []byte) {
	s.rejects = appendReject(s.rejects, Reject{Line: lineNo, Field: field, Reason: reason, Excerpt: excerpt(raw)})
	s.res.Rejects++
}

// flush hands the current chunk to the sink and starts a fresh buffer, so the
// sink may keep the slice it was given.
func (s *splitter) flush() error {
	if err := s.ctx.Err(); err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	index, data, n := s.res.Chunks, s.chunk, s.chunkItems
	if err := s.sink.WriteChunk(s.ctx, index, data, n); err != nil {
		return fmt.Errorf("manifest: write chunk %d: %w", index, err)
	}
	s.res.Chunks++
	s.chunk = make([]byte, 0, cap(data))
	s.chunkItems = 0
	if s.progress != nil {
		s.progress(s.res.Lines)
	}
	return nil
}

// ReadChunk decodes a chunk file into items. It returns an error naming the
// line of the chunk file on bad input.
func ReadChunk(data []byte) ([]Item, error) {
	items := make([]Item, 0, bytes.Count(data, []byte{'\n'})+1)
	for n := 1; len(data) > 0; n++ {
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		if len(bytes.TrimSpace(line)) == 0 {
			return nil, fmt.Errorf("manifest: chunk line %d: empty line", n)
		}
		var it Item
		if err := json.Unmarshal(line, &it); err != nil {
			return nil, fmt.Errorf("manifest: chunk line %d: %w", n, err)
		}
		switch {
		case it.ID == "":
			return nil, fmt.Errorf("manifest: chunk line %d: missing id", n)
		case it.Line <= 0:
			return nil, fmt.Errorf("manifest: chunk line %d: line number must be > 0, got %d", n, it.Line)
		case len(it.Data) == 0 || it.Data[0] != '{':
			return nil, fmt.Errorf("manifest: chunk line %d: data must be a JSON object", n)
		case it.Source == "" && it.SourceRef == "":
			return nil, fmt.Errorf("manifest: chunk line %d: neither source nor source-ref", n)
		}
		items = append(items, it)
	}
	return items, nil
}

// ChunkItems returns how many items chunk index i holds, given the total valid
// items and the chunk size. It returns 0 for an index past the last chunk.
func ChunkItems(totalItems, chunkSize, i int) int {
	if totalItems <= 0 || chunkSize <= 0 || i < 0 {
		return 0
	}
	chunks := totalItems / chunkSize
	if totalItems%chunkSize != 0 {
		chunks++
	}
	if i >= chunks {
		return 0
	}
	return min(chunkSize, totalItems-i*chunkSize)
}

// lineReader yields manifest lines with bounded memory: a line longer than the
// limit is kept only up to the limit and the rest is read and discarded.
type lineReader struct {
	br    *bufio.Reader
	limit int
	buf   []byte
}

func newLineReader(r io.Reader, limit int) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, readBufferSize), limit: limit}
}

// next returns the next line without its "\n" or "\r\n" terminator, and the
// line's full size in bytes (also without the terminator). When size exceeds
// the limit, line holds only its first bytes. The returned slice is valid
// until the next call. next returns io.EOF when no line is left.
func (lr *lineReader) next() (line []byte, size int, err error) {
	lr.buf = lr.buf[:0]
	keep := lr.limit + 2 // room for a line at the limit plus "\r\n"
	total := 0
	var last, beforeLast byte
	for {
		frag, rerr := lr.br.ReadSlice('\n')
		if n := len(frag); n > 0 {
			if room := keep - len(lr.buf); room > 0 {
				lr.buf = append(lr.buf, frag[:min(room, n)]...)
			}
			if n >= 2 {
				beforeLast = frag[n-2]
			} else {
				beforeLast = last
			}
			last = frag[n-1]
			total += n
		}
		if rerr == nil {
			break
		}
		if rerr == bufio.ErrBufferFull {
			continue
		}
		if rerr == io.EOF {
			if total == 0 {
				return nil, 0, io.EOF
			}
			break
		}
		return nil, 0, rerr
	}
	size = total
	if last == '\n' {
		size--
		if size > 0 && beforeLast == '\r' {
			size--
		}
	} else if last == '\r' { // final line without newline ending in a lone "\r"
		size--
	}
	return lr.buf[:min(size, len(lr.buf))], size, nil
}

// syntaxReason describes why raw is not valid JSON, with the 0-based byte
// offset of the offending byte (or the line length for a truncated value).
// compactErr is the error json.Compact returned; json.Compact does not track
// offsets, so the line is checked again to locate the fault.
func syntaxReason(raw []byte, compactErr error) string {
	err := json.Unmarshal(raw, new(json.RawMessage))
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		return "invalid JSON: " + compactErr.Error()
	}
	msg, off := se.Error(), int(se.Offset)-1
	// The decoder reports running out of input either as such or as an
	// unexpected space it appends at the end of the input.
	truncated := msg == "unexpected end of JSON input" ||
		(int(se.Offset) == len(raw) && strings.HasPrefix(msg, "invalid character ' '") &&
			len(raw) > 0 && raw[len(raw)-1] != ' ')
	if truncated {
		return fmt.Sprintf("invalid JSON: unexpected end of input at offset %d", len(raw))
	}
	return fmt.Sprintf("invalid JSON: %s at offset %d", msg, max(off, 0))
}

func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

// invalidUTF8Offset returns the offset of the first invalid UTF-8 byte in b,
// or -1 when b is valid UTF-8.
func invalidUTF8Offset(b []byte) int {
	if utf8.Valid(b) {
		return -1
	}
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}

// excerpt returns at most the first excerptMax bytes of line as valid UTF-8,
// cut on a rune boundary; invalid bytes become U+FFFD.
func excerpt(line []byte) string {
	if len(line) <= excerptMax && utf8.Valid(line) {
		return string(line)
	}
	out := make([]byte, 0, excerptMax)
	for i := 0; i < len(line); {
		r, n := utf8.DecodeRune(line[i:])
		enc := line[i : i+n]
		if r == utf8.RuneError && n == 1 {
			enc = []byte(string(utf8.RuneError))
		}
		if len(out)+len(enc) > excerptMax {
			break
		}
		out = append(out, enc...)
		i += n
	}
	return string(out)
}

// quoteForReason quotes v for a reject reason, shortening long values so
// that reasons stay bounded.
func quoteForReason(v string) string {
	if len(v) <= reasonValueMax {
		return strconv.Quote(v)
	}
	cut := reasonValueMax
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return strconv.Quote(v[:cut]) + "..."
}

// boundReason shortens a reason built from a caller's error, which may quote a long value.
func boundReason(r string) string {
	const max = 2 * reasonValueMax
	if len(r) <= max {
		return r
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(r[cut]) {
		cut--
	}
	return r[:cut] + "..."
}

// jsonKind names the kind of the JSON value starting with c.
func jsonKind(c byte) string {
	switch c {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	default:
		return "number"
	}
}

// objectFields holds the raw JSON values of the fields a manifest line is
// validated on; a nil slice means the field is absent.
type objectFields struct {
	id, source, sourceRef []byte
	field                 string // the field at fault when scanObject fails
}

// scanObject walks the top-level keys of data, a valid compacted JSON object,
// and picks out id, source and source-ref. Keys match exactly (after JSON
// unescaping); a repeated key among these is an error.
func scanObject(data []byte) (objectFields, error) {
	var f objectFields
	i := 1 // past '{'
	for data[i] != '}' {
		end := skipString(data, i)
		key, _ := decodeString(data[i:end])
		i = end + 1 // past ':'
		end = skipValue(data, i)
		val := data[i:end:end]
		var slot *[]byte
		var name string
		switch {
		case string(key) == FieldID:
			slot, name = &f.id, FieldID
		case string(key) == FieldSource:
			slot, name = &f.source, FieldSource
		case string(key) == FieldSourceRef:
			slot, name = &f.sourceRef, FieldSourceRef
		}
		if slot != nil {
			if *slot != nil {
				f.field = name
				return f, fmt.Errorf("duplicate key %q", name)
			}
			*slot = val
		}
		i = end
		if data[i] == ',' {
			i++
		}
	}
	return f, nil
}

// skipString returns the index just past the JSON string starting at data[i].
func skipString(data []byte, i int) int {
	for j := i + 1; ; {
		k := bytes.IndexAny(data[j:], `"\`)
		j += k
		if data[j] == '"' {
			return j + 1
		}
		j += 2 // escape: backslash and the escaped byte
	}
}

// skipValue returns the index just past the compacted JSON value starting at data[i].
func skipValue(data []byte, i int) int {
	switch data[i] {
	case '"':
		return skipString(data, i)
	case '{', '[':
		depth := 0
		for j := i; ; {
			switch data[j] {
			case '"':
				j = skipString(data, j)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
			j++
		}
	default:
		j := i
		for j < len(data) && data[j] != ',' && data[j] != '}' && data[j] != ']' {
			j++
		}
		return j
	}
}

// decodeString decodes raw when it is a JSON string. Without escapes the
// result aliases raw.
func decodeString(raw []byte) ([]byte, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return nil, false
	}
	inner := raw[1 : len(raw)-1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return inner, true
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, false
	}
	return []byte(v), true
}

// decodeID turns the raw JSON value of an id into its string form, or returns
// the reason it is not acceptable. Integer literals are kept exactly as
// written; other numbers are converted to their shortest decimal form.
func decodeID(raw []byte) (id []byte, reason string) {
	switch c := raw[0]; {
	case c == '"':
		v, _ := decodeString(raw)
		if len(v) == 0 {
			return nil, "id must be a non-empty string"
		}
		return v, ""
	case c == '-' || (c >= '0' && c <= '9'):
		if !bytes.ContainsAny(raw, ".eE") {
			return raw, ""
		}
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil {
			return nil, fmt.Sprintf("id %s is out of range", quoteForReason(string(raw)))
		}
		return strconv.AppendFloat(nil, f, 'f', -1, 64), ""
	default:
		return nil, fmt.Sprintf("id must be a string or a number, not a JSON %s", jsonKind(c))
	}
}

// appendItem appends one chunk line. The field order matches Item, and the
// data is the compacted manifest line, copied unchanged.
func appendItem(dst, id []byte, line int, source, sourceRef, data []byte) []byte {
	dst = append(dst, `{"id":`...)
	dst = appendJSONString(dst, id)
	dst = append(dst, `,"line":`...)
	dst = strconv.AppendInt(dst, int64(line), 10)
	if len(source) > 0 {
		dst = append(dst, `,"source":`...)
		dst = appendJSONString(dst, source)
	}
	if len(sourceRef) > 0 {
		dst = append(dst, `,"source-ref":`...)
		dst = appendJSONString(dst, sourceRef)
	}
	dst = append(dst, `,"data":`...)
	dst = append(dst, data...)
	return append(dst, '}', '\n')
}

// appendReject appends one rejects-file line.
func appendReject(dst []byte, r Reject) []byte {
	dst = append(dst, `{"line":`...)
	dst = strconv.AppendInt(dst, int64(r.Line), 10)
	if r.Field != "" {
		dst = append(dst, `,"field":`...)
		dst = appendJSONString(dst, r.Field)
	}
	dst = append(dst, `,"reason":`...)
	dst = appendJSONString(dst, r.Reason)
	if r.Excerpt != "" {
		dst = append(dst, `,"excerpt":`...)
		dst = appendJSONString(dst, r.Excerpt)
	}
	return append(dst, '}', '\n')
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string. Control characters, quotes,
// backslashes, U+2028 and U+2029 are escaped; invalid UTF-8 becomes U+FFFD.
func appendJSONString[S ~string | ~[]byte](dst []byte, s S) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, n := utf8.DecodeRuneInString(string(s[i:min(i+utf8.UTFMax, len(s))]))
		switch {
		case r == utf8.RuneError && n == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += n
			continue
		}
		i += n
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
