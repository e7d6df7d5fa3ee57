package config

import (
	"fmt"
	"reflect"
	"strings"
)

func usageTable(c *Config) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| variable | default | meaning |\n|---|---|---|\n")
	writeRows(&b, reflect.TypeOf(*c))
	return b.String()
}

// writeRows writes a row per setting, group by group in the order Config lists them.
func writeRows(b *strings.Builder, t reflect.Type) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			writeRows(b, f.Type)
			continue
		}
		fmt.Fprintf(b, "| `%s` | `%s` | %s |\n", f.Tag.Get("envconfig"), f.Tag.Get("default"), f.Tag.Get("desc"))
	}
}

// Variables names every LABELFLOW_* variable, group by group.
func Variables() []string {
	var out []string
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if f.Anonymous && f.Type.Kind() == reflect.Struct {
				walk(f.Type)
				continue
			}
			out = append(out, f.Tag.Get("envconfig"))
		}
	}
	walk(reflect.TypeOf(Config{}))
	return out
}
