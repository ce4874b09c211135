package engine

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/core/dist"
	"github.com/baco-go/baco/engine/tensor"
	"github.com/baco-go/baco/internal/testdata"
)

// Reference output for stories260K.gguf, prompt BOS + "Once upon a time",
// greedy, 64 new tokens. The same text comes from llama2.c
// (karpathy/llama2.c @ 350e04fe, `./run stories260K.bin -z tok512.bin -t 0
// -i "Once upon a time"` with a patched generate() that prints 64 tokens
// after the prompt) and from llama.cpp (ggerganov/llama.cpp @ c392e509,
// `llama-simple -m stories260K.gguf -n 64 "Once upon a time"` and
// `llama-cli ... --temp 0 -n 64 -c 512`).
const (
	storiesPrompt = "Once upon a time"
	storiesText   = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too high.\nLily's mom said"
)

var (
	// storiesPromptIDs is llama-tokenize's output (and llama2.c's).
	storiesPromptIDs = []int32{1, 403, 407, 261, 378}
	// storiesGreedy is the 64 greedy ids from llama2.c.
	storiesGreedy = []int32{
		432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337,
		410, 408, 419, 292, 411, 322, 265, 282, 295, 433, 426, 385, 328, 432, 358, 394,
		261, 370, 432, 352, 266, 268, 388, 426, 338, 391, 266, 267, 337, 335, 312, 432,
		398, 312, 286, 267, 414, 270, 333, 415, 426, 13, 438, 310, 439, 419, 357, 336,
	}
)

