package gateway

import "container/list"

// lru is a map of at most max entries that forgets the least recently used one to make room, so
// that keys chosen by callers (project ids, addresses) cannot grow it without bound. It is not
// safe for concurrent use; its owner holds a lock.
type lru[K comparable, V any] struct {
	max   int
	order *list.List // of *lruEntry, most recently used first
	items map[K]*list.Element
}

type lruEntry[K comparable, V any] struct {
	key   K
	value V
}

func newLRU[K comparable, V any](max int) *lru[K, V] {
	return &lru[K, V]{max: max, order: list.New(), items: map[K]*list.Element{}}
}

func (c *lru[K, V]) get(key K) (V, bool) {
	e, ok := c.items[key]
	if !ok {
		var zero V
		return zero, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*lruEntry[K, V]).value, true
}

func (c *lru[K, V]) put(key K, value V) {
	if e, ok := c.items[key]; ok {
		e.Value.(*lruEntry[K, V]).value = value
		c.order.MoveToFront(e)
		return
	}
	if c.order.Len() >= c.max {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.items, oldest.Value.(*lruEntry[K, V]).key)
	}
	c.items[key] = c.order.PushFront(&lruEntry[K, V]{key: key, value: value})
}

func (c *lru[K, V]) len() int { return c.order.Len() }

func (c *lru[K, V]) remove(key K) {
	if e, ok := c.items[key]; ok {
		c.order.Remove(e)
		delete(c.items, key)
	}
}
