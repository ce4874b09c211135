// Package modelgen writes Llama-family GGUF models with random weights, of
// any shape and in any tensor type the engine supports. It is a tool for
// tests and benchmarks: the models it writes have the layout, metadata and
// size of real ones (SmolLM2-135M, Qwen2-0.5B, ...) but know nothing. It
// never ships a model.
//
// Weights are deterministic in Options.Seed: the same options give a
// byte-identical file on every machine and with any number of cores. They
// are drawn like a real initialisation, normal(0, Scale/√fan_in) for every
// matrix, so activations stay of order one through any number of layers;
// RMS-norm weights are 1 plus small noise.
//
// The vocabulary is copied from an existing GGUF (VocabFromFile), so that a
// random model shares a real model's tokenizer, or synthesised
// (SyntheticVocab) at any size.
//
// WriteTemp, for tests, lives in a non-test file and so imports package
// testing; that is harmless (testing registers its flags only when a test
// binary starts), and modelgen is a test tool that production code does not
// import.
package modelgen

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/baco-go/baco/engine/gguf"
	"github.com/baco-go/baco/engine/tensor"
)

// MaxFileBytes bounds the size of a model Write produces (Write holds the
// encoded tensors in memory until the file is written).
const MaxFileBytes = 16 << 30

// Options describe the model Write generates.
type Options struct {
	// Shape is the architecture and size.
	Shape Shape
	// Type is the tensor type of the 2-D weights: F32 (the zero value),
	// F16, BF16, Q8_0, Q4_0, Q4_K or Q6_K. Norms and biases stay F32. A
	// matrix whose rows do not fill whole blocks of Type falls back, as
	// llama.cpp's quantiser does: Q4_K to Q4_0, Q6_K to Q8_0, then Q8_0 and
	// Q4_0 to F16.
	Type gguf.TensorType
	// Seed selects the weights.
	Seed uint64
	// Vocab is the tokenizer; nil means SyntheticVocab(Shape.Vocab).
	Vocab *VocabSource
	// Scale multiplies the standard deviation of every weight matrix (1
	// when 0). Larger values give peakier next-token distributions.
	Scale float32
	// Name is written as general.name ("modelgen-<arch>-<seed>" when "").
	Name string
	// ChatTemplate, when set, replaces the vocabulary's
	// tokenizer.chat_template.
	ChatTemplate string
}

// fileTypes maps the supported weight types to llama.cpp's general.file_type
// (llama_ftype) values.
var fileTypes = map[gguf.TensorType]uint32{
	gguf.TypeF32: 0, gguf.TypeF16: 1, gguf.TypeQ4_0: 2, gguf.TypeQ8_0: 7,
	gguf.TypeQ4_K: 15, gguf.TypeQ6_K: 18, gguf.TypeBF16: 32,
}

// tensorSpec is one tensor of the model: its name, ggml dims (row length
// first), type, and how its values are drawn.
type tensorSpec struct {
	name string
	dims []uint64
	typ  gguf.TensorType
	// Values are mean + std·N(0,1).
	mean, std float32
}

// Plan returns the tensors Write would generate for o, in file order, as
// name, ggml dims (row length first) and type. It validates o.
func Plan(o Options) ([]gguf.TensorInfo, error) {
	o, _, specs, err := plan(o)
	if err != nil {
		return nil, err
	}
	out := make([]gguf.TensorInfo, len(specs))
	for i, s := range specs {
		out[i] = gguf.TensorInfo{Name: s.name, Dims: s.dims, Type: s.typ}
	}
	return out, nil
}

