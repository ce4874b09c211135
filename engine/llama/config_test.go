package llama

import (
	"errors"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/baco-go/baco/engine/gguf"
	"github.com/baco-go/baco/engine/tensor"
)

var tinyLlama = genSpec{arch: "llama", layers: 2, dim: 32, ff: 64, heads: 4, kvHeads: 2, vocab: 50, ctx: 64, ropeBase: 10000, seed: 4}

// loadErr writes spec with tensors ts (edited by change) and returns the
// error of opening and loading it.
func loadErr(t *testing.T, spec genSpec, change func([]genTensor) []genTensor) error {
	t.Helper()
	ts := genWeights(spec)
	if change != nil {
		ts = change(ts)
	}
	path := filepath.Join(t.TempDir(), "m.gguf")
	writeModel(t, path, spec, ts, gguf.TypeF32)
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pool := tensor.NewPool(1)
	defer pool.Close()
	_, err = Load(f, pool)
	return err
}

func setKV(k string, v any) func(*gguf.Builder) {
	return func(b *gguf.Builder) {
		if err := b.SetKV(k, v); err != nil {
			panic(err)
		}
	}
}

func dropTensor(name string) func([]genTensor) []genTensor {
	return func(ts []genTensor) []genTensor {
		return slices.DeleteFunc(ts, func(t genTensor) bool { return t.name == name })
	}
}

func reshape(name string, dims ...uint64) func([]genTensor) []genTensor {
	return func(ts []genTensor) []genTensor {
		for i := range ts {
			if ts[i].name == name {
				n := uint64(1)
				for _, d := range dims {
					n *= d
				}
				ts[i].dims, ts[i].data = dims, make([]float32, n)
			}
		}
		return ts
	}
}

func TestLoadErrors(t *testing.T) {
	qwen := tinyLlama
	qwen.arch = "qwen2"
	withArch := func(a string) genSpec { s := tinyLlama; s.arch = a; return s }
	withEdit := func(s genSpec, e func(*gguf.Builder)) genSpec { s.edit = e; return s }
	cases := []struct {
		name   string
		spec   genSpec
		change func([]genTensor) []genTensor
		want   string
		is     error
	}{
		{"unknown arch", withArch("gpt2"), nil, `architecture "gpt2"`, ErrUnsupported},
		{"missing key", withEdit(tinyLlama, func(b *gguf.Builder) { b.DeleteKV("llama.block_count") }), nil, "metadata llama.block_count missing", ErrShape},
		{"string key", withEdit(tinyLlama, setKV("llama.embedding_length", "32")), nil, "metadata llama.embedding_length = 32 is not an integer", ErrShape},
		{"huge layers", withEdit(tinyLlama, setKV("llama.block_count", uint32(1<<30))), nil, "llama.block_count = 1073741824, want 1..1024", ErrShape},
		{"gqa mismatch", withEdit(tinyLlama, setKV("llama.attention.head_count_kv", uint32(3))), nil, "head_count 4 is not a multiple of head_count_kv 3", ErrShape},
		{"rope scaling", withEdit(tinyLlama, setKV("llama.rope.scaling.type", "longrope")), nil, `rope.scaling.type "longrope"`, ErrUnsupported},
		{"zero eps", withEdit(tinyLlama, setKV("llama.attention.layer_norm_rms_epsilon", float32(0))), nil, "layer_norm_rms_epsilon 0 must be positive", ErrShape},
		{"missing tensor", tinyLlama, dropTensor("blk.1.ffn_up.weight"), "tensor blk.1.ffn_up.weight missing", ErrShape},
		{"missing embedding", tinyLlama, dropTensor("token_embd.weight"), "tensor token_embd.weight missing", ErrShape},
		{"bad matrix dims", tinyLlama, reshape("blk.0.attn_k.weight", 32, 17), "tensor blk.0.attn_k.weight has dims [32 17], want [32 16]", ErrShape},
		{"bad norm dims", tinyLlama, reshape("blk.1.ffn_norm.weight", 31), "tensor blk.1.ffn_norm.weight has dims [31], want [32]", ErrShape},
		{"bad embedding", tinyLlama, reshape("token_embd.weight", 33, 50), "tensor token_embd.weight has dims [33 50]", ErrShape},
		{"bad rope_freqs", tinyLlama, func(ts []genTensor) []genTensor {
			return append(ts, genTensor{"rope_freqs.weight", []uint64{3}, []float32{1, 1, 1}})
		}, "tensor rope_freqs.weight has dims [3], want [4]", ErrShape},
		{"nan norm", tinyLlama, func(ts []genTensor) []genTensor {
			for _, t := range ts {
				if t.name == "output_norm.weight" {
					t.data[5] = float32(math.NaN())
				}
			}
			return ts
		}, "tensor output_norm.weight[5] is NaN", ErrShape},
		{"qwen2 without bias", qwen, dropTensor("blk.0.attn_v.bias"), "tensor blk.0.attn_v.bias missing", ErrShape},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := loadErr(t, tc.spec, tc.change)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
			if !errors.Is(err, tc.is) {
				t.Errorf("error %v does not wrap %v", err, tc.is)
			}
		})
	}
	if err := loadErr(t, tinyLlama, nil); err != nil {
		t.Fatalf("unchanged model: %v", err)
	}
}

