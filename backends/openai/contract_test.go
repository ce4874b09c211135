package openai

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/baco-go/baco/backends/remote/remotetest"
	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/core/dist"
	"github.com/baco-go/baco/internal/testdata"
)

// storiesNextLogProbs are llama2.c's log-probabilities of the 20 most
// likely tokens after storiesPrompt (same reference as storiesGreedy).
var storiesNextLogProbs = []struct {
	id int32
	lp float64
}{
	{432, -0.0317028}, {383, -3.5498426}, {322, -8.1214514}, {353, -8.2438135},
	{323, -8.6968575}, {298, -8.8961868}, {387, -9.1955776}, {426, -9.2059364},
	{335, -9.2444801}, {358, -9.2785816}, {410, -9.3667974}, {267, -9.4607201},
	{265, -9.4938183}, {443, -9.5078049}, {378, -9.5897055}, {407, -9.9880381},
	{311, -10.1119099}, {280, -10.1306343}, {261, -10.2007027}, {274, -10.2126532},
}

// lpTol bounds the gap to llama2.c's log-probabilities (llama.cpp sums in
// another order; measured under 2e-3 on this model).
const lpTol = 5e-3

// recordings are the servers the contract tests replay.
var recordings = []struct {
	name, file string
	model      string
	keys       keyKind
	infoName   string
}{
	{"llama-server", "testdata/llama-server-v1.jsonl", "", keysIDs, "stories260K.gguf"}, // "": the first model listed
	{"bacoctl-serve", "testdata/bacoctl-serve.jsonl", "stories260K", keysText, "stories260K"},
}

// observed is what one run of the contract scenario saw.
type observed struct {
	info   backend.Info
	keys   keyKind
	greedy []int32
	first  dist.Dist
	clamp  dist.Dist // TopK 40 on a server capped at 20
	forkA  dist.Dist // after prompt + 432
	forkB  dist.Dist // after prompt + 383
	text   []int32   // 3 greedy steps of a text-prompt backend
}