// plan validates o, fills its defaults and lists the tensors.
func plan(o Options) (Options, *VocabSource, []tensorSpec, error) {
	s := o.Shape.withDefaults()
	if _, ok := fileTypes[o.Type]; !ok {
		return o, nil, nil, fmt.Errorf("modelgen: tensor type %v not supported (want F32, F16, BF16, Q8_0, Q4_0, Q4_K or Q6_K)", o.Type)
	}
	vocab := o.Vocab
	if vocab != nil {
		if s.Vocab == 0 {
			s.Vocab = vocab.Size()
		} else if s.Vocab != vocab.Size() {
			return o, nil, nil, fmt.Errorf("modelgen: shape has vocab %d but the %s has %d tokens", s.Vocab, vocab.from, vocab.Size())
		}
	}
	if err := s.validate(); err != nil {
		return o, nil, nil, err
	}
	if vocab == nil {
		var err error
		if vocab, err = SyntheticVocab(s.Vocab); err != nil {
			return o, nil, nil, err
		}
	}
	if o.Scale == 0 {
		o.Scale = 1
	}
	if !(o.Scale > 0) || math.IsInf(float64(o.Scale), 0) {
		return o, nil, nil, fmt.Errorf("modelgen: Scale %g must be positive and finite", o.Scale)
	}
	o.Shape = s

	d, ff, v := uint64(s.Dim), uint64(s.FF), uint64(s.Vocab)
	q, kv := uint64(s.Heads*s.HeadDim()), uint64(s.KVHeads*s.HeadDim())
	mat := func(name string, rowLen, rows uint64) tensorSpec {
		return tensorSpec{name: name, dims: []uint64{rowLen, rows}, typ: weightType(o.Type, rowLen),
			std: o.Scale / float32(math.Sqrt(float64(rowLen)))}
	}
	norm := func(name string, n uint64) tensorSpec {
		return tensorSpec{name: name, dims: []uint64{n}, typ: gguf.TypeF32, mean: 1, std: 0.02}
	}
	bias := func(name string, n uint64) tensorSpec {
		return tensorSpec{name: name, dims: []uint64{n}, typ: gguf.TypeF32, std: 0.02 * o.Scale}
	}
	specs := []tensorSpec{mat("token_embd.weight", d, v), norm("output_norm.weight", d)}
	if !s.TiedEmbeddings {
		specs = append(specs, mat("output.weight", d, v))
	}
	for i := range s.Layers {
		p := "blk." + strconv.Itoa(i) + "."
		specs = append(specs,
			norm(p+"attn_norm.weight", d),
			mat(p+"attn_q.weight", d, q),
			mat(p+"attn_k.weight", d, kv),
			mat(p+"attn_v.weight", d, kv),
			mat(p+"attn_output.weight", q, d))
		if s.QKVBias {
			specs = append(specs, bias(p+"attn_q.bias", q), bias(p+"attn_k.bias", kv), bias(p+"attn_v.bias", kv))
		}
		specs = append(specs,
			norm(p+"ffn_norm.weight", d),
			mat(p+"ffn_gate.weight", d, ff),
			mat(p+"ffn_up.weight", d, ff),
			mat(p+"ffn_down.weight", ff, d))
	}
	var total uint64
	for _, sp := range specs {
		n, err := sp.typ.RowSize(int(sp.dims[0]))
		if err != nil {
			return o, nil, nil, fmt.Errorf("modelgen: tensor %s: %w", sp.name, err)
		}
		rows := uint64(1)
		if len(sp.dims) == 2 {
			rows = sp.dims[1]
		}
		total += uint64(n) * rows
	}
	if total > MaxFileBytes {
		return o, nil, nil, fmt.Errorf("modelgen: the model would hold %d bytes of tensors, more than the %d Write allows", total, uint64(MaxFileBytes))
	}
	return o, vocab, specs, nil
}

// weightType returns want, or its fallback when rows of rowLen elements do
// not fill whole blocks of it.
func weightType(want gguf.TensorType, rowLen uint64) gguf.TensorType {
	for rowLen%uint64(want.BlockSize()) != 0 {
		switch want {
		case gguf.TypeQ4_K:
			want = gguf.TypeQ4_0
		case gguf.TypeQ6_K:
			want = gguf.TypeQ8_0
		default:
			want = gguf.TypeF16
		}
	}
	return want
}

// Write generates the model o describes and writes it to path (atomically:
// a temporary file renamed over path).
func Write(path string, o Options) error {
	b, err := build(o)
	if err != nil {
		return err
	}
	if err := b.WriteFile(path); err != nil {
		return fmt.Errorf("modelgen: %w", err)
	}
	return nil
}

