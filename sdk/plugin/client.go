package plugin

import (
	"context"
	"fmt"
	"math"
	"os"
	"sync/atomic"

	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/core/dist"
	"github.com/baco-go/baco/core/route"
	pb "github.com/baco-go/baco/sdk/proto/pluginv1"
)

// Error is an error from a call to a plugin: it names the plugin and the
// operation. Unwrap gives the cause (ErrUnavailable for a lost process,
// ErrBadAnswer for a protocol violation, a context error, or the plugin's
// own message).
type Error struct {
	// Plugin names the plugin, e.g. "gguf".
	Plugin string
	// Op is the operation, e.g. "step".
	Op string
	// Err is the cause.
	Err error
}

// Error implements error.
func (e *Error) Error() string { return fmt.Sprintf("plugin %s: %s: %v", e.Plugin, e.Op, e.Err) }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// badAnswer builds an ErrBadAnswer error.
func badAnswer(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadAnswer, fmt.Sprintf(format, args...))
}

// BackendClient is a backend.Backend served by a plugin process: each
// method is one RPC, and Step carries the whole batch. It validates every
// answer (counts, id ranges, distribution sizes) so a misbehaving plugin
// produces an error, never a panic in the host.
type BackendClient struct {
	name  string
	c     pb.BackendClient
	vocab atomic.Int64 // from Info, 0 until known
	noShm bool
	shm   *arena // shared memory the plugin mapped, nil when none
}

var _ backend.Backend = (*BackendClient)(nil)

// ClientOpt configures a BackendClient.
type ClientOpt func(*BackendClient)

// WithoutSharedMemory makes every full distribution travel inline over
// gRPC (for comparison and debugging; shared memory is used by default
// where the platform and the plugin support it).
func WithoutSharedMemory() ClientOpt { return func(b *BackendClient) { b.noShm = true } }

// Backend returns a client for the Backend service of the connection;
// name is used in error messages.
func (c *Conn) Backend(name string, opts ...ClientOpt) *BackendClient {
	b := &BackendClient{name: name, c: pb.NewBackendClient(c.cc)}
	for _, o := range opts {
		o(b)
	}
	return b
}

func (b *BackendClient) err(ctx context.Context, op string, err error) error {
	return &Error{Plugin: b.name, Op: op, Err: rpcError(ctx, err)}
}

func (b *BackendClient) bad(op string, err error) error {
	return &Error{Plugin: b.name, Op: op, Err: err}
}

// Configure sends the parameter string (once, before any other call) and
// offers the plugin shared memory for full distributions.
func (b *BackendClient) Configure(ctx context.Context, params string) error {
	req := &pb.ConfigureRequest{Params: params}
	var a *arena
	if !b.noShm {
		var path string
		var err error
		if a, path, err = createArena(shmSlots, shmSlotSize); err == nil {
			req.ShmPath, req.ShmSlots, req.ShmSlotSize = path, shmSlots, shmSlotSize
			defer os.Remove(path) // both sides have mapped it (or never will)
		}
	}
	resp, err := b.c.Configure(ctx, req)
	if err != nil || !resp.Shm {
		if a != nil {
			_ = a.close()
		}
		if err != nil {
			return b.err(ctx, "configure", err)
		}
		return nil
	}
	b.shm = a
	return nil
}

// SharedMemory reports whether full distributions travel through shared
// memory.
func (b *BackendClient) SharedMemory() bool { return b.shm != nil }

// Release frees the client's own resources (its shared memory) without
// calling the plugin; it waits for calls using them. The client must not
// be used afterwards. Close calls it.
func (b *BackendClient) Release() {
	if b.shm != nil {
		_ = b.shm.close()
	}
}

// Info implements backend.Backend.
func (b *BackendClient) Info(ctx context.Context) (backend.Info, error) {
	r, err := b.c.Info(ctx, &pb.InfoRequest{})
	if err != nil {
		return backend.Info{}, b.err(ctx, "info", err)
	}
	in, err := infoFromProto(r)
	if err != nil {
		return backend.Info{}, b.bad("info", fmt.Errorf("%w: %v", ErrBadAnswer, err))
	}
	b.vocab.Store(int64(in.VocabSize))
	return in, nil
}

