package llama

import (
	"context"
	"math"
	"reflect"
	"testing"

	"github.com/baco-go/baco/engine/gguf"
	"github.com/baco-go/baco/engine/tensor"
	"github.com/baco-go/baco/internal/testdata"
)

// Reference values for stories260K (Karpathy's tinyllamas, converted to GGUF
// with llama.cpp c392e509; see the test data README) from llama2.c
// (karpathy/llama2.c @ 350e04fe35433e6d2941dce5a1f53308f87058eb), whose
// run.c generate() was patched only to print ids, logits and a float64
// log-softmax of the fp32 logits:
//
//	gcc -O3 -o run_logprobs run_logprobs.c -lm
//	./run_logprobs stories260K.bin -z tok512.bin -t 0 -n 64 -i "Once upon a time"
//
// The prompt is BOS + "Once upon a time" = 1 403 407 261 378. llama.cpp
// (c392e509, llama-simple and llama-cli --temp 0) produces the same greedy
// text. When recorded, all 512 next-token log-probs of this package agreed
// with llama2.c's dump within 6.5e-6; the table keeps the top 20 and the
// three least likely.
var storiesPrompt = []int32{1, 403, 407, 261, 378}

// storiesGreedy is llama2.c's greedy continuation (64 tokens) of
// storiesPrompt: ", there was a little girl named Lily. She loved to play
// outside in the park. One day, she saw a big, red ball. She wanted to play
// with it, but it was too high.\nLily's mom said".
var storiesGreedy = []int32{
	432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337,
	410, 408, 419, 292, 411, 322, 265, 282, 295, 433, 426, 385, 328, 432, 358, 394,
	261, 370, 432, 352, 266, 268, 388, 426, 338, 391, 266, 267, 337, 335, 312, 432,
	398, 312, 286, 267, 414, 270, 333, 415, 426, 13, 438, 310, 439, 419, 357, 336,
}

// storiesNextLogProbs are llama2.c's log-probabilities of the token after
// storiesPrompt: the 20 most likely ids and the three least likely.
var storiesNextLogProbs = []struct {
	id int32
	lp float64
}{
	{432, -0.0317028}, {383, -3.5498426}, {322, -8.1214514}, {353, -8.2438135},
	{323, -8.6968575}, {298, -8.8961868}, {387, -9.1955776}, {426, -9.2059364},
	{335, -9.2444801}, {358, -9.2785816}, {410, -9.3667974}, {267, -9.4607201},
	{265, -9.4938183}, {443, -9.5078049}, {378, -9.5897055}, {407, -9.9880381},
	{311, -10.1119099}, {280, -10.1306343}, {261, -10.2007027}, {274, -10.2126532},
	{39, -27.9698925}, {112, -27.9694748}, {240, -27.9694691},
}

// storiesFirstLogits are llama2.c's raw logits after BOS alone (top 4).
var storiesFirstLogits = []struct {
	id    int32
	logit float64
}{{403, 17.0235157}, {385, 15.4062128}, {410, 13.1082630}, {317, 12.7691660}}

