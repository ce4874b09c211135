// Package engine is the embedded GGUF inference engine behind the "gguf"
// backend: it memory-maps a GGUF file, builds its tokenizer and
// llama-family model, and implements backend.Backend over them in process.
//
// Every Step runs all of its sequences and all of their new tokens in one
// forward pass over the weights, and returns the full-vocabulary
// distribution (exact log-softmax and entropy) for each.
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/core/dist"
	"github.com/baco-go/baco/engine/gguf"
	"github.com/baco-go/baco/engine/llama"
	"github.com/baco-go/baco/engine/tensor"
	"github.com/baco-go/baco/engine/tokenizer"
)

// DefaultTopK is how many candidates Dist.Top holds when a StepInput asks
// for TopK 0.
const DefaultTopK = 40

// ErrClosed is returned by calls on a closed Engine.
var ErrClosed = errors.New("engine: closed")

// ErrUnknownSeq is wrapped by errors about a sequence id the engine does not
// hold (never opened, or freed).
var ErrUnknownSeq = errors.New("unknown sequence")

// Option configures Load.
type Option func(*options)

type options struct {
	threads    int
	contextLen int
	logger     *slog.Logger
	pool       *tensor.Pool
}

// WithThreads sets the number of worker threads of the engine's pool
// (default: runtime.NumCPU()).
func WithThreads(n int) Option { return func(o *options) { o.threads = n } }

// WithPool runs the engine on an existing worker pool instead of its own
// (WithThreads is then ignored), e.g. one pool sized to the cores shared by
// the base and aligned engines so that their concurrent steps do not
// oversubscribe the machine. The engine does not close a pool it was given.
func WithPool(p *tensor.Pool) Option { return func(o *options) { o.pool = p } }

// WithContextLen overrides the context length from the file's metadata
// (e.g. stories260K's metadata says 128 but the model was trained with
// 512). n must be positive.
func WithContextLen(n int) Option { return func(o *options) { o.contextLen = n } }

// WithLogger sets the logger for load-time information (default
// slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// Engine is one loaded GGUF model; it implements backend.Backend. It is safe
// for concurrent use: the forward pass and every sequence operation are
// serialised by one mutex (run two Engines to run two models concurrently).
type Engine struct {
	file  *gguf.File
	tok   *tokenizer.Tokenizer
	model *llama.Model
	pool  *tensor.Pool
	owned bool // the engine created pool and closes it
	info  backend.Info
	vocab int
	// release, when set, frees what file's tensors point into (LoadHF's
	// safetensors mappings); Close calls it after closing file.
	release func() error

	mu     sync.Mutex
	closed bool
	seqs   map[backend.SeqID]*sequence
	nextID backend.SeqID

	// Step scratch, reused under mu.
	batches []llama.Batch
	outs    [][]float32
	idx     []int // batches[i] serves in[idx[i]]
}

// sequence is one open sequence: its cache, the tokens it holds, and the
// logits after its last token. After a Truncate the last kept token is
// pending: its logits are unknown, so it is left out of the cache and run
// again with the next Step (cache.Len() == len(tokens) - pending).
type sequence struct {
	cache   *llama.Cache
	tokens  []int32
	pending int       // 0 or 1
	last    []float32 // nil when unknown
}

var _ backend.Backend = (*Engine)(nil)

// Load opens the GGUF file at path (memory-mapped; weights stay in their
// stored type) and builds its tokenizer and model.
func Load(path string, opts ...Option) (*Engine, error) {
	o := options{threads: runtime.NumCPU(), logger: slog.Default()}
	for _, opt := range opts {
		opt(&o)
	}
	if o.threads < 1 {
		return nil, fmt.Errorf("engine: load %s: %d threads, want at least 1", path, o.threads)
	}
	if o.contextLen < 0 {
		return nil, fmt.Errorf("engine: load %s: context length %d, want positive", path, o.contextLen)
	}
	f, err := gguf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("engine: load %s: %w", path, err)
	}
	e, err := newEngine(f, path, o)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("engine: load %s: %w", path, err)
	}
	return e, nil
}

