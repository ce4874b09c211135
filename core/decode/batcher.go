package decode

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrQueueFull is returned by Submit when the batcher's queue is full; a
// server answers it with 429.
var ErrQueueFull = errors.New("decode: queue full")

// ErrBatcherClosed is returned for work submitted after, or still queued
// when, the batcher stopped.
var ErrBatcherClosed = errors.New("decode: batcher stopped")

// BatcherOptions bound a Batcher.
type BatcherOptions struct {
	// MaxSeqs is the most sequences stepped together (default 16). A request
	// with more samples than this runs alone.
	MaxSeqs int
	// QueueLen is the most requests waiting to join (default 64).
	QueueLen int
	// OnStep, when set, is called after every step with the number of
	// sequences stepped and the step's duration (for metrics).
	OnStep func(seqs int, took time.Duration)
}

// Batcher runs continuous batching over one Decoder: requests submitted
// from any goroutine join the running batch at the next step, so all their
// sequences share each model's forward passes. Results are identical to
// Generate's for the same request: every sample has its own random streams.
type Batcher struct {
	d    *Decoder
	opts BatcherOptions

	mu      sync.Mutex
	queue   []*job
	closed  bool
	wake    chan struct{}
	running int // sequences in the batch, for Stats
}

type job struct {
	rs   *reqState
	done chan struct{}
	res  *Result
	err  error
}

// NewBatcher returns a Batcher; call Run to start it.
func (d *Decoder) NewBatcher(opts BatcherOptions) *Batcher {
	if opts.MaxSeqs <= 0 {
		opts.MaxSeqs = 16
	}
	if opts.QueueLen <= 0 {
		opts.QueueLen = 64
	}
	return &Batcher{d: d, opts: opts, wake: make(chan struct{}, 1)}
}

// BatcherStats is a snapshot of a Batcher's load.
type BatcherStats struct {
	// Queued counts requests waiting to join.
	Queued int
	// Running counts sequences in the batch.
	Running int
}

// Stats returns the current load.
func (b *Batcher) Stats() BatcherStats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return BatcherStats{Queued: len(b.queue), Running: b.running}
}

// Submit queues req, waits for it to finish and returns its result. It
// returns ErrQueueFull at once when the queue is full. Cancelling ctx
// cancels the request's sequences at the next step.
func (b *Batcher) Submit(ctx context.Context, req Request) (*Result, error) {
	rs, err := b.d.newReqState(ctx, req)
	if err != nil {
		return nil, err
	}
	j := &job{rs: rs, done: make(chan struct{})}
	b.mu.Lock()
	switch {
	case b.closed:
		b.mu.Unlock()
		return nil, ErrBatcherClosed
	case len(b.queue) >= b.opts.QueueLen:
		b.mu.Unlock()
		return nil, ErrQueueFull
	}
	b.queue = append(b.queue, j)
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
	select {
	case <-j.done:
		return j.res, j.err
	case <-ctx.Done():
		// The loop notices the cancelled context at its next step and frees
		// the sequences; the caller need not wait for it.
		return nil, fmt.Errorf("decode: %w", ctx.Err())
	}
}

// Run steps the batch until ctx is cancelled, then fails every queued and
// running request with ErrBatcherClosed and returns.
func (b *Batcher) Run(ctx context.Context) error {
	var active []*job
	bat := &batch{d: b.d}
	defer func() {
		b.mu.Lock()
		b.closed = true
		queued := b.queue
		b.queue = nil
		b.running = 0
		b.mu.Unlock()
		for _, j := range append(active, queued...) {
			j.finish(b.d, nil, ErrBatcherClosed)
		}
	}()
	for {
		active = b.admit(active)
		if len(active) == 0 {
			b.setRunning(0)
			select {
			case <-ctx.Done():
				return nil
			case <-b.wake:
				continue
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		// Drop requests whose callers went away.
		kept := active[:0]
		for _, j := range active {
			if err := j.rs.ctx.Err(); err != nil {
				j.finish(b.d, nil, fmt.Errorf("decode: %w", err))
				continue
			}
			kept = append(kept, j)
		}
		active = kept
		bat.active = bat.active[:0]
		for _, j := range active {
			for _, s := range j.rs.seqs {
				if !s.done {
					bat.active = append(bat.active, s)
				}
			}
		}
		b.setRunning(len(bat.active))
		if len(bat.active) > 0 {
			start := time.Now()
			if err := bat.step(ctx); err != nil {
				for _, j := range active {
					j.finish(b.d, nil, err)
				}
				active = active[:0]
				continue
			}
			if b.opts.OnStep != nil {
				b.opts.OnStep(len(bat.active), time.Since(start))
			}
		}
		kept = active[:0]
		for _, j := range active {
			if j.rs.err != nil {
				j.finish(b.d, nil, j.rs.err)
				continue
			}
			if j.rs.live == 0 {
				j.finish(b.d, j.rs.result(), nil)
				continue
			}
			kept = append(kept, j)
		}
		active = kept
	}
}

// admit moves queued requests into the batch while they fit.
func (b *Batcher) admit(active []*job) []*job {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, j := range active {
		n += j.rs.live
	}
	for len(b.queue) > 0 {
		j := b.queue[0]
		if n > 0 && n+j.rs.live > b.opts.MaxSeqs {
			break
		}
		b.queue = b.queue[1:]
		active = append(active, j)
		n += j.rs.live
	}
	return active
}

func (b *Batcher) setRunning(n int) {
	b.mu.Lock()
	b.running = n
	b.mu.Unlock()
}

// finish frees the job's sequences and hands its result to Submit.
func (j *job) finish(d *Decoder, res *Result, err error) {
	j.rs.release(d)
	j.res, j.err = res, err
	close(j.done)
}
