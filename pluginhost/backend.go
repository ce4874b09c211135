package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/sdk/plugin"
)

// Backend is a backend.Backend served by a supervised plugin process. It
// starts the process (and sends the parameter string) on creation; when the
// process dies, hangs past StepTimeout or answers garbage, the calls it was
// serving and every later call on its sequences fail with an error naming
// the plugin, and the next new work (Info, Tokenize, Detokenize, Pieces,
// Open) starts a fresh process. Sequence ids stay unique across restarts.
type Backend struct {
	h      *Host
	entry  Entry
	params string

	startMu sync.Mutex // serialises restarts

	mu     sync.Mutex
	cur    *backendInc
	inc    uint64
	seqs   map[backend.SeqID]seqRef
	next   backend.SeqID
	closed bool
}

var _ backend.Backend = (*Backend)(nil)

// backendInc is one incarnation (process) of the plugin.
type backendInc struct {
	p   *proc
	c   *plugin.BackendClient
	inc uint64
}

// seqRef is a host sequence id's incarnation and the plugin's own id.
type seqRef struct {
	inc    uint64
	remote backend.SeqID
}

// Backend starts the backend plugin called name and configures it with
// params (its meaning is the plugin's, e.g. a model path).
func (h *Host) Backend(ctx context.Context, name, params string) (*Backend, error) {
	e, err := h.Find(plugin.KindBackend, name)
	if err != nil {
		return nil, err
	}
	return h.BackendEntry(ctx, e, params)
}

// BackendEntry is Backend for an entry from List or Find.
func (h *Host) BackendEntry(ctx context.Context, e Entry, params string) (*Backend, error) {
	b := &Backend{h: h, entry: e, params: params, seqs: map[backend.SeqID]seqRef{}}
	if _, err := b.current(ctx); err != nil {
		return nil, err
	}
	return b, nil
}

// Entry is the plugin serving the backend.
func (b *Backend) Entry() Entry { return b.entry }

// Description is what the plugin said about itself at its last start.
func (b *Backend) Description() plugin.Description {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cur == nil {
		return plugin.Description{}
	}
	return b.cur.p.desc
}

// SharedMemory reports whether the current incarnation returns full
// distributions through shared memory.
func (b *Backend) SharedMemory() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cur != nil && b.cur.c.SharedMemory()
}

// PID is the process id of the current incarnation (0 when none).
func (b *Backend) PID() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cur == nil {
		return 0
	}
	return b.cur.p.pid
}

// current returns a usable incarnation, starting one when the last died.
func (b *Backend) current(ctx context.Context) (*backendInc, error) {
	b.mu.Lock()
	cur, closed := b.cur, b.closed
	b.mu.Unlock()
	if closed {
		return nil, fmt.Errorf("plugin %s: %w", b.entry.Name, ErrClosed)
	}
	if cur != nil && cur.p.usable() {
		return cur, nil
	}
	b.startMu.Lock()
	defer b.startMu.Unlock()
	b.mu.Lock()
	cur = b.cur
	b.mu.Unlock()
	if cur != nil {
		if cur.p.usable() {
			return cur, nil
		}
		b.h.log.Warn("restarting plugin", "plugin", b.entry.Name, "kind", plugin.KindBackend, "cause", cur.p.cause())
		b.h.release(cur.p)
	}
	p, err := b.h.start(ctx, b.entry, plugin.KindBackend)
	if err != nil {
		return nil, err
	}
	var opts []plugin.ClientOpt
	if b.h.cfg.NoSharedMemory {
		opts = append(opts, plugin.WithoutSharedMemory())
	}
	c := p.conn.Backend(b.entry.Name, opts...)
	p.mu.Lock()
	p.onKill = c.Release
	p.mu.Unlock()
	cctx, cancel := context.WithTimeout(ctx, b.h.cfg.ConfigureTimeout)
	err = c.Configure(cctx, b.params)
	if err == nil {
		_, err = c.Info(cctx) // learn the vocabulary size for answer checks
	}
	cancel()
	if err != nil {
		b.h.release(p)
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		go b.h.release(p)
		return nil, fmt.Errorf("plugin %s: %w", b.entry.Name, ErrClosed)
	}
	b.inc++
	b.cur = &backendInc{p: p, c: c, inc: b.inc}
	return b.cur, nil
}