func newEngine(f *gguf.File, path string, o options) (*Engine, error) {
	tok, err := tokenizer.FromGGUF(f)
	if err != nil {
		return nil, err
	}
	cfg, err := llama.ConfigFromGGUF(f)
	if err != nil {
		return nil, err
	}
	if o.contextLen > 0 {
		cfg.ContextLen = o.contextLen
	}
	if tok.VocabSize() > cfg.VocabSize {
		return nil, fmt.Errorf("tokenizer has %d tokens but token_embd.weight only %d rows", tok.VocabSize(), cfg.VocabSize)
	}
	pool, owned := o.pool, false
	if pool == nil {
		pool, owned = tensor.NewPool(o.threads), true
	}
	model, err := llama.LoadConfig(f, cfg, pool)
	if err != nil {
		if owned {
			pool.Close()
		}
		return nil, err
	}
	e := &Engine{file: f, tok: tok, model: model, pool: pool, owned: owned, vocab: cfg.VocabSize,
		seqs: make(map[backend.SeqID]*sequence), nextID: 1}
	e.info = backend.Info{
		Name:        filepath.Base(path),
		Arch:        cfg.Arch,
		VocabSize:   cfg.VocabSize,
		Fingerprint: tok.Fingerprint(),
		BOS:         tok.BOS(),
		EOS:         tok.EOS(),
		StopIDs:     stopIDs(tok),
		AddBOS:      tok.AddBOS(),
		ContextLen:  cfg.ContextLen,
		ControlIDs:  tok.ControlIDs(),
		Caps:        backend.Caps{FullDist: true, TokenPrompts: true, AllPositions: true},
	}
	if s := tok.Style(); s == "spm" || s == "bpe" {
		e.info.Tokenizer = s
	}
	e.info.ChatTemplate, _ = f.String("tokenizer.chat_template")
	o.logger.Info("engine: model loaded", "file", e.info.Name, "arch", cfg.Arch,
		"layers", cfg.Layers, "dim", cfg.Dim, "heads", cfg.Heads, "kv_heads", cfg.KVHeads,
		"vocab", cfg.VocabSize, "context", cfg.ContextLen, "type", weightType(f), "threads", pool.Workers())
	return e, nil
}

// stopIDs is every end-of-generation id: the tokenizer's list (EOS, EOT,
// EOM and the end-of-turn texts llama.cpp recognises), plus EOS, EOT and EOM
// themselves.
func stopIDs(tok *tokenizer.Tokenizer) []int32 {
	ids := tok.StopIDs()
	for _, id := range []int32{tok.EOS(), tok.EOT(), tok.EOM()} {
		if id < 0 {
			continue
		}
		found := false
		for _, s := range ids {
			found = found || s == id
		}
		if !found {
			ids = append(ids, id)
		}
	}
	return ids
}

// weightType names the storage type of the first layer's q projection, for
// logging.
func weightType(f *gguf.File) string {
	if t, ok := f.Tensor("blk.0.attn_q.weight"); ok {
		return t.Type.String()
	}
	return "?"
}

// Model returns the underlying model (for benchmarks and tools).
func (e *Engine) Model() *llama.Model { return e.model }

// Tokenizer returns the engine's tokenizer.
func (e *Engine) Tokenizer() *tokenizer.Tokenizer { return e.tok }

// Info describes the model.
func (e *Engine) Info(ctx context.Context) (backend.Info, error) {
	info := e.info
	info.StopIDs = append([]int32(nil), info.StopIDs...)
	info.ControlIDs = append([]int32(nil), info.ControlIDs...)
	return info, nil
}

// Tokenize turns text into ids as llama.cpp does for this vocabulary.
func (e *Engine) Tokenize(ctx context.Context, text string, addSpecial, parseSpecial bool) ([]int32, error) {
	return e.tok.Encode(text, addSpecial, parseSpecial), nil
}