func (b *BackendClient) checkIDs(op string, ids []int32) error {
	v := b.vocab.Load()
	for i, id := range ids {
		if id < 0 || (v > 0 && int64(id) >= v) {
			return b.bad(op, badAnswer("token %d at index %d outside the vocabulary of %d", id, i, v))
		}
	}
	return nil
}

// Tokenize implements backend.Backend.
func (b *BackendClient) Tokenize(ctx context.Context, text string, addSpecial, parseSpecial bool) ([]int32, error) {
	r, err := b.c.Tokenize(ctx, &pb.TokenizeRequest{Text: text, AddSpecial: addSpecial, ParseSpecial: parseSpecial})
	if err != nil {
		return nil, b.err(ctx, "tokenize", err)
	}
	if err := b.checkIDs("tokenize", r.Ids); err != nil {
		return nil, err
	}
	return r.Ids, nil
}

// Detokenize implements backend.Backend.
func (b *BackendClient) Detokenize(ctx context.Context, ids []int32) (string, error) {
	r, err := b.c.Detokenize(ctx, &pb.DetokenizeRequest{Ids: ids})
	if err != nil {
		return "", b.err(ctx, "detokenize", err)
	}
	return r.Text, nil
}

// Pieces implements backend.Backend.
func (b *BackendClient) Pieces(ctx context.Context, ids []int32) ([]string, error) {
	r, err := b.c.Pieces(ctx, &pb.PiecesRequest{Ids: ids})
	if err != nil {
		return nil, b.err(ctx, "pieces", err)
	}
	if len(r.Pieces) != len(ids) {
		return nil, b.bad("pieces", badAnswer("%d pieces for %d ids", len(r.Pieces), len(ids)))
	}
	return r.Pieces, nil
}

// Open implements backend.Backend.
func (b *BackendClient) Open(ctx context.Context) (backend.SeqID, error) {
	r, err := b.c.Open(ctx, &pb.OpenRequest{})
	if err != nil {
		return 0, b.err(ctx, "open", err)
	}
	return backend.SeqID(r.Seq), nil
}

// Step implements backend.Backend: one RPC for the whole batch.
func (b *BackendClient) Step(ctx context.Context, in []backend.StepInput) ([]backend.StepOutput, error) {
	req := &pb.StepRequest{Inputs: make([]*pb.StepInput, len(in))}
	for i, x := range in {
		req.Inputs[i] = &pb.StepInput{Seq: uint64(x.Seq), Tokens: x.Tokens, TopK: clampInt32(x.TopK), AllPositions: x.AllPositions}
	}
	var slot []byte
	if b.shm != nil {
		if s, ok := b.shm.acquire(); ok {
			req.UseShm, req.ShmSlot = true, uint32(s)
			slot = b.shm.slot(s)
			defer func() {
				if slot != nil {
					b.shm.release(s)
				} else {
					b.shm.poison(s) // the plugin may still write to it
				}
			}()
		}
	}
	r, err := b.c.Step(ctx, req)
	if err != nil {
		slot = nil
		return nil, b.err(ctx, "step", err)
	}
	if len(r.Outputs) != len(in) {
		return nil, b.bad("step", badAnswer("%d outputs for %d inputs", len(r.Outputs), len(in)))
	}
	vocab := int(b.vocab.Load())
	out := make([]backend.StepOutput, len(in))
	for i, o := range r.Outputs {
		want := 1
		if in[i].AllPositions && len(in[i].Tokens) > 0 {
			want = len(in[i].Tokens)
		}
		if o == nil || len(o.Dists) != want {
			got := 0
			if o != nil {
				got = len(o.Dists)
			}
			return nil, b.bad("step", badAnswer("sequence %d: %d distributions, want %d", in[i].Seq, got, want))
		}
		out[i].Dists = make([]dist.Dist, want)
		for j, m := range o.Dists {
			d, err := distFromProto(m, vocab, slot)
			if err != nil {
				return nil, b.bad("step", fmt.Errorf("%w: sequence %d: %v", ErrBadAnswer, in[i].Seq, err))
			}
			out[i].Dists[j] = d
		}
	}
	return out, nil
}

// Fork implements backend.Backend.
func (b *BackendClient) Fork(ctx context.Context, seq backend.SeqID) (backend.SeqID, error) {
	r, err := b.c.Fork(ctx, &pb.ForkRequest{Seq: uint64(seq)})
	if err != nil {
		return 0, b.err(ctx, "fork", err)
	}
	return backend.SeqID(r.Seq), nil
}

