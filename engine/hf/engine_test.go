package hf_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"

	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/engine"
	"github.com/baco-go/baco/engine/gguf"
	"github.com/baco-go/baco/engine/hf"
	"github.com/baco-go/baco/engine/hf/hftest"
	"github.com/baco-go/baco/engine/modelgen"
	"github.com/baco-go/baco/internal/testdata"
)

// quiet silences load-time logging.
var quiet = engine.WithLogger(slog.New(slog.DiscardHandler))

// twinPair writes a random GGUF model and its Hugging Face twin (same
// weights, same vocabulary) and returns both paths.
func twinPair(t testing.TB, o modelgen.Options, to hftest.Options) (ggufPath, dir string) {
	t.Helper()
	ggufPath = modelgen.WriteTemp(t, o)
	f, err := gguf.Open(ggufPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dir = filepath.Join(t.TempDir(), "twin-model")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	hftest.WriteTwin(t, f, dir, to)
	return ggufPath, dir
}

// smallShape is a llama shape small enough for a test, with GQA.
func smallShape(arch string) modelgen.Shape {
	s := modelgen.Shape{Arch: arch, Dim: 64, Layers: 2, Heads: 4, KVHeads: 2, FF: 96, CtxLen: 64, RopeBase: 10000, RMSEps: 1e-5}
	if arch == "qwen2" {
		s.QKVBias, s.RopeBase, s.RMSEps = true, 1e6, 1e-6
	}
	return s
}

var twinTexts = []string{
	"Hello world, this is the one.",
	"<|im_start|>user\nhi<|im_end|>",
	"  spaces\tand\nnewlines 12345 ünïcødé",
	"Once upon a time there was a little girl.",
}

// TestTwinIdenticalToGGUF loads the same random model from GGUF and from
// its Hugging Face twin and requires identical metadata, token ids and
// full next-token distributions at every position (bitwise).
func TestTwinIdenticalToGGUF(t *testing.T) {
	synth, err := modelgen.SyntheticVocab(400)
	if err != nil {
		t.Fatal(err)
	}
	stories := func(t *testing.T) *modelgen.VocabSource {
		v, err := modelgen.VocabFromFile(testdata.Path(t, "models/stories260K.gguf"))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	syn := func(*testing.T) *modelgen.VocabSource { return synth }
	tied := smallShape("llama")
	tied.TiedEmbeddings = true
	qwen := smallShape("qwen2")
	qwen.TiedEmbeddings = true
	for _, c := range []struct {
		name  string
		o     modelgen.Options
		vocab func(*testing.T) *modelgen.VocabSource
		to    hftest.Options
	}{
		{"llama bpe bf16 tied", modelgen.Options{Shape: tied, Type: gguf.TypeBF16, Seed: 1, Scale: 2}, syn, hftest.Options{}},
		{"llama bpe f16 untied sharded", modelgen.Options{Shape: smallShape("llama"), Type: gguf.TypeF16, Seed: 2, Scale: 2}, syn,
			hftest.Options{Shards: 3, PairMerges: true, ChatTemplateFile: true}},
		{"llama spm f32 stories vocab", modelgen.Options{Shape: smallShape("llama"), Type: gguf.TypeF32, Seed: 3, Scale: 2}, stories, hftest.Options{}},
		{"qwen2 bpe bf16 bias", modelgen.Options{Shape: qwen, Type: gguf.TypeBF16, Seed: 4, Scale: 2}, syn, hftest.Options{Shards: 2}},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.o.Vocab = c.vocab(t)
			ggufPath, dir := twinPair(t, c.o, c.to)
			compareEngines(t, ggufPath, dir)
		})
	}
}

