package config

import (
	"fmt"
	"reflect"
	"strings"
)

func usageTable(c *Config) string {
	var b strings.Builder
	t := reflect.TypeOf(*c)
	fmt.Fprintf(&b, "| variable | default | meaning |\n|---|---|---|\n")
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		fmt.Fprintf(&b, "| `%s` | `%s` | %s |\n", f.Tag.Get("envconfig"), f.Tag.Get("default"), f.Tag.Get("desc"))
	}
	return b.String()
}
