package formats

import (
	"bytes"
	"encoding/json"
)

// Results are stored as compact JSON (json.Marshal), and a delivery renames every line of them.
// Decoding each line into its fields and encoding it again costs far more than the upload, so a
// compact line is renamed by copying it and rewriting only the annotators and reviewer values.
// The bytes are the ones renameLine's decode and encode would give; a line in any other form
// (whitespace between tokens, escaped keys, values that are not what they should be) is left to
// renameLine, which also reports the errors.

// renameCompact renames the people of a valid JSON line; ok is false when the line is not compact
// or not as stored, and must go through renameLine's full decode.
func renameCompact(line []byte, name func(string) string) (out []byte, ok bool) {
	out = make([]byte, 0, len(line)+32)
	copied := 0
	ok = eachMember(line, 0, func(key []byte, start, end int) bool {
		if string(key) != fieldLabelMetadata {
			return true
		}
		return eachMember(line, start, func(key []byte, vs, ve int) bool {
			var renamed []byte
			switch string(key) {
			case "annotators":
				renamed = renamedList(line[vs:ve], name)
			case "reviewer":
				renamed = renamedOne(line[vs:ve], name)
			default:
				return true
			}
			if renamed == nil {
				return false
			}
			out = append(append(out, line[copied:vs]...), renamed...)
			copied = ve
			return true
		}) == end
	}) == len(line)
	if !ok {
		return nil, false
	}
	return append(out, line[copied:]...), true
}

// renamedList is a JSON list of people renamed, nil when raw is not a list of strings.
func renamedList(raw []byte, name func(string) string) []byte {
	var people []string
	if raw[0] != '[' || json.Unmarshal(raw, &people) != nil {
		return nil
	}
	for i, p := range people {
		people[i] = name(p)
	}
	if people == nil {
		people = []string{}
	}
	b, err := marshal(people)
	if err != nil {
		return nil
	}
	return b
}

// renamedOne is a JSON string naming a person renamed, nil when raw is not a string.
func renamedOne(raw []byte, name func(string) string) []byte {
	var p string
	if raw[0] != '"' || json.Unmarshal(raw, &p) != nil {
		return nil
	}
	b, err := marshal(name(p))
	if err != nil {
		return nil
	}
	return b
}

// eachMember calls member with each key of the compact JSON object at b[i] and the span of its
// value, in order, and returns the index after the object; -1 when the object is not compact, a
// key is not plain (escapes, bytes outside printable ASCII) or member returns false. b is valid
// JSON.
func eachMember(b []byte, i int, member func(key []byte, start, end int) bool) int {
	if i >= len(b) || b[i] != '{' {
		return -1
	}
	i++
	if i < len(b) && b[i] == '}' {
		return i + 1
	}
	for i < len(b) && b[i] == '"' {
		keyEnd := stringEnd(b, i)
		key := b[i+1 : keyEnd-1]
		if !plainKey(key) || keyEnd >= len(b) || b[keyEnd] != ':' {
			return -1
		}
		start := keyEnd + 1
		end := valueEnd(b, start)
		if end < 0 || end >= len(b) || !member(key, start, end) {
			return -1
		}
		switch b[end] {
		case ',':
			i = end + 1
		case '}':
			return end + 1
		default:
			return -1
		}
	}
	return -1
}

// plainKey: printable ASCII without escapes, which encoding a key again leaves as it is.
func plainKey(key []byte) bool {
	for _, c := range key {
		if c < 0x20 || c >= 0x7f || c == '\\' || c == '"' {
			return false
		}
	}
	return true
}

// stringEnd is the index after the JSON string starting at b[i].
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(b)
}

// valueEnd is the index after the JSON value starting at b[i], or -1 when it holds whitespace
// between tokens. b is valid JSON.
func valueEnd(b []byte, i int) int {
	depth := 0
	for j := i; j < len(b); j++ {
		switch c := b[j]; c {
		case '"':
			j = stringEnd(b, j) - 1
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return j
			}
			depth--
		case ',':
			if depth == 0 {
				return j
			}
		case ' ', '\t', '\n', '\r':
			return -1
		}
		if depth == 0 && (b[j] == '"' || b[j] == '}' || b[j] == ']') {
			return j + 1
		}
	}
	return len(b)
}

// compactLine reports whether line is valid JSON, which renameCompact requires.
func compactLine(line []byte) bool { return bytes.HasPrefix(line, []byte{'{'}) && json.Valid(line) }
