package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"os"
	"testing"

	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/engine/gguf"
	"github.com/baco-go/baco/engine/modelgen"
)

// llamacppRef is llama.cpp's view of one random-weight model written by
// modelgen: the next-token log-probabilities after the prompt "Once upon a
// time" (ids 82 113 102 104 416 304 267 460 in modelgen's synthetic
// vocabulary, as llama-server's /tokenize also gives).
//
// Recorded with ggerganov/llama.cpp @ c392e509 (build 4748):
//
//	llama-server -m model.gguf -t 2 -c 512 -np 1 -ctk f32 -ctv f32
//	POST /completion {"prompt": [82,113,102,104,416,304,267,460], "n_predict": 1,
//	                  "n_probs": 8, "temperature": 0}
//
// (top_logprobs of the first completion token, rounded to 5 decimals).
type llamacppRef struct {
	name   string
	opts   modelgen.Options
	sha256 string // of the file modelgen wrote when recorded
	top    []struct {
		id int32
		lp float64
	}
	// tol is the allowed |Δ log-prob|. F32 and the k-quants agree to the
	// printed precision (observed ≤ 6e-6). llama.cpp rounds activations to
	// bf16 before BF16 dot products (this engine keeps them float32): a
	// relative activation error of ~1e-3 which, through this model's
	// sensitivity of ~4.4 logits per unit relative error (measured in
	// engine/llama's quantisation test), moves log-probs by ~0.005 (observed
	// 0.0028). Q8_0/Q4_0 activations are quantised as llama.cpp does on x86
	// (fp16 scale, ties to even), so those agree to the printed precision.
	tol float64
}

var xShapeQwen = modelgen.Shape{Arch: "qwen2", Dim: 256, Layers: 2, Heads: 4, KVHeads: 2, FF: 512, Vocab: 1000, CtxLen: 512,
	RopeBase: 1e6, RMSEps: 1e-6, TiedEmbeddings: true, QKVBias: true}

func xShapeLlama(heads, kv int) modelgen.Shape {
	return modelgen.Shape{Arch: "llama", Dim: 256, Layers: 3, Heads: heads, KVHeads: kv, FF: 768, Vocab: 1000, CtxLen: 512,
		RopeBase: 10000, RMSEps: 1e-5}
}

type idlp = struct {
	id int32
	lp float64
}

var llamacppRefs = []llamacppRef{
	{"qwen2-F32", modelgen.Options{Shape: xShapeQwen, Type: gguf.TypeF32, Seed: 3, Scale: 1},
		"7dee9a7047957dc817056bf782ecf8060cc14502d880ee6020ce618168734a70",
		[]idlp{{538, -4.13402}, {827, -4.28378}, {160, -4.34871}, {738, -4.35574}, {284, -4.59168}, {559, -4.69016}, {182, -4.73706}, {270, -4.94677}}, 2e-5},
	{"qwen2-Q8_0", modelgen.Options{Shape: xShapeQwen, Type: gguf.TypeQ8_0, Seed: 4, Scale: 1},
		"e59f032f124e0e545fef7843edc072977c4be36d6604a59b274b449f70b5741d",
		[]idlp{{671, -3.78112}, {340, -4.14658}, {902, -4.38205}, {937, -4.80913}, {713, -4.85737}, {480, -4.88151}, {35, -4.88168}, {906, -4.88854}}, 2e-5},
	{"llama-Q4_K", modelgen.Options{Shape: xShapeLlama(4, 1), Type: gguf.TypeQ4_K, Seed: 5, Scale: 1},
		"cb76028df0709573e7a9962802cb3548e5783e4e05ec375b5fbabe597bb311e4",
		[]idlp{{639, -3.51177}, {101, -4.8872}, {229, -4.93882}, {688, -5.02882}, {535, -5.04841}, {309, -5.09424}, {489, -5.1021}, {616, -5.13092}}, 2e-5},
	{"llama-Q6_K", modelgen.Options{Shape: xShapeLlama(4, 2), Type: gguf.TypeQ6_K, Seed: 6, Scale: 1},
		"1a7b674e8840f1fa48cc988af58936091795997ff789cae9577b352028b28efb",
		[]idlp{{343, -4.44729}, {642, -4.54613}, {307, -4.64193}, {979, -4.73595}, {804, -4.7424}, {90, -4.82527}, {383, -4.82754}, {690, -4.97175}}, 2e-5},
	{"llama-Q4_0", modelgen.Options{Shape: xShapeLlama(8, 2), Type: gguf.TypeQ4_0, Seed: 7, Scale: 1},
		"b2ff65ffdae6237290b24b11bc6c6e2b3d0e3f6d526f27c435b74129ed1bd317",
		[]idlp{{527, -2.84107}, {876, -4.26005}, {430, -4.73809}, {964, -4.76334}, {331, -4.88524}, {674, -5.00251}, {626, -5.02316}, {312, -5.05103}}, 2e-5},
	{"llama-BF16", modelgen.Options{Shape: xShapeLlama(8, 2), Type: gguf.TypeBF16, Seed: 8, Scale: 1},
		"7eb86585a5d864a2f2bb6c90411d37cf1a7a179c4766b2f05a366cb17346fba1",
		[]idlp{{779, -4.26894}, {575, -4.62863}, {517, -4.6434}, {245, -4.73914}, {133, -4.77918}, {548, -4.7928}, {987, -4.99916}, {417, -5.02924}}, 0.01},
}

