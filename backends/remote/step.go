package remote

import (
	"context"
	"fmt"
	"sync"

	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/core/dist"
)

// Limits are what Step checks before it sends anything.
type Limits struct {
	// Vocab is the vocabulary size: every token must lie in [0, Vocab).
	Vocab int
	// ContextLen bounds the tokens one sequence may hold (0: no bound).
	ContextLen int
}

// Query is one sequence's request: the whole token list the server must
// read, and what to return.
type Query struct {
	// Tokens is every token of the sequence, the new ones included.
	Tokens []int32
	// TopK is how many candidates to return (already defaulted and capped).
	TopK int
}

// QueryFunc asks the server for the next-token distribution after
// q.Tokens. It must be idempotent (it may be retried) and safe to call
// concurrently.
type QueryFunc func(ctx context.Context, q Query) (dist.Dist, error)

// StepBatch runs a backend.Backend Step over client-side sequences: it
// validates every input first (unknown or repeated sequence, negative
// TopK, empty append to an empty sequence, a token outside the
// vocabulary, a context overflow), then sends one query per input (one per
// appended token with AllPositions), at most limit at a time, and commits
// the new tokens only when every query succeeded, so an error leaves every
// sequence as it was. topK maps a requested TopK to the one to send.
func StepBatch(ctx context.Context, seqs *Seqs, in []backend.StepInput, lim Limits, limit int,
	topK func(int) int, query QueryFunc) ([]backend.StepOutput, error) {
	type job struct {
		full []int32 // held + new tokens
		held int
	}
	jobs := make([]job, len(in))
	for i, x := range in {
		held, err := seqs.Tokens(x.Seq)
		if err != nil {
			return nil, fmt.Errorf("step input %d: %w", i, err)
		}
		for j := range i {
			if in[j].Seq == x.Seq {
				return nil, fmt.Errorf("step inputs %d and %d both extend seq %d", j, i, x.Seq)
			}
		}
		if x.TopK < 0 {
			return nil, fmt.Errorf("step seq %d: negative TopK %d", x.Seq, x.TopK)
		}
		if len(x.Tokens) == 0 && len(held) == 0 {
			return nil, fmt.Errorf("step seq %d: no tokens to append to an empty sequence", x.Seq)
		}
		for j, t := range x.Tokens {
			if t < 0 || int(t) >= lim.Vocab {
				return nil, fmt.Errorf("step seq %d token %d: id %d outside the vocabulary [0, %d)", x.Seq, j, t, lim.Vocab)
			}
		}
		if n := len(held) + len(x.Tokens); lim.ContextLen > 0 && n > lim.ContextLen {
			return nil, fmt.Errorf("step seq %d: %d held + %d new tokens exceed the context length %d",
				x.Seq, len(held), len(x.Tokens), lim.ContextLen)
		}
		jobs[i] = job{full: append(held, x.Tokens...), held: len(held)}
	}

	// One task per query: the last position of every input, and every
	// earlier appended position of an AllPositions input.
	type task struct{ in, pos int } // pos: dist index within the input
	var tasks []task
	out := make([]backend.StepOutput, len(in))
	for i, x := range in {
		n := 1
		if x.AllPositions && len(x.Tokens) > 0 {
			n = len(x.Tokens)
		}
		out[i].Dists = make([]dist.Dist, n)
		for p := range n {
			tasks = append(tasks, task{i, p})
		}
	}
	err := Each(ctx, len(tasks), limit, func(ctx context.Context, t int) error {
		i, p := tasks[t].in, tasks[t].pos
		j := jobs[i]
		end := len(j.full)
		if len(out[i].Dists) > 1 {
			end = j.held + p + 1
		}
		d, err := query(ctx, Query{Tokens: j.full[:end:end], TopK: topK(in[i].TopK)})
		if err != nil {
			return fmt.Errorf("step seq %d: %w", in[i].Seq, err)
		}
		out[i].Dists[p] = d
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, x := range in {
		if err := seqs.Append(x.Seq, x.Tokens); err != nil {
			return nil, fmt.Errorf("step seq %d: %w", x.Seq, err)
		}
	}
	return out, nil
}

// Each calls f(ctx, i) for i in [0, n), at most limit at a time (limit < 1
// means 1). The first error cancels the context of the calls still
// running, stops new ones, and is returned.
func Each(ctx context.Context, n, limit int, f func(ctx context.Context, i int) error) error {
	if n == 0 {
		return nil
	}
	if n == 1 {
		return f(ctx, 0)
	}
	limit = max(1, min(limit, n))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
		first error
		next  int
		wg    sync.WaitGroup
	)
	take := func() (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		if first != nil || next >= n {
			return 0, false
		}
		next++
		return next - 1, true
	}
	for range limit {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i, ok := take()
				if !ok {
					return
				}
				if err := f(ctx, i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
						cancel()
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}
