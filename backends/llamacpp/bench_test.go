package llamacpp

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/baco-go/baco/backends/remote/remotetest"
	"github.com/baco-go/baco/core/backend"
)

// Benchmarks against a live llama-server on stories260K (skipped without
// one); docs/performance.md reports them. Each op is one generated token.

// BenchmarkServerOwnDecode is llama-server's own generation speed: one
// /completion of 64 greedy tokens per 64 ops (what the server costs per
// token when it runs the loop itself).
func BenchmarkServerOwnDecode(b *testing.B) {
	url := remotetest.LlamaServer(b)
	c, err := NewClient(ClientOptions{URL: url, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var serverMS float64
	var tokens int
	b.ResetTimer()
	for done := 0; done < b.N; done += 64 {
		r, err := c.Completion(ctx, CompletionRequest{Prompt: storiesPrompt, NPredict: 64, NProbs: 0, CachePrompt: true,
			Temperature: 0, Samplers: []string{}, IDSlot: -1})
		if err != nil {
			b.Fatal(err)
		}
		serverMS += r.Timings.PredictedMS
		tokens += r.Timings.PredictedN
	}
	if tokens > 0 {
		b.ReportMetric(serverMS/float64(tokens)*1e6, "server-ns/token")
	}
}

// quiet discards the backends' logs so benchmark lines stay whole.
var quiet = slog.New(slog.DiscardHandler)

// BenchmarkRequest is one /completion as the backend sends it (the
// prompt plus one new token each time, top 40), timed by the client and
// by the server (its prompt_ms + predicted_ms): the gap is HTTP, JSON and
// the server's request handling.
func BenchmarkRequest(b *testing.B) {
	url := remotetest.LlamaServer(b)
	c, err := NewClient(ClientOptions{URL: url, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	toks := append([]int32(nil), storiesPrompt...)
	var serverMS float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if len(toks) >= 200 {
			toks = toks[:len(storiesPrompt)]
		}
		r, err := c.Completion(ctx, CompletionRequest{Prompt: toks, NPredict: 1, NProbs: 40, CachePrompt: true,
			Temperature: 0, Samplers: []string{}, IDSlot: -1})
		if err != nil {
			b.Fatal(err)
		}
		serverMS += r.Timings.PromptMS + r.Timings.PredictedMS
		toks = append(toks, r.Probs[0].TopLogprobs[0].ID)
	}
	b.ReportMetric(serverMS/float64(b.N)*1e6, "server-ns/op")
}

// BenchmarkStep is the llamacpp backend's cost per token: one Step of one
// new token (one /completion with the whole sequence, cache_prompt), top
// 40 candidates.
func BenchmarkStep(b *testing.B) {
	benchStep(b, 1, Options{}, 40)
}

// BenchmarkStepFullDist asks for the whole vocabulary (512 candidates).
func BenchmarkStepFullDist(b *testing.B) {
	benchStep(b, 1, Options{FullDist: true}, 40)
}

// BenchmarkStepBatch4 steps 4 sequences at once on a 4-slot server; an op
// is one token of one sequence.
func BenchmarkStepBatch4(b *testing.B) {
	benchStep(b, 4, Options{}, 40, "-np", "4")
}

func benchStep(b *testing.B, n int, o Options, k int, args ...string) {
	url := remotetest.LlamaServer(b, args...)
	ctx := context.Background()
	o.URL = url
	o.Logger = quiet
	be, err := New(ctx, o)
	if err != nil {
		b.Fatal(err)
	}
	defer be.Close()
	seqs := make([]backend.SeqID, n)
	in := make([]backend.StepInput, n)
	reset := func() {
		for i := range seqs {
			if seqs[i] != 0 {
				be.Free(ctx, seqs[i])
			}
			seqs[i], _ = be.Open(ctx)
			in[i] = backend.StepInput{Seq: seqs[i], Tokens: storiesPrompt, TopK: k}
		}
	}
	reset()
	step := func() {
		out, err := be.Step(ctx, in)
		if err != nil {
			b.Fatal(err)
		}
		for i := range in {
			in[i].Tokens = []int32{out[i].Dists[0].TopID()}
		}
	}
	step() // prefill outside the timer
	held := len(storiesPrompt) + 1
	b.ResetTimer()
	start := time.Now()
	for done := 0; done < b.N; done += n {
		if held >= 200 { // stay well inside the slot's context
			b.StopTimer()
			reset()
			step()
			held = len(storiesPrompt) + 1
			b.StartTimer()
		}
		step()
		held++
	}
	b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(b.N), "ns/token")
}