// Detokenize turns ids back into text; ids outside the vocabulary are an
// error naming the first one.
func (e *Engine) Detokenize(ctx context.Context, ids []int32) (string, error) {
	if err := e.checkIDs(ids); err != nil {
		return "", err
	}
	return e.tok.Decode(ids), nil
}

// Pieces returns the raw vocabulary piece of each id (e.g. "▁the").
func (e *Engine) Pieces(ctx context.Context, ids []int32) ([]string, error) {
	if err := e.checkIDs(ids); err != nil {
		return nil, err
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = e.tok.Piece(id)
	}
	return out, nil
}

func (e *Engine) checkIDs(ids []int32) error {
	n := e.tok.VocabSize()
	for i, id := range ids {
		if id < 0 || int(id) >= n {
			return fmt.Errorf("engine: token %d: id %d outside the vocabulary [0, %d)", i, id, n)
		}
	}
	return nil
}

// Open creates an empty sequence.
func (e *Engine) Open(ctx context.Context) (backend.SeqID, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return 0, ErrClosed
	}
	id := e.nextID
	e.nextID++
	e.seqs[id] = &sequence{cache: e.model.NewCache()}
	return id, nil
}

// seq returns the open sequence id; callers hold mu.
func (e *Engine) seq(id backend.SeqID) (*sequence, error) {
	if e.closed {
		return nil, ErrClosed
	}
	s, ok := e.seqs[id]
	if !ok {
		return nil, fmt.Errorf("engine: seq %d: %w", id, ErrUnknownSeq)
	}
	return s, nil
}

// Fork copies a sequence (cache, tokens, last distribution) into a new one.
func (e *Engine) Fork(ctx context.Context, id backend.SeqID) (backend.SeqID, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s, err := e.seq(id)
	if err != nil {
		return 0, err
	}
	n := e.nextID
	e.nextID++
	f := &sequence{cache: s.cache.Fork(), tokens: append([]int32(nil), s.tokens...), pending: s.pending}
	if s.last != nil {
		f.last = append([]float32(nil), s.last...)
	}
	e.seqs[n] = f
	return n, nil
}

// Truncate drops every token of the sequence from position n on.
func (e *Engine) Truncate(ctx context.Context, id backend.SeqID, n int) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	s, err := e.seq(id)
	if err != nil {
		return err
	}
	if n < 0 || n > len(s.tokens) {
		return fmt.Errorf("engine: truncate seq %d to %d tokens: it holds %d", id, n, len(s.tokens))
	}
	if n == len(s.tokens) {
		return nil
	}
	// Keep the cache up to n-1 and the n-th token pending, so the next Step
	// recomputes the distribution after it.
	keep := max(n-1, 0)
	if err := s.cache.Truncate(keep); err != nil {
		return fmt.Errorf("engine: truncate seq %d: %w", id, err)
	}
	s.tokens = s.tokens[:n]
	s.pending = n - keep
	s.last = nil
	return nil
}

// Free releases a sequence.
func (e *Engine) Free(ctx context.Context, id backend.SeqID) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, err := e.seq(id); err != nil {
		return err
	}
	delete(e.seqs, id)
	return nil
}

// Close releases every sequence, the worker pool and the file mapping.
// Later calls return ErrClosed.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	e.seqs = nil
	if e.owned {
		e.pool.Close()
	}
	err := e.file.Close()
	if e.release != nil {
		if rerr := e.release(); err == nil {
			err = rerr
		}
	}
	return err
}

