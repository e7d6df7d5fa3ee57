package kubernetes

import (
	"fmt"
	"math"
	"regexp"
	"sort"
)

// checkSchema reports where value breaks an OpenAPI v3 structural schema as a
// CustomResourceDefinition gives it: types, properties (unknown fields are errors here, where
// the API server would drop them silently), required, enum, minimum, minLength, minItems,
// pattern, additionalProperties, items and int-or-string. CEL rules (x-kubernetes-validations)
// are not evaluated; the tests check the few that matter themselves.
func checkSchema(path string, value any, schema map[string]any) []error {
	if schema["x-kubernetes-int-or-string"] == true {
		switch value.(type) {
		case string, float64:
			return nil
		}
		return []error{fmt.Errorf("%s: %v is neither an integer nor a string", path, value)}
	}
	var errs []error
	switch schema["type"] {
	case "object":
		errs = checkObject(path, value, schema)
	case "array":
		errs = checkArray(path, value, schema)
	case "string":
		errs = checkString(path, value, schema)
	case "integer", "number":
		errs = checkNumber(path, value, schema)
	case "boolean":
		if _, ok := value.(bool); !ok {
			errs = append(errs, fmt.Errorf("%s: %v is not a boolean", path, value))
		}
	}
	if enum, ok := schema["enum"].([]any); ok && !contains(enum, value) {
		errs = append(errs, fmt.Errorf("%s: %v is none of %v", path, value, enum))
	}
	return errs
}

func checkObject(path string, value any, schema map[string]any) []error {
	obj, ok := value.(map[string]any)
	if !ok {
		return []error{fmt.Errorf("%s: %v is not an object", path, value)}
	}
	var errs []error
	for _, name := range stringList(schema["required"]) {
		if _, ok := obj[name]; !ok {
			errs = append(errs, fmt.Errorf("%s: required field %q is missing", path, name))
		}
	}
	props, hasProps := schema["properties"].(map[string]any)
	extra, hasExtra := schema["additionalProperties"].(map[string]any)
	for _, name := range sortedKeys(obj) {
		sub := path + "." + name
		switch {
		case hasProps && props[name] != nil:
			errs = append(errs, checkSchema(sub, obj[name], props[name].(map[string]any))...)
		case hasExtra:
			errs = append(errs, checkSchema(sub, obj[name], extra)...)
		case hasProps && schema["x-kubernetes-preserve-unknown-fields"] != true:
			errs = append(errs, fmt.Errorf("%s: unknown field", sub))
		}
	}
	return errs
}

func checkArray(path string, value any, schema map[string]any) []error {
	list, ok := value.([]any)
	if !ok {
		return []error{fmt.Errorf("%s: %v is not a list", path, value)}
	}
	var errs []error
	if min, ok := schema["minItems"].(float64); ok && float64(len(list)) < min {
		errs = append(errs, fmt.Errorf("%s: %d items, at least %v needed", path, len(list), min))
	}
	if items, ok := schema["items"].(map[string]any); ok {
		for i, v := range list {
			errs = append(errs, checkSchema(fmt.Sprintf("%s[%d]", path, i), v, items)...)
		}
	}
	return errs
}

func checkString(path string, value any, schema map[string]any) []error {
	s, ok := value.(string)
	if !ok {
		return []error{fmt.Errorf("%s: %v is not a string", path, value)}
	}
	if min, ok := schema["minLength"].(float64); ok && float64(len(s)) < min {
		return []error{fmt.Errorf("%s: %q is shorter than %v", path, s, min)}
	}
	if p, ok := schema["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(s) {
		return []error{fmt.Errorf("%s: %q does not match %s", path, s, p)}
	}
	return nil
}

func checkNumber(path string, value any, schema map[string]any) []error {
	n, ok := value.(float64)
	if !ok {
		return []error{fmt.Errorf("%s: %v is not a number", path, value)}
	}
	if schema["type"] == "integer" && n != math.Trunc(n) {
		return []error{fmt.Errorf("%s: %v is not an integer", path, n)}
	}
	if min, ok := schema["minimum"].(float64); ok && n < min {
		return []error{fmt.Errorf("%s: %v is below the minimum %v", path, n, min)}
	}
	return nil
}

func contains(list []any, v any) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func stringList(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