// check inspects a call's error: a lost process, a garbage answer or a
// timeout of the host's own deadline marks the incarnation broken.
func (b *Backend) check(ctx context.Context, cur *backendInc, op string, timeout time.Duration, err error) error {
	if err == nil {
		return nil
	}
	switch {
	case errors.Is(err, plugin.ErrUnavailable):
		cur.p.fail(err)
		return gone(err)
	case errors.Is(err, plugin.ErrBadAnswer):
		cur.p.fail(err)
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		cur.p.fail(err)
		return &plugin.Error{Plugin: b.entry.Name, Op: op, Err: fmt.Errorf("no answer within %v; the plugin will be restarted: %w", timeout, err)}
	}
	if cur.p.client.Exited() {
		cur.p.fail(err)
	}
	return err
}

// call runs f on the current incarnation, with a timeout.
func (b *Backend) call(ctx context.Context, op string, timeout time.Duration, f func(ctx context.Context, c *plugin.BackendClient) error) error {
	cur, err := b.current(ctx)
	if err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return b.check(ctx, cur, op, timeout, f(cctx, cur.c))
}

// Info implements backend.Backend.
func (b *Backend) Info(ctx context.Context) (backend.Info, error) {
	var in backend.Info
	err := b.call(ctx, "info", b.h.cfg.CallTimeout, func(ctx context.Context, c *plugin.BackendClient) (err error) {
		in, err = c.Info(ctx)
		return err
	})
	return in, err
}

// Tokenize implements backend.Backend.
func (b *Backend) Tokenize(ctx context.Context, text string, addSpecial, parseSpecial bool) ([]int32, error) {
	var ids []int32
	err := b.call(ctx, "tokenize", b.h.cfg.CallTimeout, func(ctx context.Context, c *plugin.BackendClient) (err error) {
		ids, err = c.Tokenize(ctx, text, addSpecial, parseSpecial)
		return err
	})
	return ids, err
}

// Detokenize implements backend.Backend.
func (b *Backend) Detokenize(ctx context.Context, ids []int32) (string, error) {
	var s string
	err := b.call(ctx, "detokenize", b.h.cfg.CallTimeout, func(ctx context.Context, c *plugin.BackendClient) (err error) {
		s, err = c.Detokenize(ctx, ids)
		return err
	})
	return s, err
}

// Pieces implements backend.Backend.
func (b *Backend) Pieces(ctx context.Context, ids []int32) ([]string, error) {
	var ps []string
	err := b.call(ctx, "pieces", b.h.cfg.CallTimeout, func(ctx context.Context, c *plugin.BackendClient) (err error) {
		ps, err = c.Pieces(ctx, ids)
		return err
	})
	return ps, err
}

// maxSeqs bounds the live sequences one backend tracks.
const maxSeqs = 1 << 20

// register records a new plugin sequence and returns its host id.
func (b *Backend) register(inc uint64, remote backend.SeqID) (backend.SeqID, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.seqs) >= maxSeqs {
		return 0, fmt.Errorf("plugin %s: %d live sequences; free some first", b.entry.Name, len(b.seqs))
	}
	b.next++
	b.seqs[b.next] = seqRef{inc: inc, remote: remote}
	return b.next, nil
}

// Open implements backend.Backend.
func (b *Backend) Open(ctx context.Context) (backend.SeqID, error) {
	cur, err := b.current(ctx)
	if err != nil {
		return 0, err
	}
	cctx, cancel := context.WithTimeout(ctx, b.h.cfg.CallTimeout)
	defer cancel()
	remote, err := cur.c.Open(cctx)
	if err = b.check(ctx, cur, "open", b.h.cfg.CallTimeout, err); err != nil {
		return 0, err
	}
	return b.register(cur.inc, remote)
}

// LostError reports a sequence that lived in a plugin process that has
// since died or been restarted.
type LostError struct {
	// Plugin names the plugin.
	Plugin string
	// Seq is the host's sequence id.
	Seq backend.SeqID
	// Cause is why the process was abandoned.
	Cause error
}

// Error implements error.
func (e *LostError) Error() string {
	return fmt.Sprintf("plugin %s: sequence %d was lost when the plugin process failed: %v", e.Plugin, e.Seq, e.Cause)
}

// Unwrap returns the cause.
func (e *LostError) Unwrap() error { return e.Cause }