// build assembles the GGUF in memory.
func build(o Options) (*gguf.Builder, error) {
	o, vocab, specs, err := plan(o)
	if err != nil {
		return nil, err
	}
	s := o.Shape
	name := o.Name
	if name == "" {
		name = fmt.Sprintf("modelgen-%s-%d", s.Arch, o.Seed)
	}
	a := s.Arch + "."
	b := gguf.NewBuilder()
	kvs := []struct {
		key   string
		value any
	}{
		{"general.architecture", s.Arch},
		{"general.name", name},
		{"general.description", fmt.Sprintf("random weights (modelgen seed %d, scale %g): not a trained model", o.Seed, o.Scale)},
		{"general.file_type", fileTypes[o.Type]},
		{a + "vocab_size", uint32(s.Vocab)},
		{a + "context_length", uint32(s.CtxLen)},
		{a + "embedding_length", uint32(s.Dim)},
		{a + "block_count", uint32(s.Layers)},
		{a + "feed_forward_length", uint32(s.FF)},
		{a + "attention.head_count", uint32(s.Heads)},
		{a + "attention.head_count_kv", uint32(s.KVHeads)},
		{a + "rope.dimension_count", uint32(s.HeadDim())},
		{a + "rope.freq_base", s.RopeBase},
		{a + "attention.layer_norm_rms_epsilon", s.RMSEps},
	}
	for _, kv := range kvs {
		if err := b.SetKV(kv.key, kv.value); err != nil {
			return nil, fmt.Errorf("modelgen: %w", err)
		}
	}
	for _, kv := range vocab.kvs {
		if err := b.SetKV(kv.Key, kv.Value); err != nil {
			return nil, fmt.Errorf("modelgen: vocabulary: %w", err)
		}
	}
	if o.ChatTemplate != "" {
		if err := b.SetKV("tokenizer.chat_template", o.ChatTemplate); err != nil {
			return nil, fmt.Errorf("modelgen: %w", err)
		}
	}
	for _, sp := range specs {
		data, err := generate(sp, o.Seed)
		if err != nil {
			return nil, fmt.Errorf("modelgen: tensor %s: %w", sp.name, err)
		}
		if err := b.AddTensor(sp.name, sp.typ, sp.dims, data); err != nil {
			return nil, fmt.Errorf("modelgen: %w", err)
		}
	}
	return b, nil
}

// chunkElems is about how many values one generation task draws. Tasks are
// whole rows; their boundaries depend on the tensor alone, never on the
// number of workers, so the bytes do not either.
const chunkElems = 1 << 16

// generate draws and encodes one tensor. Each chunk of rows has its own PCG
// stream, keyed by the seed, the tensor name and the chunk index, and the
// chunks are encoded in parallel.
func generate(sp tensorSpec, seed uint64) ([]byte, error) {
	rowLen := int(sp.dims[0])
	rows := 1
	if len(sp.dims) == 2 {
		rows = int(sp.dims[1])
	}
	rowBytes, err := sp.typ.RowSize(rowLen)
	if err != nil {
		return nil, err
	}
	out := make([]byte, rowBytes*rows)
	per := max(1, chunkElems/rowLen)
	chunks := (rows + per - 1) / per
	h := fnv.New64a()
	h.Write([]byte(sp.name))
	key := h.Sum64()

	var next atomic.Int64
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), chunks) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]float32, per*rowLen)
			for {
				c := int(next.Add(1) - 1)
				if c >= chunks {
					return
				}
				r0, r1 := c*per, min((c+1)*per, rows)
				vals := buf[:(r1-r0)*rowLen]
				rng := rand.New(rand.NewPCG(seed, key^(uint64(c)*0x9E3779B97F4A7C15)))
				for i := range vals {
					vals[i] = sp.mean + sp.std*float32(rng.NormFloat64())
				}
				enc, err := tensor.Quantize(sp.typ, vals)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				copy(out[r0*rowBytes:r1*rowBytes], enc)
			}
		}()
	}
	wg.Wait()
	return out, firstErr
}
