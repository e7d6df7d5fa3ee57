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

// Item is what validation may know of the item being answered. Fields a type does not need are
// zero: an image's size is known for images, a text's length for texts.
type Item struct {
	Taxonomy []string
	Width    int // image width in pixels, 0 when unknown
	Height   int // image height in pixels, 0 when unknown
	TextLen  int // length of the item's text in Unicode code points, 0 when not a text
}

// Type is an annotation type.
type Type interface {
	// Name is the spec's annotation.type value.
	Name() string
	// CheckTaxonomy validates the project's taxonomy for this type.
	CheckTaxonomy(taxonomy []string) error
	// Validate checks one answer for an item; its error names the field at fault
	// (for example "boxes[2].width: …"). Nothing half-valid is accepted.
	Validate(a Answer, item Item) error
	// Agreement measures how far two valid answers agree, from 0 (not at all) to 1 (identical).
	Agreement(a, b Answer) float64
	// DefaultThreshold is the agreement at or above which two answers agree, unless the project
	// sets its own.
	DefaultThreshold() float64
	// Consolidate merges answers that agree into the delivered answer.
	Consolidate(answers []Answer) Answer
	// Canonical returns the stored form of a valid answer, so equal answers are byte-equal.
	Canonical(a Answer) Answer
}

// ImageSized is implemented by types whose answers must fit inside the image.
type ImageSized interface{ NeedsImageSize() }

// TextSpanned is implemented by types whose answers point into the item's text.
type TextSpanned interface{ NeedsTextLength() }

// Needs says what validation must know of each item for type t.
func Needs(t Type) (imageSize, textLength bool) {
	_, imageSize = t.(ImageSized)
	_, textLength = t.(TextSpanned)
	return
}

// Agree reports whether two answers agree at the threshold (the type's default when threshold <= 0).
func Agree(t Type, a, b Answer, threshold float64) bool {
	if threshold <= 0 {
		threshold = t.DefaultThreshold()
	}
	return t.Agreement(a, b) >= threshold
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