func loadStories(t testing.TB, opts ...Option) *Engine {
	t.Helper()
	path := testdata.Path(t, "models/stories260K.gguf")
	e, err := Load(path, append([]Option{WithThreads(2), WithContextLen(512)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func step(t testing.TB, e *Engine, in ...backend.StepInput) []backend.StepOutput {
	t.Helper()
	out, err := e.Step(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(in) {
		t.Fatalf("Step returned %d outputs for %d inputs", len(out), len(in))
	}
	return out
}

func open(t testing.TB, e *Engine) backend.SeqID {
	t.Helper()
	id, err := e.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestInfo(t *testing.T) {
	ctx := context.Background()
	path := testdata.Path(t, "models/stories260K.gguf")
	for _, tc := range []struct {
		opts []Option
		ctx  int
	}{{nil, 128}, {[]Option{WithContextLen(512)}, 512}} {
		e, err := Load(path, tc.opts...)
		if err != nil {
			t.Fatal(err)
		}
		info, err := e.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		e.Close()
		// Values from the test data README and llama.cpp's load log.
		if info.Name != "stories260K.gguf" || info.Arch != "llama" || info.VocabSize != 512 ||
			info.BOS != 1 || info.EOS != 2 || !info.AddBOS || info.ContextLen != tc.ctx ||
			info.ChatTemplate != "" || info.Tokenizer != "spm" {
			t.Errorf("info = %+v", info)
		}
		if !slices.Contains(info.StopIDs, 2) || slices.Contains(info.StopIDs, 1) {
			t.Errorf("StopIDs = %v, want EOS 2 and not BOS", info.StopIDs)
		}
		if !slices.Contains(info.ControlIDs, 1) || !slices.Contains(info.ControlIDs, 2) {
			t.Errorf("ControlIDs = %v, want BOS and EOS", info.ControlIDs)
		}
		if !info.Caps.FullDist || !info.Caps.AllPositions || !info.Caps.TokenPrompts {
			t.Errorf("caps = %+v", info.Caps)
		}
		if len(info.Fingerprint) != 64 {
			t.Errorf("fingerprint %q", info.Fingerprint)
		}
	}
}

// TestGreedyStories reproduces llama2.c's and llama.cpp's greedy text
// through the Backend interface: tokenize, prefill, step token by token,
// detokenize.
func TestGreedyStories(t *testing.T) {
	e := loadStories(t)
	ctx := context.Background()
	ids, err := e.Tokenize(ctx, storiesPrompt, true, false)
	if err != nil || !slices.Equal(ids, storiesPromptIDs) {
		t.Fatalf("Tokenize = %v, %v; want %v", ids, err, storiesPromptIDs)
	}
	seq := open(t, e)
	toks := ids
	var gen []int32
	for range storiesGreedy {
		d := step(t, e, backend.StepInput{Seq: seq, Tokens: toks, TopK: 1})[0].Dists[0]
		gen = append(gen, d.TopID())
		toks = []int32{d.TopID()}
	}
	if !slices.Equal(gen, storiesGreedy) {
		t.Fatalf("greedy ids\n got %v\nwant %v", gen, storiesGreedy)
	}
	text, err := e.Detokenize(ctx, append(ids[1:], gen...))
	if err != nil {
		t.Fatal(err)
	}
	if text != storiesText {
		t.Errorf("greedy text\n got %q\nwant %q", text, storiesText)
	}
}

// TestStepDist checks the distribution after the prompt against llama2.c's
// log-probabilities (432 ',' -0.0317028, 383 ' there' -3.5498426, 322 ' in'
// -8.1214514) and the Dist invariants.
func TestStepDist(t *testing.T) {
	e := loadStories(t)
	seq := open(t, e)
	d := step(t, e, backend.StepInput{Seq: seq, Tokens: storiesPromptIDs, TopK: 3})[0].Dists[0]
	want := []dist.Candidate{{ID: 432, LogProb: -0.0317028, Piece: ","}, {ID: 383, LogProb: -3.5498426, Piece: "▁there"}, {ID: 322, LogProb: -8.1214514, Piece: "▁in"}}
	if len(d.Top) != 3 || len(d.Full) != 512 {
		t.Fatalf("Top %d, Full %d; want 3, 512", len(d.Top), len(d.Full))
	}
	for i, w := range want {
		g := d.Top[i]
		if g.ID != w.ID || g.Piece != w.Piece || math.Abs(float64(g.LogProb-w.LogProb)) > 1e-4 {
			t.Errorf("Top[%d] = %+v, want %+v", i, g, w)
		}
	}
	var h, mass float64
	for _, lp := range d.Full {
		p := math.Exp(float64(lp))
		mass += p
		if p > 0 {
			h -= p * float64(lp)
		}
	}
	if math.Abs(mass-1) > 1e-5 || math.Abs(h-d.Entropy) > 1e-5 || d.EntropyEstimated {
		t.Errorf("Σp = %g, entropy %g vs Dist %g (estimated %v)", mass, h, d.Entropy, d.EntropyEstimated)
	}
	// Default top-k.
	d = step(t, e, backend.StepInput{Seq: seq, Tokens: []int32{432}})[0].Dists[0]
	if len(d.Top) != DefaultTopK {
		t.Errorf("default Top has %d candidates, want %d", len(d.Top), DefaultTopK)
	}
}

// TestBatchedStepMatchesSingle runs 8 sequences in one Step per token and
// one sequence per Step: the full distributions must be identical.
func TestBatchedStepMatchesSingle(t *testing.T) {
	e := loadStories(t)
	const n = 8
	prompts := make([][]int32, n)
	for i := range prompts {
		prompts[i] = append([]int32{1}, storiesGreedy[i:i+2+i]...)
	}
	seqs := make([]backend.SeqID, n)
	in := make([]backend.StepInput, n)
	for i := range seqs {
		seqs[i] = open(t, e)
		in[i] = backend.StepInput{Seq: seqs[i], Tokens: prompts[i]}
	}
	var batched [n][]dist.Dist
	for range 5 {
		out := step(t, e, in...)
		for i := range in {
			d := out[i].Dists[0]
			batched[i] = append(batched[i], d)
			in[i].Tokens = []int32{d.TopID()}
		}
	}
	for i := range n {
		s := open(t, e)
		toks := prompts[i]
		for k := range 5 {
			d := step(t, e, backend.StepInput{Seq: s, Tokens: toks})[0].Dists[0]
			if !slices.Equal(d.Full, batched[i][k].Full) {
				t.Fatalf("seq %d step %d: batched and single distributions differ", i, k)
			}
			toks = []int32{d.TopID()}
		}
	}
}

// TestAllPositionsForkTruncate checks AllPositions against token-by-token
// steps, and that Fork, Truncate and an empty (re-read) Step agree with a
// fresh prefill.
func TestAllPositionsForkTruncate(t *testing.T) {
	e := loadStories(t)
	ctx := context.Background()
	toks := append(slices.Clone(storiesPromptIDs), storiesGreedy[:10]...)
	// Token by token.
	single := open(t, e)
	var perTok [][]float32
	for _, tok := range toks {
		perTok = append(perTok, step(t, e, backend.StepInput{Seq: single, Tokens: []int32{tok}})[0].Dists[0].Full)
	}
	// All positions in one step.
	all := open(t, e)
	ds := step(t, e, backend.StepInput{Seq: all, Tokens: toks, AllPositions: true})[0].Dists
	if len(ds) != len(toks) {
		t.Fatalf("AllPositions gave %d dists for %d tokens", len(ds), len(toks))
	}
	for p := range toks {
		if !slices.Equal(ds[p].Full, perTok[p]) {
			t.Fatalf("AllPositions dist %d differs from token-by-token", p)
		}
	}
	// Re-read: an empty step returns the last distribution again.
	if d := step(t, e, backend.StepInput{Seq: all})[0].Dists[0]; !slices.Equal(d.Full, perTok[len(toks)-1]) {
		t.Fatal("re-read differs from the last distribution")
	}
	// Fork, diverge the original, and continue the fork.
	fork, err := e.Fork(ctx, all)
	if err != nil {
		t.Fatal(err)
	}
	step(t, e, backend.StepInput{Seq: all, Tokens: []int32{7, 8, 9}})
	if d := step(t, e, backend.StepInput{Seq: fork})[0].Dists[0]; !slices.Equal(d.Full, perTok[len(toks)-1]) {
		t.Fatal("fork re-read differs")
	}
	// Truncate the diverged original to 6 tokens: a re-read gives the
	// distribution after token 6, and continuing matches.
	if err := e.Truncate(ctx, all, 6); err != nil {
		t.Fatal(err)
	}
	if d := step(t, e, backend.StepInput{Seq: all})[0].Dists[0]; !slices.Equal(d.Full, perTok[5]) {
		t.Fatal("re-read after Truncate differs from a fresh prefill")
	}
	if err := e.Truncate(ctx, all, 3); err != nil {
		t.Fatal(err)
	}
	ds = step(t, e, backend.StepInput{Seq: all, Tokens: toks[3:8], AllPositions: true})[0].Dists
	for j, d := range ds {
		if !slices.Equal(d.Full, perTok[3+j]) {
			t.Fatalf("AllPositions after Truncate: dist %d differs", j)
		}
	}
	if err := e.Truncate(ctx, all, 0); err != nil {
		t.Fatal(err)
	}
	if d := step(t, e, backend.StepInput{Seq: all, Tokens: toks[:2]})[0].Dists[0]; !slices.Equal(d.Full, perTok[1]) {
		t.Fatal("after Truncate(0) the sequence does not restart")
	}
	if err := e.Free(ctx, fork); err != nil {
		t.Fatal(err)
	}
}

func TestErrors(t *testing.T) {
	e := loadStories(t)
	ctx := context.Background()
	seq := open(t, e)
	empty := open(t, e)
	step(t, e, backend.StepInput{Seq: seq, Tokens: storiesPromptIDs})
	long := open(t, e)
	step(t, e, backend.StepInput{Seq: long, Tokens: make([]int32, 510)})
	cases := []struct {
		name string
		in   []backend.StepInput
		want string
	}{
		{"unknown seq", []backend.StepInput{{Seq: 999, Tokens: []int32{1}}}, "seq 999: unknown sequence"},
		{"repeated seq", []backend.StepInput{{Seq: seq, Tokens: []int32{1}}, {Seq: seq, Tokens: []int32{2}}}, "inputs 0 and 1 both extend seq"},
		{"empty on empty", []backend.StepInput{{Seq: empty}}, "no tokens to append to an empty sequence"},
		{"token out of range", []backend.StepInput{{Seq: seq, Tokens: []int32{5, 512}}}, "token 1: id 512 outside the vocabulary"},
		{"negative token", []backend.StepInput{{Seq: seq, Tokens: []int32{-1}}}, "token 0: id -1 outside"},
		{"overflow", []backend.StepInput{{Seq: seq, Tokens: []int32{1}}, {Seq: long, Tokens: []int32{1, 2, 3}}}, "510 held + 3 new tokens exceed the context length 512"},
		{"negative topk", []backend.StepInput{{Seq: seq, Tokens: []int32{1}, TopK: -2}}, "negative TopK"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.Step(ctx, tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
	// Nothing above changed seq: it still continues like a fresh prefill.
	ref := open(t, e)
	a := step(t, e, backend.StepInput{Seq: seq, Tokens: []int32{432}})[0].Dists[0]
	b := step(t, e, backend.StepInput{Seq: ref, Tokens: append(slices.Clone(storiesPromptIDs), 432)})[0].Dists[0]
	if !slices.Equal(a.Full, b.Full) {
		t.Fatal("failed steps changed the sequence")
	}
	if _, err := e.Detokenize(ctx, []int32{1, 600}); err == nil || !strings.Contains(err.Error(), "token 1: id 600") {
		t.Errorf("Detokenize error %v", err)
	}
	if _, err := e.Pieces(ctx, []int32{-4}); err == nil {
		t.Error("Pieces(-4) succeeded")
	}
	if err := e.Truncate(ctx, seq, 100); err == nil {
		t.Error("Truncate beyond the length succeeded")
	}
	if _, err := e.Fork(ctx, 12345); !errors.Is(err, ErrUnknownSeq) {
		t.Errorf("Fork unknown: %v", err)
	}
	if err := e.Free(ctx, seq); err != nil {
		t.Fatal(err)
	}
	if err := e.Free(ctx, seq); !errors.Is(err, ErrUnknownSeq) {
		t.Errorf("double Free: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := e.Step(cctx, []backend.StepInput{{Seq: ref, Tokens: []int32{1}}}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Step: %v", err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Open(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("Open after Close: %v", err)
	}
	if _, err := e.Step(ctx, []backend.StepInput{{Seq: ref, Tokens: []int32{1}}}); !errors.Is(err, ErrClosed) {
		t.Errorf("Step after Close: %v", err)
	}
	if _, err := Load(testdata.Path(t, "models/stories260K.gguf"), WithThreads(0)); err == nil {
		t.Error("Load with 0 threads succeeded")
	}
	if _, err := Load("/nonexistent/model.gguf"); err == nil || !strings.Contains(err.Error(), "/nonexistent/model.gguf") {
		t.Errorf("Load of a missing file: %v", err)
	}
}

func TestPieces(t *testing.T) {
	e := loadStories(t)
	got, err := e.Pieces(context.Background(), []int32{1, 2, 13, 403, 432})
	if err != nil {
		t.Fatal(err)
	}
	// tok512: 1 <s>, 2 </s>, 3+10 = <0x0A>, 403 "▁Once", 432 ",".
	want := []string{"<s>", "</s>", "<0x0A>", "▁Once", ","}
	if !slices.Equal(got, want) {
		t.Errorf("Pieces = %q, want %q", got, want)
	}
}

// TestConcurrentSteps runs Steps on different sequences from several
// goroutines (for the race detector) and checks each against a sequential
// run.
func TestConcurrentSteps(t *testing.T) {
	e := loadStories(t)
	const n = 4
	want := make([][]int32, n)
	for i := range n {
		want[i] = greedy(t, e, storiesGreedy[i:i+3], 8)
	}
	var wg sync.WaitGroup
	got := make([][]int32, n)
	for i := range n {
		wg.Go(func() { got[i] = greedy(t, e, storiesGreedy[i:i+3], 8) })
	}
	wg.Wait()
	for i := range n {
		if !slices.Equal(got[i], want[i]) {
			t.Errorf("goroutine %d: %v, sequential %v", i, got[i], want[i])
		}
	}
}

func greedy(t testing.TB, e *Engine, prompt []int32, n int) []int32 {
	seq, err := e.Open(context.Background())
	if err != nil {
		t.Error(err)
		return nil
	}
	defer e.Free(context.Background(), seq)
	toks := prompt
	var out []int32
	for range n {
		res, err := e.Step(context.Background(), []backend.StepInput{{Seq: seq, Tokens: toks, TopK: 1}})
		if err != nil {
			t.Error(err)
			return nil
		}
		id := res[0].Dists[0].TopID()
		out = append(out, id)
		toks = []int32{id}
	}
	return out
}

// TestSharedPool runs two engines on one pool concurrently and checks both
// against an engine with its own pool.
func TestSharedPool(t *testing.T) {
	pool := tensor.NewPool(2)
	defer pool.Close()
	a, b := loadStories(t, WithPool(pool)), loadStories(t, WithPool(pool))
	want := greedy(t, loadStories(t), storiesGreedy[:4], 10)
	var wg sync.WaitGroup
	var ga, gb []int32
	wg.Go(func() { ga = greedy(t, a, storiesGreedy[:4], 10) })
	wg.Go(func() { gb = greedy(t, b, storiesGreedy[:4], 10) })
	wg.Wait()
	if !slices.Equal(ga, want) || !slices.Equal(gb, want) {
		t.Errorf("shared pool: %v and %v, own pool %v", ga, gb, want)
	}
	a.Close()
	// b still works after a (which does not own the pool) is closed.
	if got := greedy(t, b, storiesGreedy[:4], 3); !slices.Equal(got, want[:3]) {
		t.Errorf("after closing the other engine: %v", got)
	}
}