func TestRopeScalingConfig(t *testing.T) {
	cases := []struct {
		name string
		kvs  map[string]any
		want Rope
	}{
		{"none", nil, Rope{Scaling: "none", FreqScale: 1}},
		{"linear", map[string]any{"llama.rope.scaling.type": "linear", "llama.rope.scaling.factor": float32(4)}, Rope{Scaling: "linear", FreqScale: 0.25}},
		{"bare factor", map[string]any{"llama.rope.scaling.factor": float32(2)}, Rope{Scaling: "linear", FreqScale: 0.5}},
		{"old linear key", map[string]any{"llama.rope.scale_linear": float32(2)}, Rope{Scaling: "linear", FreqScale: 0.5}},
		{"explicit none", map[string]any{"llama.rope.scaling.type": "none", "llama.rope.scaling.factor": float32(2)}, Rope{Scaling: "none", FreqScale: 1}},
		{"yarn", map[string]any{"llama.rope.scaling.type": "yarn", "llama.rope.scaling.factor": float32(8), "llama.rope.scaling.original_context_length": uint32(16)},
			Rope{Scaling: "yarn", FreqScale: 0.125, ExtFactor: 1, OrigContext: 16}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spec := tinyLlama
			spec.edit = func(b *gguf.Builder) {
				for k, v := range tc.kvs {
					if err := b.SetKV(k, v); err != nil {
						t.Fatal(err)
					}
				}
			}
			m, _ := genModel(t, spec, gguf.TypeF32, 1)
			r := m.Config().Rope
			if r.Scaling != tc.want.Scaling || r.FreqScale != tc.want.FreqScale || r.ExtFactor != tc.want.ExtFactor ||
				(tc.want.OrigContext != 0 && r.OrigContext != tc.want.OrigContext) {
				t.Errorf("rope = %+v, want %+v", r, tc.want)
			}
		})
	}
}

// TestRopeFreqsEqualsLinearScaling: dividing every frequency by 2 with a
// llama3-style rope_freqs tensor is the same rotation as linear scaling by
// factor 2, and differs from no scaling.
func TestRopeFreqsEqualsLinearScaling(t *testing.T) {
	toks := randTokens(8, 20, tinyLlama.vocab)
	logits := func(spec genSpec, extra []genTensor) []float32 {
		ts := append(genWeights(spec), extra...)
		path := filepath.Join(t.TempDir(), "m.gguf")
		writeModel(t, path, spec, ts, gguf.TypeF32)
		m, _ := openModel(t, path, 1)
		return forward1(t, m, m.NewCache(), toks, true)
	}
	half := tinyLlama.dim / tinyLlama.heads / 2
	twos := make([]float32, half)
	for i := range twos {
		twos[i] = 2
	}
	freqs := logits(tinyLlama, []genTensor{{"rope_freqs.weight", []uint64{uint64(half)}, twos}})
	lin := tinyLlama
	lin.edit = func(b *gguf.Builder) {
		b.SetKV("llama.rope.scaling.type", "linear")
		b.SetKV("llama.rope.scaling.factor", float32(2))
	}
	linear := logits(lin, nil)
	plain := logits(tinyLlama, nil)
	if d := firstDiff(freqs, linear); d >= 0 {
		t.Errorf("rope_freqs 2 and linear factor 2 differ at logit %d: %g vs %g", d, freqs[d], linear[d])
	}
	if rmsDiff(freqs, plain) < 1e-3 {
		t.Error("rope_freqs had no effect")
	}
}

// TestYarnAngles checks the YaRN rope table against its definition: pairs
// below the correction range keep the unscaled angle, pairs above it take
// the interpolated (scaled) angle, and both are multiplied by
// 1 + 0.1·ln(factor).
func TestYarnAngles(t *testing.T) {
	spec := genSpec{arch: "llama", layers: 1, dim: 128, ff: 64, heads: 1, kvHeads: 1, vocab: 20, ctx: 4096, ropeBase: 10000, seed: 5}
	spec.edit = func(b *gguf.Builder) {
		b.SetKV("llama.rope.scaling.type", "yarn")
		b.SetKV("llama.rope.scaling.factor", float32(4))
		b.SetKV("llama.rope.scaling.original_context_length", uint32(1024))
	}
	m, _ := genModel(t, spec, gguf.TypeF32, 1)
	// ggml_rope_yarn_corr_dims(128, 1024, 10000, 32, 1): n_dims·ln(1024/(β·2π))/(2·ln 10000)
	// = 128·ln(5.09)/18.42 = 11.3 → floor 11 (β=32); 128·ln(163)/18.42 = 35.4 → ceil 36 (β=1).
	if m.corrLo != 11 || m.corrHi != 36 {
		t.Fatalf("yarn correction dims = %v..%v, want 11..36", m.corrLo, m.corrHi)
	}
	const pos = 1000
	m.s.rowPos = []int32{pos}
	m.s.ensure(m, 1)
	m.ropeTables(1)
	mscale := 1 + 0.1*math.Log(4)
	for _, i := range []int{0, 5, 10, 37, 50, 63} {
		theta := pos * math.Pow(10000, -2*float64(i)/128)
		if i > 36 {
			theta /= 4
		}
		wc, ws := math.Cos(theta)*mscale, math.Sin(theta)*mscale
		if math.Abs(float64(m.s.cos[i])-wc) > 1e-6 || math.Abs(float64(m.s.sin[i])-ws) > 1e-6 {
			t.Errorf("pair %d: cos/sin = %g/%g, want %g/%g", i, m.s.cos[i], m.s.sin[i], wc, ws)
		}
	}
}
