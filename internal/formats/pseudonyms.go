package formats

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// RenameAnnotators rewrites delivered JSON Lines for a client: in each line's label-metadata,
// every annotator and the reviewer become name(person), so that a client never reads a roster
// id. Everything else of a line (its fields, their order and bytes) is kept. Blank lines are
// dropped; every line ends in "\n".
func RenameAnnotators(data []byte, name func(person string) string) ([]byte, error) {
	var out bytes.Buffer
	num := 0
	for line := range bytes.Lines(data) {
		num++
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		renamed, err := renameLine(line, name)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", num, err)
		}
		out.Write(renamed)
		out.WriteByte('\n')
	}
	return out.Bytes(), nil
}

func renameLine(line []byte, name func(string) string) ([]byte, error) {
	if compactLine(line) {
		if out, ok := renameCompact(line, name); ok {
			return out, nil
		}
	}
	fields, err := objectFields(line)
	if err != nil {
		return nil, err
	}
	for i, f := range fields {
		if f.key != fieldLabelMetadata {
			continue
		}
		meta, err := renameMetadata(f.value, name)
		if err != nil {
			return nil, fmt.Errorf("label-metadata: %w", err)
		}
		fields[i].value = meta
	}
	return marshal(object(fields))
}

func renameMetadata(raw json.RawMessage, name func(string) string) (json.RawMessage, error) {
	fields, err := objectFields(raw)
	if err != nil {
		return nil, err
	}
	for i, f := range fields {
		switch f.key {
		case "annotators":
			var people []string
			if err := json.Unmarshal(f.value, &people); err != nil {
				return nil, fmt.Errorf("annotators: %v", err)
			}
			for k, p := range people {
				people[k] = name(p)
			}
			if people == nil {
				people = []string{}
			}
			fields[i].value, err = marshal(people)
		case "reviewer":
			var p string
			if err := json.Unmarshal(f.value, &p); err != nil {
				return nil, fmt.Errorf("reviewer: %v", err)
			}
			fields[i].value, err = marshal(name(p))
		}
		if err != nil {
			return nil, err
		}
	}
	return marshal(object(fields))
}
