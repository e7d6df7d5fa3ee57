package gateway

import (
	"fmt"
	"testing"
)

// 20,000 distinct keys, as a client inventing ids or addresses would send, leave the cache at its
// cap, holding the most recent ones.
func TestLRUStaysAtItsCap(t *testing.T) {
	const size, keys = 1024, 20000
	c := newLRU[string, int](size)
	for i := range keys {
		c.put(fmt.Sprintf("id-%d", i), i)
		if c.len() > size {
			t.Fatalf("after %d keys the cache holds %d, cap %d", i+1, c.len(), size)
		}
	}
	if c.len() != size || len(c.items) != size {
		t.Fatalf("cache holds %d (index %d), want %d", c.len(), len(c.items), size)
	}
	if _, ok := c.get(fmt.Sprintf("id-%d", keys-size-1)); ok {
		t.Error("the key used least recently is still held")
	}
	if v, ok := c.get(fmt.Sprintf("id-%d", keys-size)); !ok || v != keys-size {
		t.Errorf("oldest of the last %d keys = %d, %v", size, v, ok)
	}
}

func TestLRUForgetsTheLeastRecentlyUsed(t *testing.T) {
	c := newLRU[string, int](2)
	c.put("a", 1)
	c.put("b", 2)
	c.get("a") // a is now more recent than b
	c.put("c", 3)
	if _, ok := c.get("b"); ok {
		t.Error("b was kept, though used least recently")
	}
	if v, ok := c.get("a"); !ok || v != 1 {
		t.Errorf("a = %d, %v; want 1, kept", v, ok)
	}
	c.put("a", 10)
	if v, _ := c.get("a"); v != 10 || c.len() != 2 {
		t.Errorf("after replacing a: a = %d, len %d", v, c.len())
	}
}