// runScenario connects (vocabulary from the GGUF), runs 64 greedy steps,
// a fork with a two-sequence batch, a TopK above the cap, and a
// text-prompt backend.
func runScenario(t *testing.T, url, model string) *observed {
	ctx := remotetest.Context(t)
	vf := testdata.Path(t, "models/stories260K.gguf")
	b, err := New(ctx, Options{BaseURL: url + "/v1", Model: model, VocabFile: vf, Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	o := &observed{keys: b.keys}
	o.info, _ = b.Info(ctx)
	seq, _ := b.Open(ctx)
	in := backend.StepInput{Seq: seq, Tokens: storiesPrompt, TopK: 20}
	for range storiesGreedy {
		out, err := b.Step(ctx, []backend.StepInput{in})
		if err != nil {
			t.Fatalf("step %d: %v", len(o.greedy), err)
		}
		d := out[0].Dists[0]
		if len(o.greedy) == 0 {
			o.first = d
		}
		o.greedy = append(o.greedy, d.TopID())
		in = backend.StepInput{Seq: seq, Tokens: []int32{d.TopID()}, TopK: 5}
	}
	a, _ := b.Open(ctx)
	out, err := b.Step(ctx, []backend.StepInput{{Seq: a, Tokens: storiesPrompt, TopK: 40}})
	if err != nil {
		t.Fatal(err)
	}
	o.clamp = out[0].Dists[0]
	f, _ := b.Fork(ctx, a)
	out, err = b.Step(ctx, []backend.StepInput{{Seq: a, Tokens: []int32{432}, TopK: 5}, {Seq: f, Tokens: []int32{383}, TopK: 5}})
	if err != nil {
		t.Fatal(err)
	}
	o.forkA, o.forkB = out[0].Dists[0], out[1].Dists[0]

	tb, err := New(ctx, Options{BaseURL: url + "/v1", Model: model, VocabFile: vf, Prompts: PromptText})
	if err != nil {
		t.Fatal(err)
	}
	defer tb.Close()
	ts, _ := tb.Open(ctx)
	toks := storiesPrompt
	for range 3 {
		out, err := tb.Step(ctx, []backend.StepInput{{Seq: ts, Tokens: toks, TopK: 5}})
		if err != nil {
			t.Fatal(err)
		}
		o.text = append(o.text, out[0].Dists[0].TopID())
		toks = []int32{out[0].Dists[0].TopID()}
	}
	return o
}

func (o *observed) check(t *testing.T, keys keyKind, name string) {
	t.Helper()
	if o.info.Name != name {
		t.Errorf("name %q, want %q", o.info.Name, name)
	}
	if o.keys != keys {
		t.Errorf("candidates named by %v, want %v", o.keys, keys)
	}
	c := o.info.Caps
	if !c.TokenPrompts || c.FullDist || c.MaxTopK != 20 || o.info.VocabSize != 512 || o.info.BOS != 1 || o.info.EOS != 2 {
		t.Errorf("info %+v", o.info)
	}
	if !slices.Equal(o.greedy, storiesGreedy) {
		t.Errorf("greedy %v\nllama2.c %v", o.greedy, storiesGreedy)
	}
	if len(o.first.Top) != 20 || !o.first.EntropyEstimated || o.first.Full != nil {
		t.Fatalf("first dist: %d candidates, estimated %v", len(o.first.Top), o.first.EntropyEstimated)
	}
	var mass, h float64
	for j, r := range storiesNextLogProbs {
		c := o.first.Top[j]
		if c.ID != r.id || math.Abs(float64(c.LogProb)-r.lp) > lpTol {
			t.Errorf("candidate %d = (%d %v), llama2.c (%d %v)", j, c.ID, c.LogProb, r.id, r.lp)
		}
		p := math.Exp(float64(c.LogProb))
		mass += p
		h -= p * float64(c.LogProb)
	}
	// The estimate: the 20 known terms plus the tail as one outcome.
	tail := 1 - mass
	if h -= tail * math.Log(tail); math.Abs(o.first.Entropy-h) > 1e-6 || math.Abs(o.first.TailMass-tail) > 1e-9 {
		t.Errorf("entropy %v tail %v, want %v and %v", o.first.Entropy, o.first.TailMass, h, tail)
	}
	if o.first.Top[1].Piece != "▁there" {
		t.Errorf("piece of candidate 1: %q", o.first.Top[1].Piece)
	}
	if len(o.clamp.Top) != 20 {
		t.Errorf("TopK 40 on a 20 cap gave %d candidates", len(o.clamp.Top))
	}
	if o.forkA.TopID() != storiesGreedy[1] || len(o.forkB.Top) != 5 {
		t.Errorf("fork: A top %d (want %d), B %d candidates", o.forkA.TopID(), storiesGreedy[1], len(o.forkB.Top))
	}
	if !slices.Equal(o.text, storiesGreedy[:3]) {
		t.Errorf("text prompts: %v, want %v", o.text, storiesGreedy[:3])
	}
}

func TestContractReplay(t *testing.T) {
	for _, r := range recordings {
		t.Run(r.name, func(t *testing.T) {
			rep := remotetest.Replay(t, r.file, nil)
			o := runScenario(t, rep.URL, r.model)
			o.check(t, r.keys, r.infoName)
		})
	}
}

// TestRecord re-records the answers of llama-server (/v1) and bacoctl
// serve when BACO_OPENAI_RECORD=1 (see testdata/README.md).
func TestRecord(t *testing.T) {
	if os.Getenv("BACO_OPENAI_RECORD") != "1" {
		t.Skip("set BACO_OPENAI_RECORD=1 (and BACO_LLAMA_SERVER) to re-record the servers' answers")
	}
	for _, r := range recordings {
		t.Run(r.name, func(t *testing.T) {
			var live string
			if r.name == "llama-server" {
				live = remotetest.LlamaServer(t)
			} else {
				live = remotetest.BacoctlServe(t)
			}
			url, rec := remotetest.Record(t, live)
			o := runScenario(t, url, r.model)
			o.check(t, r.keys, r.infoName)
			if t.Failed() {
				t.Fatal("not saving a recording that fails its checks")
			}
			rec.Save(t, filepath.FromSlash(r.file), r.name+" answers recorded by TestRecord; see README.md")
		})
	}
}