func compareEngines(t *testing.T, ggufPath, dir string) {
	t.Helper()
	ctx := context.Background()
	eg, err := engine.LoadPath(ggufPath, engine.WithThreads(1), quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer eg.Close()
	eh, err := engine.LoadPath(dir, engine.WithThreads(1), quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := eh.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	}()
	ig, _ := eg.Info(ctx)
	ih, _ := eh.Info(ctx)
	if ih.Name != "twin-model" {
		t.Errorf("name %q, want the directory name", ih.Name)
	}
	ig.Name, ih.Name = "", ""
	if !reflect.DeepEqual(ig, ih) {
		t.Errorf("info differs:\nGGUF %+v\n  HF %+v", ig, ih)
	}
	for _, text := range twinTexts {
		for _, special := range []bool{false, true} {
			a, _ := eg.Tokenize(ctx, text, special, special)
			b, _ := eh.Tokenize(ctx, text, special, special)
			if !reflect.DeepEqual(a, b) {
				t.Errorf("Tokenize(%q, %v): GGUF %v, HF %v", text, special, a, b)
			}
		}
	}
	ids, _ := eg.Tokenize(ctx, twinTexts[0], true, false)
	sg, _ := eg.Open(ctx)
	sh, _ := eh.Open(ctx)
	step := func(toks []int32) {
		og, err := eg.Step(ctx, []backend.StepInput{{Seq: sg, Tokens: toks, AllPositions: true, TopK: 3}})
		if err != nil {
			t.Fatal(err)
		}
		oh, err := eh.Step(ctx, []backend.StepInput{{Seq: sh, Tokens: toks, AllPositions: true, TopK: 3}})
		if err != nil {
			t.Fatal(err)
		}
		for p := range og[0].Dists {
			dg, dh := og[0].Dists[p], oh[0].Dists[p]
			if len(dg.Full) != ig.VocabSize || len(dh.Full) != ig.VocabSize {
				t.Fatalf("position %d: distributions of %d and %d, want %d", p, len(dg.Full), len(dh.Full), ig.VocabSize)
			}
			for i := range dg.Full {
				if math.Float32bits(dg.Full[i]) != math.Float32bits(dh.Full[i]) {
					t.Fatalf("position %d token %d: GGUF log-prob %v, HF %v", p, i, dg.Full[i], dh.Full[i])
				}
			}
			if !reflect.DeepEqual(dg.Top, dh.Top) || dg.Entropy != dh.Entropy {
				t.Fatalf("position %d: top/entropy differ", p)
			}
		}
	}
	step(ids)
	step([]int32{ids[len(ids)-1]})
}

// TestHFReferenceForward checks LoadHF against an independent float64
// forward pass with transformers' semantics (rotate_half rotary embedding
// on the unpermuted safetensors weights), so that the q/k permutation is
// tested against the HF model definition, not only against the GGUF twin.
func TestHFReferenceForward(t *testing.T) {
	for _, arch := range []string{"llama", "qwen2"} {
		t.Run(arch, func(t *testing.T) {
			synth, err := modelgen.SyntheticVocab(300)
			if err != nil {
				t.Fatal(err)
			}
			_, dir := twinPair(t, modelgen.Options{Shape: smallShape(arch), Type: gguf.TypeF32, Seed: 7, Vocab: synth, Scale: 2}, hftest.Options{})
			ref := newHFRef(t, dir)
			e, err := engine.LoadHF(dir, engine.WithThreads(1), quiet)
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			ctx := context.Background()
			toks := []int32{5, 77, 120, 3, 299, 42, 42, 8}
			s, _ := e.Open(ctx)
			out, err := e.Step(ctx, []backend.StepInput{{Seq: s, Tokens: toks, AllPositions: true}})
			if err != nil {
				t.Fatal(err)
			}
			want := ref.forward(toks)
			worst := 0.0
			for p, d := range out[0].Dists {
				for i, lp := range d.Full {
					worst = max(worst, math.Abs(float64(lp)-want[p][i]))
				}
			}
			if worst > 2e-4 {
				t.Errorf("largest log-prob difference from the HF reference: %g", worst)
			}
		})
	}
}

// hfRef is a naive float64 forward pass of a transformers Llama/Qwen2
// model, read straight from its safetensors and config.json.
type hfRef struct {
	w                                      map[string][]float64
	layers, dim, heads, kvHeads, hd, vocab int
	eps, theta                             float64
	bias, tied                             bool
}

func newHFRef(t *testing.T, dir string) *hfRef {
	t.Helper()
	var cfg struct {
		Hidden  int     `json:"hidden_size"`
		Layers  int     `json:"num_hidden_layers"`
		Heads   int     `json:"num_attention_heads"`
		KV      int     `json:"num_key_value_heads"`
		Eps     float64 `json:"rms_norm_eps"`
		Theta   float64 `json:"rope_theta"`
		Vocab   int     `json:"vocab_size"`
		Tied    bool    `json:"tie_word_embeddings"`
		ModelTy string  `json:"model_type"`
	}
	raw, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	r := &hfRef{w: map[string][]float64{}, layers: cfg.Layers, dim: cfg.Hidden, heads: cfg.Heads, kvHeads: cfg.KV,
		hd: cfg.Hidden / cfg.Heads, vocab: cfg.Vocab, eps: float64(float32(cfg.Eps)), theta: cfg.Theta, bias: cfg.ModelTy == "qwen2", tied: cfg.Tied}
	data, err := os.ReadFile(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(data)
	var hdr map[string]json.RawMessage
	if err := json.Unmarshal(data[8:8+n], &hdr); err != nil {
		t.Fatal(err)
	}
	body := data[8+n:]
	for name, v := range hdr {
		if name == "__metadata__" {
			continue
		}
		var e struct {
			DType   string `json:"dtype"`
			Offsets [2]int `json:"data_offsets"`
		}
		if err := json.Unmarshal(v, &e); err != nil || e.DType != "F32" {
			t.Fatalf("reference: tensor %s: %v %s", name, err, e.DType)
		}
		b := body[e.Offsets[0]:e.Offsets[1]]
		x := make([]float64, len(b)/4)
		for i := range x {
			x[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:])))
		}
		r.w[name] = x
	}
	return r
}

// matVec multiplies the row-major matrix w (rows of len(x)) by x.
func matVec(w, x []float64) []float64 {
	out := make([]float64, len(w)/len(x))
	for i := range out {
		s := 0.0
		for j, xj := range x {
			s += w[i*len(x)+j] * xj
		}
		out[i] = s
	}
	return out
}

