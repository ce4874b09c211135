package openai

import (
	"context"
	"slices"
	"testing"

	"github.com/baco-go/baco/backends/remote/remotetest"
	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/core/decode"
	"github.com/baco-go/baco/core/route"
	"github.com/baco-go/baco/engine"
	"github.com/baco-go/baco/internal/testdata"
)

// storiesPrompt is BOS + "Once upon a time"; storiesGreedy is llama2.c's
// greedy continuation of it (karpathy/llama2.c @ 350e04fe, the same
// reference as engine/llama/stories_test.go), an implementation
// independent of baco.
var (
	storiesPrompt = []int32{1, 403, 407, 261, 378}
	storiesGreedy = []int32{
		432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337,
		410, 408, 419, 292, 411, 322, 265, 282, 295, 433, 426, 385, 328, 432, 358, 394,
		261, 370, 432, 352, 266, 268, 388, 426, 338, 391, 266, 267, 337, 335, 312, 432,
		398, 312, 286, 267, 414, 270, 333, 415, 426, 13, 438, 310, 439, 419, 357, 336,
	}
	storiesGreedyText = ", there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too high.\nLily's mom said"
)

func loadEngine(t testing.TB) *engine.Engine {
	t.Helper()
	e, err := engine.Load(testdata.Path(t, "models/stories260K.gguf"), engine.WithContextLen(512), engine.WithThreads(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// TestAcceptanceBacoctlServe runs the openai backend end to end against
// `bacoctl serve` serving stories260K — a real HTTP server — and checks
// the greedy text against llama2.c's and the in-process engine's, then a
// BACo pair (embedded base, served aligned) against the all-embedded pair.
func TestAcceptanceBacoctlServe(t *testing.T) {
	url := remotetest.BacoctlServe(t)
	ctx := remotetest.Context(t)
	b, err := New(ctx, Options{BaseURL: url + "/v1", Model: "stories260K", VocabFile: testdata.Path(t, "models/stories260K.gguf")})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	info, _ := b.Info(ctx)
	e := loadEngine(t)
	ei, _ := e.Info(ctx)
	if info.Fingerprint != ei.Fingerprint || info.VocabSize != 512 || !info.Caps.TokenPrompts || info.Caps.FullDist {
		t.Errorf("info %+v", info)
	}
	prompt, err := b.Tokenize(ctx, "Once upon a time", true, false)
	if err != nil || !slices.Equal(prompt, storiesPrompt) {
		t.Fatalf("prompt %v, %v", prompt, err)
	}
	seq, _ := b.Open(ctx)
	var got []int32
	toks := prompt
	for range len(storiesGreedy) {
		out, err := b.Step(ctx, []backend.StepInput{{Seq: seq, Tokens: toks, TopK: 5}})
		if err != nil {
			t.Fatalf("step %d: %v", len(got), err)
		}
		d := out[0].Dists[0]
		if !d.EntropyEstimated || d.Full != nil || len(d.Top) != 5 {
			t.Fatalf("step %d: dist %+v", len(got), d)
		}
		got = append(got, d.TopID())
		toks = []int32{d.TopID()}
	}
	text, _ := b.Detokenize(ctx, got)
	if !slices.Equal(got, storiesGreedy) || text != storiesGreedyText {
		t.Errorf("greedy via bacoctl serve: %q\nllama2.c:             %q", text, storiesGreedyText)
	}
	want, _ := e.Detokenize(ctx, greedy(t, e, storiesPrompt, len(storiesGreedy)))
	if text != want {
		t.Errorf("greedy via bacoctl serve: %q\nin-process engine:    %q", text, want)
	}

	// A BACo pair: embedded base, served aligned, against all-embedded.
	gen := func(aligned backend.Backend) *decode.Result {
		router, _ := route.Parse("p:0.5")
		d, err := decode.New(ctx, decode.Config{Base: loadEngine(t), Aligned: aligned, Router: router, TopK: 20})
		if err != nil {
			t.Fatal(err)
		}
		res, err := d.Generate(ctx, decode.Request{BasePrompt: storiesPrompt, AlignedPrompt: storiesPrompt, N: 2, MaxTokens: 40, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	all, mixed := gen(loadEngine(t)), gen(b)
	for i := range all.Samples {
		if mixed.Samples[i].Text != all.Samples[i].Text {
			t.Errorf("sample %d: %q\nall-embedded: %q", i, mixed.Samples[i].Text, all.Samples[i].Text)
		}
	}
}

// greedy runs the engine greedily for n tokens after prompt.
func greedy(t *testing.T, e *engine.Engine, prompt []int32, n int) []int32 {
	ctx := context.Background()
	seq, _ := e.Open(ctx)
	var out []int32
	toks := prompt
	for range n {
		o, err := e.Step(ctx, []backend.StepInput{{Seq: seq, Tokens: toks, TopK: 1}})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, o[0].Dists[0].TopID())
		toks = []int32{o[0].Dists[0].TopID()}
	}
	return out
}