func openStories(tb testing.TB) *gguf.File {
	tb.Helper()
	f, err := gguf.Open(testdata.Path(tb, "models/stories260K.gguf"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	return f
}

// loadStories loads stories260K with its training context (512; the file's
// metadata says 128).
func loadStories(tb testing.TB, workers int) *Model {
	tb.Helper()
	f := openStories(tb)
	cfg, err := ConfigFromGGUF(f)
	if err != nil {
		tb.Fatal(err)
	}
	cfg.ContextLen = 512
	pool := tensor.NewPool(workers)
	tb.Cleanup(pool.Close)
	m, err := LoadConfig(f, cfg, pool)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

func argmax(v []float32) int32 {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return int32(best)
}

func logSoftmax32(logits []float32) []float64 {
	l := make([]float64, len(logits))
	for i, v := range logits {
		l[i] = float64(v)
	}
	return refLogSoftmax(l)
}

func forward1(t testing.TB, m *Model, c *Cache, toks []int32, all bool) []float32 {
	t.Helper()
	out := make([][]float32, 1)
	if err := m.Forward(context.Background(), []Batch{{Cache: c, Tokens: toks, AllLogits: all}}, out); err != nil {
		t.Fatal(err)
	}
	return out[0]
}

func TestStoriesConfig(t *testing.T) {
	cfg, err := ConfigFromGGUF(openStories(t))
	if err != nil {
		t.Fatal(err)
	}
	// The model card: dim 64, 5 layers, 8 heads, 4 kv heads, hidden 172,
	// vocab 512; the converter writes context 128.
	want := Config{Arch: "llama", Layers: 5, Dim: 64, FFDim: 172, Heads: 8, KVHeads: 4, HeadDim: 8,
		VocabSize: 512, ContextLen: 128, TrainContextLen: 128, NormEps: 1e-5}
	got := cfg
	got.Rope = Rope{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("config:\n got %+v\nwant %+v", got, want)
	}
	if cfg.Rope.Dims != 8 || cfg.Rope.Base != 10000 || cfg.Rope.NeoX || cfg.Rope.FreqScale != 1 {
		t.Errorf("rope = %+v, want 8 normal dims, base 10000, no scaling", cfg.Rope)
	}
}

func TestStoriesGreedyMatchesLlama2c(t *testing.T) {
	for _, workers := range []int{1, 2} {
		m := loadStories(t, workers)
		c := m.NewCache()
		toks := storiesPrompt
		var got []int32
		for range storiesGreedy {
			next := argmax(forward1(t, m, c, toks, false))
			got = append(got, next)
			toks = []int32{next}
		}
		for i := range got {
			if got[i] != storiesGreedy[i] {
				t.Fatalf("workers %d: greedy token %d = %d, llama2.c %d (got %v)", workers, i, got[i], storiesGreedy[i], got)
			}
		}
	}
}

func TestStoriesLogProbsMatchLlama2c(t *testing.T) {
	m := loadStories(t, 2)
	c := m.NewCache()
	first := forward1(t, m, c, storiesPrompt[:1], false)
	for _, w := range storiesFirstLogits {
		if d := math.Abs(float64(first[w.id]) - w.logit); d > 1e-4 {
			t.Errorf("logit after BOS of %d = %.7f, llama2.c %.7f", w.id, first[w.id], w.logit)
		}
	}
	lp := logSoftmax32(forward1(t, m, c, storiesPrompt[1:], false))
	for _, w := range storiesNextLogProbs {
		if d := math.Abs(lp[w.id] - w.lp); d > 1e-4 {
			t.Errorf("next log-prob of %d = %.7f, llama2.c %.7f (|Δ| %.2g)", w.id, lp[w.id], w.lp, d)
		}
	}
}

// TestStoriesMatchesFloat64Reference compares every vocabulary log-prob at
// every position of the prompt plus its greedy continuation with the naive
// float64 forward pass.
func TestStoriesMatchesFloat64Reference(t *testing.T) {
	f := openStories(t)
	ref := newRefModel(t, f)
	m := loadStories(t, 2)
	toks := append(append([]int32(nil), storiesPrompt...), storiesGreedy[:27]...)
	got := forward1(t, m, m.NewCache(), toks, true)
	want := ref.forward(toks)
	V := m.Config().VocabSize
	worst := 0.0
	for p := range toks {
		lg := logSoftmax32(got[p*V : (p+1)*V])
		lw := refLogSoftmax(want[p])
		for id := range V {
			worst = math.Max(worst, math.Abs(lg[id]-lw[id]))
		}
	}
	t.Logf("max |Δ log-prob| over %d positions × %d ids: %.3g", len(toks), V, worst)
	if worst > 1e-4 {
		t.Errorf("max |Δ log-prob| vs float64 reference = %.3g, want ≤ 1e-4", worst)
	}
}
