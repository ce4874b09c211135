package openai

import (
	"testing"

	"github.com/baco-go/baco/backends/remote/remotetest"
	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/internal/testdata"
)

func TestLiveLlamaServerV1(t *testing.T) {
	url := remotetest.LlamaServer(t)
	ctx := remotetest.Context(t)
	for _, o := range []Options{
		{BaseURL: url + "/v1", VocabFile: testdata.Path(t, "models/stories260K.gguf")},
		{BaseURL: url + "/v1", Tokenizer: "llamacpp"},
		{BaseURL: url + "/v1", VocabFile: testdata.Path(t, "models/stories260K.gguf"), Prompts: PromptText},
	} {
		b, err := New(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		info, _ := b.Info(ctx)
		t.Logf("%+v tokens=%v keys=%v", info.Caps, b.tokens, b.keys)
		prompt, err := b.Tokenize(ctx, "Once upon a time", true, false)
		if err != nil {
			t.Fatal(err)
		}
		seq, _ := b.Open(ctx)
		var got []int32
		toks := prompt
		for range 20 {
			out, err := b.Step(ctx, []backend.StepInput{{Seq: seq, Tokens: toks}})
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, out[0].Dists[0].TopID())
			toks = []int32{out[0].Dists[0].TopID()}
		}
		text, _ := b.Detokenize(ctx, got)
		t.Logf("%q", text)
		b.Close()
	}
}