func (r *hfRef) rmsNorm(x, w []float64) []float64 {
	ss := 0.0
	for _, v := range x {
		ss += v * v
	}
	inv := 1 / math.Sqrt(ss/float64(len(x))+r.eps)
	out := make([]float64, len(x))
	for i := range x {
		out[i] = x[i] * inv * w[i]
	}
	return out
}

// rope applies transformers' apply_rotary_pos_emb to one head:
// x·cos + rotate_half(x)·sin, with rotate_half(x) = [-x2, x1].
func (r *hfRef) rope(x []float64, pos int) {
	half := r.hd / 2
	for i := range half {
		ang := float64(pos) * math.Pow(r.theta, -float64(2*i)/float64(r.hd))
		c, s := math.Cos(ang), math.Sin(ang)
		a, b := x[i], x[i+half]
		x[i], x[i+half] = a*c-b*s, b*c+a*s
	}
}

func (r *hfRef) forward(toks []int32) [][]float64 {
	emb := r.w["model.embed_tokens.weight"]
	xs := make([][]float64, len(toks))
	for p, id := range toks {
		xs[p] = append([]float64(nil), emb[int(id)*r.dim:(int(id)+1)*r.dim]...)
	}
	for l := range r.layers {
		pre := "model.layers." + strconv.Itoa(l) + "."
		W := func(n string) []float64 { return r.w[pre+n] }
		var ks, vs [][]float64
		outs := make([][]float64, len(toks))
		for p := range toks {
			h := r.rmsNorm(xs[p], W("input_layernorm.weight"))
			q, k, v := matVec(W("self_attn.q_proj.weight"), h), matVec(W("self_attn.k_proj.weight"), h), matVec(W("self_attn.v_proj.weight"), h)
			if r.bias {
				for i := range q {
					q[i] += W("self_attn.q_proj.bias")[i]
				}
				for i := range k {
					k[i] += W("self_attn.k_proj.bias")[i]
					v[i] += W("self_attn.v_proj.bias")[i]
				}
			}
			for hh := range r.heads {
				r.rope(q[hh*r.hd:(hh+1)*r.hd], p)
			}
			for hh := range r.kvHeads {
				r.rope(k[hh*r.hd:(hh+1)*r.hd], p)
			}
			ks, vs = append(ks, k), append(vs, v)
			att := make([]float64, r.heads*r.hd)
			for hh := range r.heads {
				kv := hh / (r.heads / r.kvHeads)
				sc := make([]float64, p+1)
				mx := math.Inf(-1)
				for j := 0; j <= p; j++ {
					s := 0.0
					for i := range r.hd {
						s += q[hh*r.hd+i] * ks[j][kv*r.hd+i]
					}
					sc[j] = s / math.Sqrt(float64(r.hd))
					mx = max(mx, sc[j])
				}
				sum := 0.0
				for j := range sc {
					sc[j] = math.Exp(sc[j] - mx)
					sum += sc[j]
				}
				for j := range sc {
					for i := range r.hd {
						att[hh*r.hd+i] += sc[j] / sum * vs[j][kv*r.hd+i]
					}
				}
			}
			outs[p] = matVec(W("self_attn.o_proj.weight"), att)
		}
		for p := range toks {
			for i := range xs[p] {
				xs[p][i] += outs[p][i]
			}
			h := r.rmsNorm(xs[p], W("post_attention_layernorm.weight"))
			g, u := matVec(W("mlp.gate_proj.weight"), h), matVec(W("mlp.up_proj.weight"), h)
			for i := range g {
				g[i] = g[i] / (1 + math.Exp(-g[i])) * u[i]
			}
			d := matVec(W("mlp.down_proj.weight"), g)
			for i := range xs[p] {
				xs[p][i] += d[i]
			}
		}
	}
	head := r.w["lm_head.weight"]
	if head == nil {
		head = emb
	}
	res := make([][]float64, len(toks))
	for p := range toks {
		logits := matVec(head, r.rmsNorm(xs[p], r.w["model.norm.weight"]))
		mx := math.Inf(-1)
		for _, v := range logits {
			mx = max(mx, v)
		}
		sum := 0.0
		for _, v := range logits {
			sum += math.Exp(v - mx)
		}
		for i := range logits {
			logits[i] -= mx + math.Log(sum)
		}
		res[p] = logits
	}
	return res
}

// TestWriteGGUF converts a twin folder to a GGUF file and checks that the
// engine runs it exactly as it runs the folder.
func TestWriteGGUF(t *testing.T) {
	s := smallShape("llama")
	s.Vocab = 300
	_, dir := twinPair(t, modelgen.Options{Shape: s, Type: gguf.TypeBF16, Seed: 11, Scale: 2}, hftest.Options{})
	out := filepath.Join(t.TempDir(), "converted.gguf")
	if err := hf.WriteGGUF(dir, out); err != nil {
		t.Fatal(err)
	}
	compareEngines(t, out, dir)
}
