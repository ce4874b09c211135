package llama

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/baco-go/baco/engine/gguf"
	"github.com/baco-go/baco/engine/tensor"
)

// genSpec is the shape of a random-weight test model.
type genSpec struct {
	arch                                        string
	layers, dim, ff, heads, kvHeads, vocab, ctx int
	ropeBase                                    float64
	tied                                        bool
	seed                                        uint64
	// edit, when set, changes the metadata before the tensors are added.
	edit func(*gguf.Builder)
}

// genTensor is one tensor of a generated model, in float32.
type genTensor struct {
	name string
	dims []uint64 // ggml order
	data []float32
}

// genWeights draws the weights of spec (see genEach).
func genWeights(spec genSpec) []genTensor {
	var ts []genTensor
	genEach(spec, func(t genTensor) { ts = append(ts, t) })
	return ts
}

// genEach draws the weights of spec one tensor at a time: matrices with
// standard deviation 1/√cols so that activations keep unit scale (uniform,
// which is fast enough to make 135M-parameter benchmark models in a
// second), embeddings with unit deviation, norm weights near 1, biases
// N(0, 0.1²). A tensor's data is not used after emit returns, so large
// models need not be held in float32.
func genEach(spec genSpec, emit func(genTensor)) {
	rng := rand.New(rand.NewPCG(spec.seed, 0x5eed))
	mat := func(name string, rows, cols int, std float64) {
		d := make([]float32, rows*cols)
		// Uniform on [-a, a] has deviation a/√3; two draws per Uint64.
		a := float32(std * math.Sqrt(3) / (1 << 31))
		for i := 0; i < len(d); i += 2 {
			u := rng.Uint64()
			d[i] = float32(int32(u)) * a
			if i+1 < len(d) {
				d[i+1] = float32(int32(u>>32)) * a
			}
		}
		emit(genTensor{name, []uint64{uint64(cols), uint64(rows)}, d})
	}
	vec := func(name string, n int, mean, std float64) {
		d := make([]float32, n)
		for i := range d {
			d[i] = float32(mean + rng.NormFloat64()*std)
		}
		emit(genTensor{name, []uint64{uint64(n)}, d})
	}
	hd := spec.dim / spec.heads
	qDim, kvDim := spec.heads*hd, spec.kvHeads*hd
	mat("token_embd.weight", spec.vocab, spec.dim, 1)
	vec("output_norm.weight", spec.dim, 1, 0.1)
	if !spec.tied {
		mat("output.weight", spec.vocab, spec.dim, 1/math.Sqrt(float64(spec.dim)))
	}
	for l := range spec.layers {
		p := fmt.Sprintf("blk.%d.", l)
		vec(p+"attn_norm.weight", spec.dim, 1, 0.1)
		// Larger q/k weights give peaked, position-dependent attention,
		// so rope and masking errors show in the logits.
		mat(p+"attn_q.weight", qDim, spec.dim, 2/math.Sqrt(float64(spec.dim)))
		mat(p+"attn_k.weight", kvDim, spec.dim, 2/math.Sqrt(float64(spec.dim)))
		mat(p+"attn_v.weight", kvDim, spec.dim, 1/math.Sqrt(float64(spec.dim)))
		if spec.arch == "qwen2" {
			vec(p+"attn_q.bias", qDim, 0, 0.5)
			vec(p+"attn_k.bias", kvDim, 0, 0.5)
			vec(p+"attn_v.bias", kvDim, 0, 0.1)
		}
		mat(p+"attn_output.weight", spec.dim, qDim, 1/math.Sqrt(float64(qDim)))
		vec(p+"ffn_norm.weight", spec.dim, 1, 0.1)
		mat(p+"ffn_gate.weight", spec.ff, spec.dim, 1/math.Sqrt(float64(spec.dim)))
		mat(p+"ffn_up.weight", spec.ff, spec.dim, 1/math.Sqrt(float64(spec.dim)))
		mat(p+"ffn_down.weight", spec.dim, spec.ff, 1/math.Sqrt(float64(spec.ff)))
	}
}

// writeModel writes spec's metadata and weights ts (nil: drawn by genEach
// tensor by tensor) to path, storing every matrix as typ (vectors stay F32,
// as llama.cpp's quantiser keeps them).
func writeModel(tb testing.TB, path string, spec genSpec, ts []genTensor, typ gguf.TensorType) {
	tb.Helper()
	b := gguf.NewBuilder()
	a := spec.arch
	kvs := []struct {
		k string
		v any
	}{
		{"general.architecture", a},
		{a + ".block_count", uint32(spec.layers)},
		{a + ".embedding_length", uint32(spec.dim)},
		{a + ".feed_forward_length", uint32(spec.ff)},
		{a + ".attention.head_count", uint32(spec.heads)},
		{a + ".attention.head_count_kv", uint32(spec.kvHeads)},
		{a + ".attention.layer_norm_rms_epsilon", float32(1e-6)},
		{a + ".rope.freq_base", float32(spec.ropeBase)},
		{a + ".context_length", uint32(spec.ctx)},
	}
	for _, kv := range kvs {
		if err := b.SetKV(kv.k, kv.v); err != nil {
			tb.Fatal(err)
		}
	}
	if spec.edit != nil {
		spec.edit(b)
	}
	add := func(t genTensor) {
		tt := typ
		if len(t.dims) == 1 {
			tt = gguf.TypeF32
		}
		data, err := tensor.Quantize(tt, t.data)
		if err != nil {
			tb.Fatalf("quantize %s to %v: %v", t.name, tt, err)
		}
		if err := b.AddTensor(t.name, tt, t.dims, data); err != nil {
			tb.Fatal(err)
		}
	}
	if ts == nil {
		genEach(spec, add)
	}
	for _, t := range ts {
		add(t)
	}
	if err := b.WriteFile(path); err != nil {
		tb.Fatal(err)
	}
}

// genModel writes a random model of spec stored as typ into a temporary
// folder, loads it and returns it with its file.
func genModel(tb testing.TB, spec genSpec, typ gguf.TensorType, workers int) (*Model, *gguf.File) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), fmt.Sprintf("%s-%v.gguf", spec.arch, typ))
	writeModel(tb, path, spec, nil, typ)
	return openModel(tb, path, workers)
}

func openModel(tb testing.TB, path string, workers int) (*Model, *gguf.File) {
	tb.Helper()
	f, err := gguf.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	pool := tensor.NewPool(workers)
	tb.Cleanup(pool.Close)
	m, err := Load(f, pool)
	if err != nil {
		tb.Fatal(err)
	}
	return m, f
}

// randTokens returns n token ids in [0, vocab).
func randTokens(seed uint64, n, vocab int) []int32 {
	rng := rand.New(rand.NewPCG(seed, 7))
	t := make([]int32, n)
	for i := range t {
		t[i] = int32(rng.IntN(vocab))
	}
	return t
}
