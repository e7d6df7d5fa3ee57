// Package formatcheck reads delivered files by the rules of the tools clients load them into,
// so that tests (of the converters and of whole deliveries) hold every format to its consumer's
// own rules rather than to LabelFlow's idea of them. Each check names where its rule comes from.
package formatcheck

import (
	"encoding/json"
	"fmt"
	"strings"
)

// LabelStudioImport checks a Label Studio JSON file as Label Studio's import reads it
// (label_studio/tasks/validation.py TaskValidator.validate and label_studio/tasks/serializers.py
// BaseTaskSerializerBulk), for a labelling config whose object tag named by each result's
// to_name takes $<to_name> from the task's data:
//
//   - the file is a non-empty list of tasks ("empty" otherwise);
//   - a task is an object with a "data" object; "annotations" and "predictions", when present,
//     are lists; "meta", when present, is an object;
//   - an annotation is an object with a "result" list; its completed_by, when present, must be
//     a member's id or {"email": ...} of a member: LabelFlow knows no member of the client's
//     Label Studio, so any completed_by would roll the whole import back;
//   - ground_truth and was_cancelled, when present, are booleans; lead_time a number;
//   - each result has a string id, from_name, to_name and type and a value object of its type's
//     shape (the result format of Label Studio's export and tag docs), and its to_name names a
//     data key holding the type the object tag expects (Text: a string or a number; Image: a
//     string or a list; check_data's _DATA_TYPES).
func LabelStudioImport(data []byte) error {
	var tasks []json.RawMessage
	if err := json.Unmarshal(data, &tasks); err != nil {
		return fmt.Errorf("not a list of tasks: %v", err)
	}
	if len(tasks) == 0 {
		return fmt.Errorf("empty: Label Studio refuses an import without tasks")
	}
	for i, raw := range tasks {
		if err := lsTask(raw); err != nil {
			return fmt.Errorf("task %d: %v", i, err)
		}
	}
	return nil
}

func lsTask(raw json.RawMessage) error {
	var t map[string]json.RawMessage
	if err := json.Unmarshal(raw, &t); err != nil || t == nil {
		return fmt.Errorf(`a task must be an object with "data", "meta", "annotations", "predictions"`)
	}
	var taskData map[string]any
	if err := json.Unmarshal(t["data"], &taskData); err != nil || taskData == nil {
		return fmt.Errorf(`"data" must be an object`)
	}
	if m, ok := t["meta"]; ok {
		var meta map[string]any
		if err := json.Unmarshal(m, &meta); err != nil || meta == nil {
			return fmt.Errorf(`"meta" must be an object`)
		}
	}
	if p, ok := t["predictions"]; ok {
		var preds []map[string]json.RawMessage
		if err := json.Unmarshal(p, &preds); err != nil {
			return fmt.Errorf(`"predictions" must be a list of objects`)
		}
		for k, pr := range preds {
			if _, ok := pr["result"]; !ok {
				return fmt.Errorf(`prediction %d must have "result" fields`, k)
			}
		}
	}
	a, ok := t["annotations"]
	if !ok {
		return nil
	}
	var anns []map[string]json.RawMessage
	if err := json.Unmarshal(a, &anns); err != nil {
		return fmt.Errorf(`"annotations" must be a list of objects`)
	}
	for k, an := range anns {
		if err := lsAnnotation(an, taskData); err != nil {
			return fmt.Errorf("annotation %d: %v", k, err)
		}
	}
	return nil
}

func lsAnnotation(an map[string]json.RawMessage, taskData map[string]any) error {
	if cb, ok := an["completed_by"]; ok && string(cb) != "null" {
		return fmt.Errorf("completed_by=%s is not a valid annotator's email or ID of the importing organisation", cb)
	}
	for _, key := range []string{"ground_truth", "was_cancelled"} {
		if v, ok := an[key]; ok {
			var b bool
			if err := json.Unmarshal(v, &b); err != nil {
				return fmt.Errorf("%s must be a boolean, got %s", key, v)
			}
		}
	}
	if v, ok := an["lead_time"]; ok {
		var f float64
		if err := json.Unmarshal(v, &f); err != nil {
			return fmt.Errorf("lead_time must be a number, got %s", v)
		}
	}
	raw, ok := an["result"]
	if !ok {
		return fmt.Errorf(`annotation must have "result" fields`)
	}
	var results []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &results); err != nil || results == nil {
		return fmt.Errorf(`"result" field in annotation must be list`)
	}
	for k, r := range results {
		if err := lsResult(r, taskData); err != nil {
			return fmt.Errorf("result %d: %v", k, err)
		}
	}
	return nil
}