// Truncate implements backend.Backend.
func (b *BackendClient) Truncate(ctx context.Context, seq backend.SeqID, n int) error {
	if _, err := b.c.Truncate(ctx, &pb.TruncateRequest{Seq: uint64(seq), N: int64(n)}); err != nil {
		return b.err(ctx, "truncate", err)
	}
	return nil
}

// Free implements backend.Backend.
func (b *BackendClient) Free(ctx context.Context, seq backend.SeqID) error {
	if _, err := b.c.Free(ctx, &pb.FreeRequest{Seq: uint64(seq)}); err != nil {
		return b.err(ctx, "free", err)
	}
	return nil
}

// Close asks the plugin to release its model. It does not stop the
// process; the host does that.
func (b *BackendClient) Close() error {
	return b.CloseContext(context.Background())
}

// CloseContext is Close with a context.
func (b *BackendClient) CloseContext(ctx context.Context) error {
	_, err := b.c.Close(ctx, &pb.CloseRequest{})
	b.Release()
	if err != nil {
		return b.err(ctx, "close", err)
	}
	return nil
}

// RouterClient is a route.Router instance served by a plugin process.
type RouterClient struct {
	plugin string
	c      pb.RouterClient
	handle uint64
	name   string
	needs  route.Needs
	full   bool
}

var _ route.Router = (*RouterClient)(nil)

// OpenRouter opens a router instance from a parameter string; plugin is the
// plugin's name for error messages.
func (c *Conn) OpenRouter(ctx context.Context, plugin, params string) (*RouterClient, error) {
	rc := pb.NewRouterClient(c.cc)
	r, err := rc.OpenRouter(ctx, &pb.OpenRouterRequest{Params: params})
	if err != nil {
		return nil, &Error{Plugin: plugin, Op: "open router", Err: rpcError(ctx, err)}
	}
	if r.Name == "" {
		return nil, &Error{Plugin: plugin, Op: "open router", Err: badAnswer("router instance has no name")}
	}
	return &RouterClient{
		plugin: plugin, c: rc, handle: r.Handle, name: r.Name,
		needs: route.Needs{Base: r.NeedsBase, Aligned: r.NeedsAligned}, full: r.WantsFull,
	}, nil
}

// Name implements route.Router: the instance's name with its parameters.
func (r *RouterClient) Name() string { return r.name }

// Needs implements route.Router.
func (r *RouterClient) Needs() route.Needs { return r.needs }

// ReadsFullDist reports whether the plugin asked for full distributions.
func (r *RouterClient) ReadsFullDist() bool { return r.full }

// Decide implements route.Router: one RPC for the whole batch.
func (r *RouterClient) Decide(ctx context.Context, views []route.View, out []route.Decision) error {
	if len(out) != len(views) {
		return fmt.Errorf("router %s: %d decisions for %d views", r.name, len(out), len(views))
	}
	req := &pb.DecideRequest{Handle: r.handle, Views: make([]*pb.View, len(views))}
	for i := range views {
		req.Views[i] = viewToProto(&views[i], r.full)
	}
	resp, err := r.c.Decide(ctx, req)
	if err != nil {
		return &Error{Plugin: r.plugin, Op: "decide", Err: rpcError(ctx, err)}
	}
	if len(resp.Weights) != len(views) {
		return &Error{Plugin: r.plugin, Op: "decide", Err: badAnswer("%d weights for %d views", len(resp.Weights), len(views))}
	}
	for i, w := range resp.Weights {
		if math.IsNaN(w) || w < 0 || w > 1 {
			return &Error{Plugin: r.plugin, Op: "decide", Err: badAnswer("weight %v for view %d is outside [0,1]", w, i)}
		}
		out[i] = route.Decision{Weight: w}
	}
	return nil
}

// Close releases the instance in the plugin.
func (r *RouterClient) Close(ctx context.Context) error {
	if _, err := r.c.CloseRouter(ctx, &pb.CloseRouterRequest{Handle: r.handle}); err != nil {
		return &Error{Plugin: r.plugin, Op: "close router", Err: rpcError(ctx, err)}
	}
	return nil
}