// Step appends each input's tokens to its sequence, all sequences in one
// forward pass, and returns each input's distribution(s): after its last
// token, or after each of its tokens with AllPositions. An input with no
// tokens re-reads the distribution after the sequence's last token (the
// sequence must hold at least one). Inputs are validated before anything
// runs: an unknown or repeated sequence, a token outside the vocabulary or
// a context overflow fails the whole call and changes no sequence.
func (e *Engine) Step(ctx context.Context, in []backend.StepInput) ([]backend.StepOutput, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("engine: step: %w", err)
	}
	seqs := make([]*sequence, len(in))
	ctxLen := e.model.Config().ContextLen
	for i, x := range in {
		s, err := e.seq(x.Seq)
		if err != nil {
			return nil, fmt.Errorf("engine: step input %d: %w", i, err)
		}
		for j := range i {
			if in[j].Seq == x.Seq {
				return nil, fmt.Errorf("engine: step inputs %d and %d both extend seq %d", j, i, x.Seq)
			}
		}
		if x.TopK < 0 {
			return nil, fmt.Errorf("engine: step seq %d: negative TopK %d", x.Seq, x.TopK)
		}
		if len(x.Tokens) == 0 && len(s.tokens) == 0 {
			return nil, fmt.Errorf("engine: step seq %d: no tokens to append to an empty sequence", x.Seq)
		}
		for j, t := range x.Tokens {
			if t < 0 || int(t) >= e.vocab {
				return nil, fmt.Errorf("engine: step seq %d token %d: id %d outside the vocabulary [0, %d)", x.Seq, j, t, e.vocab)
			}
		}
		if n := len(s.tokens) + len(x.Tokens); n > ctxLen {
			return nil, fmt.Errorf("engine: step seq %d: %d held + %d new tokens exceed the context length %d: %w",
				x.Seq, len(s.tokens), len(x.Tokens), ctxLen, llama.ErrContextOverflow)
		}
		seqs[i] = s
	}

	// One batch per input that has tokens to run: its new tokens, after
	// the pending token of a truncated sequence.
	e.batches, e.idx = e.batches[:0], e.idx[:0]
	for i, x := range in {
		s := seqs[i]
		if len(x.Tokens) == 0 && s.pending == 0 {
			continue // re-read of a known distribution
		}
		toks := x.Tokens
		if s.pending > 0 {
			toks = append(append(make([]int32, 0, 1+len(toks)), s.tokens[len(s.tokens)-1]), toks...)
		}
		e.batches = append(e.batches, llama.Batch{Cache: s.cache, Tokens: toks, AllLogits: x.AllPositions})
		e.idx = append(e.idx, i)
	}
	if cap(e.outs) < len(e.batches) {
		e.outs = make([][]float32, len(e.batches))
	}
	e.outs = e.outs[:len(e.batches)]
	if len(e.batches) > 0 {
		// Forward validates everything before it changes a cache, and rolls
		// back on cancellation, so an error leaves every sequence as it was.
		if err := e.model.Forward(ctx, e.batches, e.outs); err != nil {
			return nil, fmt.Errorf("engine: step: %w", err)
		}
	}
	V := e.vocab
	res := make([]backend.StepOutput, len(in))
	for k, i := range e.idx {
		s, x := seqs[i], in[i]
		out := e.outs[k]
		s.last = append(s.last[:0], out[len(out)-V:]...)
		s.tokens = append(s.tokens, x.Tokens...)
		pend := s.pending
		s.pending = 0
		if x.AllPositions && len(x.Tokens) > 0 {
			ds := make([]dist.Dist, len(x.Tokens))
			for j := range ds {
				r := pend + j
				ds[j] = e.dist(out[r*V:(r+1)*V], topK(x.TopK))
			}
			res[i].Dists = ds
		}
	}
	for i, x := range in {
		if res[i].Dists == nil {
			res[i].Dists = []dist.Dist{e.dist(seqs[i].last, topK(x.TopK))}
		}
	}
	return res, nil
}

func topK(k int) int {
	if k == 0 {
		return DefaultTopK
	}
	return k
}

// dist builds the distribution of logits with the k best candidates'
// pieces filled in.
func (e *Engine) dist(logits []float32, k int) dist.Dist {
	d := dist.FromLogits(logits, k)
	for i := range d.Top {
		d.Top[i].Piece = e.tok.Piece(d.Top[i].ID)
	}
	return d
}
