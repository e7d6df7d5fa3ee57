// Package label defines annotation types: what an answer looks like, how it is validated, and
// when two answers agree. A type registers itself by name; workflows only see the Type interface,
// so adding a type means adding a package that calls Register.
package label

import (
	"encoding/json"
	"fmt"
	"sort"
	"sync"
)

// Answer is one person's answer to one item, as JSON. Answers are small (a class name, a few
// boxes); they travel in workflow history, datasets never do.
type Answer = json.RawMessage

// Type is an annotation type.
type Type interface {
	// Name is the spec's annotation.type value.
	Name() string
	// CheckTaxonomy validates the project's taxonomy for this type.
	CheckTaxonomy(taxonomy []string) error
	// Validate checks one answer against the taxonomy; its error names the field at fault.
	Validate(a Answer, taxonomy []string) error
	// Agree reports whether two valid answers agree.
	Agree(a, b Answer) bool
	// Canonical returns the stored form of a valid answer, so equal answers are byte-equal.
	Canonical(a Answer) Answer
}

var (
	mu    sync.RWMutex
	types = map[string]Type{}
)

// Register makes t available under t.Name(). It panics on a duplicate name: that is a programming error.
func Register(t Type) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := types[t.Name()]; dup {
		panic("label: type registered twice: " + t.Name())
	}
	types[t.Name()] = t
}

// Lookup returns the type called name.
func Lookup(name string) (Type, error) {
	mu.RLock()
	defer mu.RUnlock()
	t, ok := types[name]
	if !ok {
		return nil, fmt.Errorf("unknown annotation type %q (known: %v)", name, namesLocked())
	}
	return t, nil
}

// Names lists the registered types.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	return namesLocked()
}

func namesLocked() []string {
	out := make([]string, 0, len(types))
	for n := range types {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
