package openai

import (
	"context"
	"log/slog"
	"testing"
	"time"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/baco-go/baco/backends/remote/remotetest"
	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/engine"
	"github.com/baco-go/baco/internal/testdata"
)

// Benchmarks for docs/performance.md on stories260K: the openai backend's
// cost per token against llama-server's /v1 and against bacoctl serve,
// each server's own generation speed, and the in-process engine.

var quiet = slog.New(slog.DiscardHandler)

// BenchmarkStepLlamaServer is one Step of one new token (top 20) through
// llama-server's /v1/completions.
func BenchmarkStepLlamaServer(b *testing.B) {
	benchStep(b, remotetest.LlamaServer(b), "")
}

// BenchmarkStepBacoctlServe is one Step of one new token (top 20) through
// bacoctl serve's /v1/completions (candidates named by text).
func BenchmarkStepBacoctlServe(b *testing.B) {
	benchStep(b, remotetest.BacoctlServe(b), "stories260K")
}

func benchStep(b *testing.B, url, model string) {
	ctx := context.Background()
	be, err := New(ctx, Options{BaseURL: url + "/v1", Model: model, VocabFile: testdata.Path(b, "models/stories260K.gguf"), Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer be.Close()
	var seq backend.SeqID
	var in backend.StepInput
	reset := func() {
		if seq != 0 {
			be.Free(ctx, seq)
		}
		seq, _ = be.Open(ctx)
		in = backend.StepInput{Seq: seq, Tokens: storiesPrompt, TopK: 20}
	}
	step := func() {
		out, err := be.Step(ctx, []backend.StepInput{in})
		if err != nil {
			b.Fatal(err)
		}
		in.Tokens = []int32{out[0].Dists[0].TopID()}
	}
	reset()
	step()
	held := len(storiesPrompt) + 1
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if held >= 200 {
			b.StopTimer()
			reset()
			step()
			held = len(storiesPrompt) + 1
			b.StartTimer()
		}
		step()
		held++
	}
}

// BenchmarkOwnDecodeLlamaServer and BenchmarkOwnDecodeBacoctlServe are
// each server's own generation speed: /v1/completions of up to 64 tokens
// until b.N tokens came back (see ns/token).
func BenchmarkOwnDecodeLlamaServer(b *testing.B) {
	benchOwn(b, remotetest.LlamaServer(b), "x")
}

func BenchmarkOwnDecodeBacoctlServe(b *testing.B) {
	benchOwn(b, remotetest.BacoctlServe(b), "stories260K")
}

func benchOwn(b *testing.B, url, model string) {
	cfg := goopenai.DefaultConfig("")
	cfg.BaseURL = url + "/v1"
	cli := goopenai.NewClientWithConfig(cfg)
	ctx := context.Background()
	tokens := 0
	b.ResetTimer()
	start := time.Now()
	for tokens < b.N {
		// Sampled at the servers' default temperature: a story may end
		// (EOS) before 64 tokens, so the tokens are counted.
		r, err := cli.CreateCompletion(ctx, goopenai.CompletionRequest{Model: model, Prompt: "Once upon a time", MaxTokens: 64})
		if err != nil {
			b.Fatal(err)
		}
		if r.Usage == nil || r.Usage.CompletionTokens <= 0 {
			b.Fatalf("usage %+v", r.Usage)
		}
		tokens += r.Usage.CompletionTokens
	}
	b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(tokens), "ns/token")
}

// BenchmarkStepEngine is the in-process engine's Step of one new token
// (the floor a remote backend is compared with).
func BenchmarkStepEngine(b *testing.B) {
	e, err := engine.Load(testdata.Path(b, "models/stories260K.gguf"), engine.WithContextLen(512), engine.WithThreads(1), engine.WithLogger(quiet))
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	seq, _ := e.Open(ctx)
	toks := storiesPrompt
	held := 0
	for i := 0; i < b.N; i++ {
		if held >= 200 {
			e.Truncate(ctx, seq, len(storiesPrompt))
			held = len(storiesPrompt)
		}
		out, err := e.Step(ctx, []backend.StepInput{{Seq: seq, Tokens: toks, TopK: 20}})
		if err != nil {
			b.Fatal(err)
		}
		held += len(toks)
		toks = []int32{out[0].Dists[0].TopID()}
	}
}