func lsResult(r map[string]json.RawMessage, taskData map[string]any) error {
	str := func(key string) (string, error) {
		var s string
		if err := json.Unmarshal(r[key], &s); err != nil || s == "" {
			return "", fmt.Errorf("%s must be a non-empty string", key)
		}
		return s, nil
	}
	for _, key := range []string{"id", "from_name"} {
		if _, err := str(key); err != nil {
			return err
		}
	}
	toName, err := str("to_name")
	if err != nil {
		return err
	}
	typ, err := str("type")
	if err != nil {
		return err
	}
	if err := lsObjectData(toName, taskData); err != nil {
		return err
	}
	return lsValue(typ, r)
}

// lsObjectData checks the data key an object tag reads, for the tags LabelFlow's results name.
func lsObjectData(toName string, taskData map[string]any) error {
	v, ok := taskData[toName]
	if !ok {
		return fmt.Errorf("%q key is expected in task data", toName)
	}
	switch toName {
	case "text":
		switch v.(type) {
		case string, float64:
			return nil
		}
	case "image":
		switch v.(type) {
		case string, []any:
			return nil
		}
	default:
		return fmt.Errorf("to_name %q names no object tag of LabelFlow's labelling configs", toName)
	}
	return fmt.Errorf("data[%q] is of type %T, which the object tag does not take", toName, v)
}

// lsValue checks a result's value by its type, as Label Studio's tags write it.
func lsValue(typ string, r map[string]json.RawMessage) error {
	var v map[string]json.RawMessage
	if err := json.Unmarshal(r["value"], &v); err != nil || v == nil {
		return fmt.Errorf("value must be an object")
	}
	strings_ := func(key string) ([]string, error) {
		var s []string
		if err := json.Unmarshal(v[key], &s); err != nil || len(s) == 0 {
			return nil, fmt.Errorf("value.%s must be a non-empty list of strings", key)
		}
		return s, nil
	}
	number := func(key string) (float64, error) {
		var f float64
		if err := json.Unmarshal(v[key], &f); err != nil {
			return 0, fmt.Errorf("value.%s must be a number", key)
		}
		return f, nil
	}
	switch typ {
	case "choices":
		_, err := strings_("choices")
		return err
	case "textarea":
		var s []string
		if err := json.Unmarshal(v["text"], &s); err != nil || s == nil {
			return fmt.Errorf("value.text must be a list of strings")
		}
		return nil
	case "labels":
		start, err := number("start")
		if err != nil {
			return err
		}
		end, err := number("end")
		if err != nil {
			return err
		}
		if start < 0 || end < start {
			return fmt.Errorf("span [%v,%v) is not a span", start, end)
		}
		_, err = strings_("labels")
		return err
	case "rectanglelabels":
		// Rectangles are in percent of the image (Label Studio's RectangleLabels result).
		for _, key := range []string{"x", "y", "width", "height"} {
			f, err := number(key)
			if err != nil {
				return err
			}
			if f < 0 || f > 100 {
				return fmt.Errorf("value.%s = %v is not a percentage of the image", key, f)
			}
		}
		for _, key := range []string{"original_width", "original_height"} {
			var n int
			if err := json.Unmarshal(r[key], &n); err != nil || n <= 0 {
				return fmt.Errorf("%s must be the image's size in pixels", key)
			}
		}
		_, err := strings_("rectanglelabels")
		return err
	}
	return fmt.Errorf("result type %q is not one LabelFlow writes", strings.TrimSpace(typ))
}
