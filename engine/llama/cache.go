package llama

import "fmt"

// Cache is the key/value cache of one sequence: for every layer, the rotated
// keys and the values of every position seen so far, in float32 (exact, no
// cache quantisation).
//
// Storage grows lazily: capacity doubles as positions are appended (never
// beyond the model's context length), so an idle or short sequence costs
// little memory even when the context is long. A Cache is not safe for
// concurrent use; Model.Forward is the only writer.
type Cache struct {
	model *Model
	n     int         // positions held
	cap   int         // positions allocated per layer
	k     [][]float32 // per layer: [cap][kvDim]
	v     [][]float32 // per layer: [cap][kvDim]
}

// NewCache returns an empty cache for one sequence of m.
func (m *Model) NewCache() *Cache {
	c := &Cache{model: m, k: make([][]float32, m.cfg.Layers), v: make([][]float32, m.cfg.Layers)}
	return c
}

// Len returns the number of positions the cache holds.
func (c *Cache) Len() int { return c.n }

// Model returns the model the cache belongs to.
func (c *Cache) Model() *Model { return c.model }

// Fork returns an independent copy of the cache (same positions, own
// storage), sized to what it holds.
func (c *Cache) Fork() *Cache {
	d := c.model.NewCache()
	if c.n == 0 {
		return d
	}
	d.reserve(c.n)
	kvDim := c.model.cfg.KVDim()
	for l := range c.k {
		copy(d.k[l], c.k[l][:c.n*kvDim])
		copy(d.v[l], c.v[l][:c.n*kvDim])
	}
	d.n = c.n
	return d
}

// Truncate drops every position from n on. It returns an error when n is
// negative or larger than Len.
func (c *Cache) Truncate(n int) error {
	if n < 0 || n > c.n {
		return fmt.Errorf("llama: truncate cache to %d positions: it holds %d", n, c.n)
	}
	c.n = n
	return nil
}

// Reset empties the cache, keeping its storage for reuse.
func (c *Cache) Reset() { c.n = 0 }

// Bytes returns the memory the cache currently holds for keys and values.
func (c *Cache) Bytes() int64 {
	return int64(c.cap) * int64(c.model.cfg.KVDim()) * 4 * 2 * int64(len(c.k))
}

// reserve makes room for at least n positions (n must not exceed the
// context length, which callers check), doubling capacity to amortise
// growth.
func (c *Cache) reserve(n int) {
	if n <= c.cap {
		return
	}
	newCap := max(c.cap*2, 16, n)
	newCap = min(newCap, c.model.cfg.ContextLen)
	newCap = max(newCap, n)
	kvDim := c.model.cfg.KVDim()
	for l := range c.k {
		k := make([]float32, newCap*kvDim)
		v := make([]float32, newCap*kvDim)
		copy(k, c.k[l][:c.n*kvDim])
		copy(v, c.v[l][:c.n*kvDim])
		c.k[l], c.v[l] = k, v
	}
	c.cap = newCap
}