// qwenGreedyText is llama.cpp's greedy continuation (32 tokens) of "Once
// upon a time" on the qwen2-F32 model above (`llama-simple -m model.gguf -n
// 32 "Once upon a time"`, f16 KV cache): random weights, so gibberish, but
// 32 positions of NeoX rope, q/k/v bias and GQA that must agree.
const qwenGreedyText = " tw twplplplsoun wher li li lilivyo each\x18othsmall\x8d\x8d\x8d wer al ther seewilyo\xc6\xe2 canwilwilwilwil"

func TestMatchesLlamaCpp(t *testing.T) {
	ctx := context.Background()
	for _, ref := range llamacppRefs {
		t.Run(ref.name, func(t *testing.T) {
			path := modelgen.WriteTemp(t, ref.opts)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != ref.sha256 {
				t.Skipf("modelgen now writes a different file (sha256 %x); re-record the llama.cpp reference values", sum)
			}
			e, err := Load(path, WithThreads(2), WithLogger(discard()))
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			ids, _ := e.Tokenize(ctx, "Once upon a time", true, false)
			want := []int32{82, 113, 102, 104, 416, 304, 267, 460}
			if len(ids) != len(want) {
				t.Fatalf("prompt ids %v, llama.cpp %v", ids, want)
			}
			seq, _ := e.Open(ctx)
			out, err := e.Step(ctx, []backend.StepInput{{Seq: seq, Tokens: ids}})
			if err != nil {
				t.Fatal(err)
			}
			d := out[0].Dists[0]
			worst := 0.0
			for _, w := range ref.top {
				worst = math.Max(worst, math.Abs(float64(d.Full[w.id])-w.lp))
			}
			t.Logf("max |Δ log-prob| vs llama.cpp over its top 8: %.2g (tolerance %g)", worst, ref.tol)
			if worst > ref.tol {
				for _, w := range ref.top {
					t.Logf("id %d: %.5f, llama.cpp %.5f", w.id, d.Full[w.id], w.lp)
				}
				t.Errorf("log-probs differ from llama.cpp by %.3g > %g", worst, ref.tol)
			}
			if ref.name != "qwen2-F32" {
				return
			}
			var gen []int32
			tok := d.TopID()
			for range 32 {
				gen = append(gen, tok)
				out, err := e.Step(ctx, []backend.StepInput{{Seq: seq, Tokens: []int32{tok}, TopK: 1}})
				if err != nil {
					t.Fatal(err)
				}
				tok = out[0].Dists[0].TopID()
			}
			if text, _ := e.Detokenize(ctx, gen); text != qwenGreedyText {
				t.Errorf("greedy text\n got %q\nwant %q (llama.cpp)", text, qwenGreedyText)
			}
		})
	}
}
