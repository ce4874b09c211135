// Package backendtest provides an in-memory Backend for unit tests of the
// decode loop, routers and servers: a tiny vocabulary whose next-token
// logits are a deterministic function of the context. It records every Step
// so tests can check exactly which tokens each model received. It is a test
// double; no feature's acceptance rests on it.
package backendtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/core/dist"
)

// LogitsFunc returns the next-token logits after ctx (the whole sequence).
type LogitsFunc func(ctx []int32) []float32

// Call is one sequence's part of a recorded Step.
type Call struct {
	// Seq is the sequence stepped.
	Seq backend.SeqID
	// Tokens are the tokens appended.
	Tokens []int32
}

// Fake is an in-memory backend.
type Fake struct {
	// Name is reported by Info.
	Name string
	// Vocabulary is the list of raw pieces (SentencePiece style by default).
	Vocabulary []string
	// Style is the tokenizer style reported by Info ("spm" by default).
	Style string
	// BOS and EOS ids.
	BOS, EOS int32
	// ContextLen is reported by Info (0: unlimited).
	ContextLen int
	// Logits computes next-token logits from the context.
	Logits LogitsFunc
	// BeforeStep, when set, runs at the start of every Step (tests use it to
	// block or fail a step).
	BeforeStep func(ctx context.Context) error

	mu    sync.Mutex
	seqs  map[backend.SeqID][]int32
	next  backend.SeqID
	calls [][]Call
	freed int
}

// Vocab is a small SentencePiece-style vocabulary used by the tests: control
// tokens, punctuation, function words and content words.
func Vocab() []string {
	return []string{
		"<unk>", "<s>", "</s>", // 0 1 2
		"▁the", "▁a", "▁of", "▁and", // 3-6 function words
		"▁cat", "▁dog", "▁sat", "▁ran", "▁home", // 7-11 content
		".", ",", "!", "<0x0A>", // 12-15 punct, newline
		"ing", "s", "ed", // 16-18 word continuations
		"▁big", "▁small", "▁42", // 19-21
	}
}

// New returns a Fake over Vocab() whose logits come from logits.
func New(name string, logits LogitsFunc) *Fake {
	return &Fake{Name: name, Vocabulary: Vocab(), Style: "spm", BOS: 1, EOS: 2, Logits: logits}
}

// HashLogits is a LogitsFunc that derives pseudo-random but deterministic
// logits from the context and a salt (two salts give two different models).
func HashLogits(vocab int, salt string) LogitsFunc {
	return func(ctx []int32) []float32 {
		h := sha256.New()
		h.Write([]byte(salt))
		for _, t := range ctx {
			h.Write([]byte{byte(t), byte(t >> 8), byte(t >> 16), byte(t >> 24)})
		}
		sum := h.Sum(nil)
		out := make([]float32, vocab)
		for i := range out {
			out[i] = float32(sum[i%len(sum)]^byte(i*7)) / 32
		}
		return out
	}
}

// Info implements backend.Backend.
func (f *Fake) Info(context.Context) (backend.Info, error) {
	h := sha256.New()
	for _, p := range f.Vocabulary {
		fmt.Fprintf(h, "%d:%s", len(p), p)
	}
	return backend.Info{
		Name: f.Name, Arch: "fake", VocabSize: len(f.Vocabulary), Fingerprint: hex.EncodeToString(h.Sum(nil)),
		BOS: f.BOS, EOS: f.EOS, StopIDs: []int32{f.EOS}, AddBOS: true, ContextLen: f.ContextLen,
		Tokenizer: f.Style, ControlIDs: []int32{0, f.BOS, f.EOS},
		Caps: backend.Caps{FullDist: true, AllPositions: true, TokenPrompts: true},
	}, nil
}

// Tokenize splits on spaces and looks words up as "▁word" pieces.
func (f *Fake) Tokenize(_ context.Context, text string, addSpecial, _ bool) ([]int32, error) {
	var ids []int32
	if addSpecial {
		ids = append(ids, f.BOS)
	}
	for _, w := range strings.Fields(text) {
		i := slices.Index(f.Vocabulary, "▁"+w)
		if i < 0 {
			return nil, fmt.Errorf("fake tokenizer: unknown word %q", w)
		}
		ids = append(ids, int32(i))
	}
	return ids, nil
}

