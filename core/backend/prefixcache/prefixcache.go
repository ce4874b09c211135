// Package prefixcache wraps a Backend so that sequences a caller frees are
// kept, up to a bound, and a new sequence whose first Step starts with the
// tokens of a kept one forks it instead of prefilling again. A server that
// is used as a remote backend (each step a new request carrying the whole
// token list) then pays for the new tokens only.
package prefixcache

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/baco-go/baco/core/backend"
)

// Backend is a backend.Backend with a cache of freed sequences.
type Backend struct {
	backend.Backend
	max int

	mu    sync.Mutex
	live  map[backend.SeqID]*entry // caller's ids
	kept  *list.List               // of *entry, most recently kept first
	next  backend.SeqID
	stats Stats
}

// entry is one inner sequence and the tokens it holds.
type entry struct {
	inner  backend.SeqID
	tokens []int32
	elem   *list.Element // in kept, nil while live
}

// Stats count what the cache did.
type Stats struct {
	// Hits counts first Steps that forked a kept sequence.
	Hits int
	// Reused counts the prompt tokens those forks did not recompute.
	Reused int
	// Misses counts first Steps that prefilled from scratch.
	Misses int
}

// New wraps b, keeping at most max freed sequences (max <= 0: 16).
func New(b backend.Backend, max int) *Backend {
	if max <= 0 {
		max = 16
	}
	return &Backend{Backend: b, max: max, live: map[backend.SeqID]*entry{}, kept: list.New()}
}

// Stats returns the counters.
func (c *Backend) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

func (c *Backend) add(inner backend.SeqID, tokens []int32) backend.SeqID {
	c.next++
	c.live[c.next] = &entry{inner: inner, tokens: tokens}
	return c.next
}

func (c *Backend) get(id backend.SeqID) (*entry, error) {
	e, ok := c.live[id]
	if !ok {
		return nil, fmt.Errorf("prefixcache: unknown sequence %d", id)
	}
	return e, nil
}

// Open creates an empty sequence.
func (c *Backend) Open(ctx context.Context) (backend.SeqID, error) {
	inner, err := c.Backend.Open(ctx)
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.add(inner, nil), nil
}

// Fork copies a sequence.
func (c *Backend) Fork(ctx context.Context, seq backend.SeqID) (backend.SeqID, error) {
	c.mu.Lock()
	e, err := c.get(seq)
	c.mu.Unlock()
	if err != nil {
		return 0, err
	}
	inner, err := c.Backend.Fork(ctx, e.inner)
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.add(inner, slices.Clone(e.tokens)), nil
}

// Truncate drops every token from position n on.
func (c *Backend) Truncate(ctx context.Context, seq backend.SeqID, n int) error {
	c.mu.Lock()
	e, err := c.get(seq)
	c.mu.Unlock()
	if err != nil {
		return err
	}
	if err := c.Backend.Truncate(ctx, e.inner, n); err != nil {
		return err
	}
	c.mu.Lock()
	e.tokens = e.tokens[:min(n, len(e.tokens))]
	c.mu.Unlock()
	return nil
}

// Free keeps the sequence for reuse, evicting the least recently kept one
// beyond the bound.
func (c *Backend) Free(ctx context.Context, seq backend.SeqID) error {
	c.mu.Lock()
	e, err := c.get(seq)
	if err != nil {
		c.mu.Unlock()
		return err
	}
	delete(c.live, seq)
	var evict []backend.SeqID
	if len(e.tokens) > 0 {
		e.elem = c.kept.PushFront(e)
		for c.kept.Len() > c.max {
			old := c.kept.Remove(c.kept.Back()).(*entry)
			evict = append(evict, old.inner)
		}
	} else {
		evict = append(evict, e.inner)
	}
	c.mu.Unlock()
	var errs []error
	for _, id := range evict {
		errs = append(errs, c.Backend.Free(ctx, id))
	}
	return errors.Join(errs...)
}

// Step extends sequences. The first Step of an empty sequence that starts
// with a kept sequence's tokens forks it (truncated to the common prefix)
// and sends only the rest; AllPositions steps are passed through as they
// are, since they want a distribution for every token.
func (c *Backend) Step(ctx context.Context, in []backend.StepInput) ([]backend.StepOutput, error) {
	inner := make([]backend.StepInput, len(in))
	entries := make([]*entry, len(in))
	for i, x := range in {
		c.mu.Lock()
		e, err := c.get(x.Seq)
		c.mu.Unlock()
		if err != nil {
			return nil, err
		}
		entries[i], inner[i] = e, x
		inner[i].Seq = e.inner
		if len(e.tokens) == 0 && len(x.Tokens) > 1 && !x.AllPositions {
			if err := c.reuse(ctx, e, &inner[i]); err != nil {
				return nil, err
			}
		}
	}
	out, err := c.Backend.Step(ctx, inner)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range in {
		entries[i].tokens = append(entries[i].tokens, inner[i].Tokens...)
	}
	return out, nil
}

// reuse looks for the kept sequence sharing the longest prefix with x's
// tokens and, if there is one, points e at a fork of it truncated to that
// prefix, leaving in x only the tokens after it.
func (c *Backend) reuse(ctx context.Context, e *entry, x *backend.StepInput) error {
	c.mu.Lock()
	var best *entry
	bestN := 0
	for el := c.kept.Front(); el != nil; el = el.Next() {
		k := el.Value.(*entry)
		n := commonPrefix(k.tokens, x.Tokens)
		n = min(n, len(x.Tokens)-1) // at least one token must be stepped
		if n > bestN {
			best, bestN = k, n
		}
	}
	if best == nil {
		c.stats.Misses++
		c.mu.Unlock()
		return nil
	}
	c.kept.MoveToFront(best.elem)
	c.mu.Unlock()
	forked, err := c.Backend.Fork(ctx, best.inner)
	if err != nil {
		return fmt.Errorf("prefixcache: fork a kept sequence: %w", err)
	}
	if err := c.Backend.Truncate(ctx, forked, bestN); err != nil {
		c.Backend.Free(ctx, forked)
		return fmt.Errorf("prefixcache: truncate a kept sequence: %w", err)
	}
	if err := c.Backend.Free(ctx, e.inner); err != nil {
		return err
	}
	c.mu.Lock()
	e.inner, e.tokens = forked, slices.Clone(x.Tokens[:bestN])
	c.stats.Hits++
	c.stats.Reused += bestN
	c.mu.Unlock()
	x.Seq, x.Tokens = forked, x.Tokens[bestN:]
	return nil
}

func commonPrefix(a, b []int32) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// Close frees every sequence and closes the wrapped backend.
func (c *Backend) Close() error {
	c.mu.Lock()
	c.live = map[backend.SeqID]*entry{}
	c.kept.Init()
	c.mu.Unlock()
	return c.Backend.Close()
}