// resolve maps host sequence ids to the plugin's ids on the current
// incarnation, failing for sequences of a dead incarnation.
func (b *Backend) resolve(seqs ...backend.SeqID) (*backendInc, []backend.SeqID, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, nil, fmt.Errorf("plugin %s: %w", b.entry.Name, ErrClosed)
	}
	cur := b.cur
	out := make([]backend.SeqID, len(seqs))
	for i, s := range seqs {
		ref, ok := b.seqs[s]
		if !ok {
			return nil, nil, fmt.Errorf("plugin %s: unknown sequence %d", b.entry.Name, s)
		}
		if cur == nil || ref.inc != cur.inc {
			return nil, nil, &LostError{Plugin: b.entry.Name, Seq: s, Cause: errors.New("the process was restarted")}
		}
		out[i] = ref.remote
	}
	if cur == nil {
		return nil, nil, fmt.Errorf("plugin %s: not running", b.entry.Name)
	}
	if !cur.p.usable() {
		cause := cur.p.cause()
		if len(seqs) > 0 {
			return nil, nil, &LostError{Plugin: b.entry.Name, Seq: seqs[0], Cause: cause}
		}
		return nil, nil, fmt.Errorf("plugin %s: %w", b.entry.Name, cause)
	}
	return cur, out, nil
}

// Step implements backend.Backend: one RPC for the whole batch.
func (b *Backend) Step(ctx context.Context, in []backend.StepInput) ([]backend.StepOutput, error) {
	ids := make([]backend.SeqID, len(in))
	for i := range in {
		ids[i] = in[i].Seq
	}
	cur, remote, err := b.resolve(ids...)
	if err != nil {
		return nil, err
	}
	rin := make([]backend.StepInput, len(in))
	for i, x := range in {
		x.Seq = remote[i]
		rin[i] = x
	}
	cctx, cancel := context.WithTimeout(ctx, b.h.cfg.StepTimeout)
	defer cancel()
	out, err := cur.c.Step(cctx, rin)
	if err = b.check(ctx, cur, "step", b.h.cfg.StepTimeout, err); err != nil {
		return nil, err
	}
	return out, nil
}

// Fork implements backend.Backend.
func (b *Backend) Fork(ctx context.Context, seq backend.SeqID) (backend.SeqID, error) {
	cur, remote, err := b.resolve(seq)
	if err != nil {
		return 0, err
	}
	cctx, cancel := context.WithTimeout(ctx, b.h.cfg.CallTimeout)
	defer cancel()
	r, err := cur.c.Fork(cctx, remote[0])
	if err = b.check(ctx, cur, "fork", b.h.cfg.CallTimeout, err); err != nil {
		return 0, err
	}
	return b.register(cur.inc, r)
}

// Truncate implements backend.Backend.
func (b *Backend) Truncate(ctx context.Context, seq backend.SeqID, n int) error {
	cur, remote, err := b.resolve(seq)
	if err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, b.h.cfg.CallTimeout)
	defer cancel()
	return b.check(ctx, cur, "truncate", b.h.cfg.CallTimeout, cur.c.Truncate(cctx, remote[0], n))
}

// Free implements backend.Backend. Freeing a sequence whose process died
// succeeds: the sequence is gone with it.
func (b *Backend) Free(ctx context.Context, seq backend.SeqID) error {
	b.mu.Lock()
	ref, ok := b.seqs[seq]
	cur := b.cur
	closed := b.closed
	if ok {
		delete(b.seqs, seq)
	}
	b.mu.Unlock()
	if closed {
		return nil
	}
	if !ok {
		return fmt.Errorf("plugin %s: unknown sequence %d", b.entry.Name, seq)
	}
	if cur == nil || ref.inc != cur.inc || !cur.p.usable() {
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, b.h.cfg.CallTimeout)
	defer cancel()
	err := b.check(ctx, cur, "free", b.h.cfg.CallTimeout, cur.c.Free(cctx, ref.remote))
	if errors.Is(err, plugin.ErrUnavailable) {
		return nil
	}
	return err
}

// Close releases the model and stops the process.
func (b *Backend) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	cur := b.cur
	b.cur = nil
	b.seqs = nil
	b.mu.Unlock()
	if cur == nil {
		return nil
	}
	var err error
	if cur.p.usable() {
		ctx, cancel := context.WithTimeout(context.Background(), b.h.cfg.CallTimeout)
		err = cur.c.CloseContext(ctx)
		cancel()
	}
	b.h.release(cur.p)
	return err
}

// gone notes on a lost-process error that the plugin will be restarted.
func gone(err error) error {
	var pe *plugin.Error
	if errors.As(err, &pe) {
		c := *pe
		c.Err = fmt.Errorf("%w (the plugin process is gone; it will be restarted for new work)", pe.Err)
		return &c
	}
	return err
}