// Detokenize joins pieces, ▁ as spaces.
func (f *Fake) Detokenize(ctx context.Context, ids []int32) (string, error) {
	ps, err := f.pieces(ids)
	if err != nil {
		return "", err
	}
	return strings.ReplaceAll(strings.Join(ps, ""), "▁", " "), nil
}

// Pieces implements backend.Backend.
func (f *Fake) Pieces(_ context.Context, ids []int32) ([]string, error) { return f.pieces(ids) }

// pieces is Pieces without a context.
func (f *Fake) pieces(ids []int32) ([]string, error) {
	out := make([]string, len(ids))
	for i, id := range ids {
		if id < 0 || int(id) >= len(f.Vocabulary) {
			return nil, fmt.Errorf("fake: token %d out of range", id)
		}
		out[i] = f.Vocabulary[id]
	}
	return out, nil
}

// Open implements backend.Backend.
func (f *Fake) Open(context.Context) (backend.SeqID, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.seqs == nil {
		f.seqs = map[backend.SeqID][]int32{}
	}
	f.next++
	f.seqs[f.next] = nil
	return f.next, nil
}

// Step implements backend.Backend and records the call.
func (f *Fake) Step(ctx context.Context, in []backend.StepInput) ([]backend.StepOutput, error) {
	if f.BeforeStep != nil {
		if err := f.BeforeStep(ctx); err != nil {
			return nil, err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	rec := make([]Call, len(in))
	out := make([]backend.StepOutput, len(in))
	for i, x := range in {
		s, ok := f.seqs[x.Seq]
		if !ok {
			return nil, fmt.Errorf("fake: unknown sequence %d", x.Seq)
		}
		rec[i] = Call{Seq: x.Seq, Tokens: slices.Clone(x.Tokens)}
		if len(x.Tokens) == 0 && len(s) == 0 {
			return nil, fmt.Errorf("fake: empty step on empty sequence %d", x.Seq)
		}
		for j, t := range x.Tokens {
			s = append(s, t)
			if x.AllPositions || j == len(x.Tokens)-1 {
				d := dist.FromLogits(f.Logits(s), x.TopK)
				out[i].Dists = append(out[i].Dists, d)
			}
		}
		if len(x.Tokens) == 0 {
			out[i].Dists = append(out[i].Dists, dist.FromLogits(f.Logits(s), x.TopK))
		}
		if f.ContextLen > 0 && len(s) > f.ContextLen {
			return nil, fmt.Errorf("fake: sequence %d exceeds the context of %d", x.Seq, f.ContextLen)
		}
		f.seqs[x.Seq] = s
	}
	f.calls = append(f.calls, rec)
	return out, nil
}

// Fork implements backend.Backend.
func (f *Fake) Fork(_ context.Context, seq backend.SeqID) (backend.SeqID, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.seqs[seq]
	if !ok {
		return 0, fmt.Errorf("fake: unknown sequence %d", seq)
	}
	f.next++
	f.seqs[f.next] = slices.Clone(s)
	return f.next, nil
}

// Truncate implements backend.Backend.
func (f *Fake) Truncate(_ context.Context, seq backend.SeqID, n int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.seqs[seq]
	if !ok || n < 0 || n > len(s) {
		return fmt.Errorf("fake: bad truncate of %d to %d", seq, n)
	}
	f.seqs[seq] = s[:n]
	return nil
}

// Free implements backend.Backend.
func (f *Fake) Free(_ context.Context, seq backend.SeqID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.seqs[seq]; !ok {
		return fmt.Errorf("fake: unknown sequence %d", seq)
	}
	delete(f.seqs, seq)
	f.freed++
	return nil
}

// Close implements backend.Backend.
func (f *Fake) Close() error { return nil }

// Calls returns every recorded Step, oldest first.
func (f *Fake) Calls() [][]Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// Tokens returns the full token sequence of seq.
func (f *Fake) Tokens(seq backend.SeqID) []int32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.seqs[seq])
}

// Live counts sequences not freed.
func (f *Fake) Live() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.seqs)
}
