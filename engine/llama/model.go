// Package llama is the forward pass of llama-family transformers (Llama,
// Mistral, SmolLM, Llama 3, Qwen2) over GGUF weights kept in their stored
// type: token embedding, RMS-norm, rotary attention with grouped-query heads
// and a per-sequence float32 KV cache, SwiGLU feed-forward, tied or separate
// output head.
//
// One Forward call runs any number of sequences, each appending any number
// of tokens, in one pass over the weights: every new token of every sequence
// is one row of each matrix product.
package llama

import (
	"fmt"
	"math"
	"sync"

	"github.com/baco-go/baco/engine/gguf"
	"github.com/baco-go/baco/engine/tensor"
)

// DefaultChunk is the largest number of token rows one pass over the
// weights processes; longer prefills are split so scratch memory stays
// bounded.
const DefaultChunk = 512

// Model is a loaded llama-family model. Its weights point into the GGUF
// file's data (mmapped), which must stay open while the model is used.
// Forward calls are serialised by an internal mutex.
type Model struct {
	cfg  Config
	pool *tensor.Pool

	tokEmbd *tensor.Matrix
	output  *tensor.Matrix
	outNorm []float32
	layers  []layer

	// invFreq[i] is the angle per position of rotated pair i, before
	// scaling: base^(-2i/Dims) / FreqFactors[i].
	invFreq []float64

	// YaRN correction range (ggml_rope_yarn_corr_dims).
	corrLo, corrHi float64

	chunk int

	mu sync.Mutex
	s  scratch

	// Method values made once, so parallel loops allocate nothing.
	fnRopeStore, fnSwiGLU, fnRMSNorm, fnAttention func(lo, hi int)
}

type layer struct {
	attnNorm, ffnNorm []float32
	wq, wk, wv, wo    *tensor.Matrix
	bq, bk, bv        []float32
	wGate, wUp, wDown *tensor.Matrix
	// The products that share an input, for one MatMuls call each.
	qkv    [3]*tensor.Matrix
	gateUp [2]*tensor.Matrix
}

// Load reads the configuration from f's metadata and loads the model.
func Load(f *gguf.File, pool *tensor.Pool) (*Model, error) {
	cfg, err := ConfigFromGGUF(f)
	if err != nil {
		return nil, err
	}
	return LoadConfig(f, cfg, pool)
}

// LoadConfig loads the model with cfg (from ConfigFromGGUF, possibly with a
// different ContextLen). Every tensor's presence, type and shape is checked
// against cfg; errors name the tensor.
func LoadConfig(f *gguf.File, cfg Config, pool *tensor.Pool) (*Model, error) {
	if pool == nil {
		return nil, fmt.Errorf("llama: load: nil worker pool")
	}
	if cfg.ContextLen < 1 || cfg.ContextLen > maxContextLen {
		return nil, fmt.Errorf("llama: context length %d, want 1..%d: %w", cfg.ContextLen, maxContextLen, ErrShape)
	}
	m := &Model{cfg: cfg, pool: pool, chunk: DefaultChunk}
	ld := loader{f: f}
	m.tokEmbd = ld.matrix("token_embd.weight", cfg.VocabSize, cfg.Dim)
	m.outNorm = ld.vec("output_norm.weight", cfg.Dim)
	if _, ok := f.Tensor("output.weight"); ok {
		m.output = ld.matrix("output.weight", cfg.VocabSize, cfg.Dim)
	} else {
		m.output = m.tokEmbd
	}
	qDim, kvDim := cfg.QDim(), cfg.KVDim()
	m.layers = make([]layer, cfg.Layers)
	for i := range m.layers {
		L := &m.layers[i]
		p := fmt.Sprintf("blk.%d.", i)
		L.attnNorm = ld.vec(p+"attn_norm.weight", cfg.Dim)
		L.wq = ld.matrix(p+"attn_q.weight", qDim, cfg.Dim)
		L.wk = ld.matrix(p+"attn_k.weight", kvDim, cfg.Dim)
		L.wv = ld.matrix(p+"attn_v.weight", kvDim, cfg.Dim)
		L.wo = ld.matrix(p+"attn_output.weight", cfg.Dim, qDim)
		if cfg.QKVBias {
			L.bq = ld.vec(p+"attn_q.bias", qDim)
			L.bk = ld.vec(p+"attn_k.bias", kvDim)
			L.bv = ld.vec(p+"attn_v.bias", kvDim)
		}
		L.ffnNorm = ld.vec(p+"ffn_norm.weight", cfg.Dim)
		L.wGate = ld.matrix(p+"ffn_gate.weight", cfg.FFDim, cfg.Dim)
		L.wUp = ld.matrix(p+"ffn_up.weight", cfg.FFDim, cfg.Dim)
		L.wDown = ld.matrix(p+"ffn_down.weight", cfg.Dim, cfg.FFDim)
		L.qkv = [3]*tensor.Matrix{L.wq, L.wk, L.wv}
		L.gateUp = [2]*tensor.Matrix{L.wGate, L.wUp}
		if ld.err != nil {
			break
		}
	}
	if ld.err != nil {
		return nil, ld.err
	}
	half := cfg.Rope.Dims / 2
	m.invFreq = make([]float64, half)
	for i := range m.invFreq {
		m.invFreq[i] = math.Pow(cfg.Rope.Base, -2*float64(i)/float64(cfg.Rope.Dims))
		if cfg.Rope.FreqFactors != nil {
			m.invFreq[i] /= float64(cfg.Rope.FreqFactors[i])
		}
	}
	if cfg.Rope.ExtFactor != 0 {
		m.corrLo, m.corrHi = yarnCorrDims(cfg.Rope.Dims, cfg.Rope.OrigContext, cfg.Rope.Base, cfg.Rope.BetaFast, cfg.Rope.BetaSlow)
	}
	m.fnRopeStore = m.ropeStoreRange
	m.fnSwiGLU = m.swiGLURange
	m.fnRMSNorm = m.rmsNormRange
	m.fnAttention = m.attentionRange
	return m, nil
}

// Config returns the model configuration.
func (m *Model) Config() Config { return m.cfg }

// SetChunk sets the largest number of token rows one pass over the weights
// processes (DefaultChunk by default); n < 1 restores the default.
func (m *Model) SetChunk(n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if n < 1 {
		n = DefaultChunk
	}
	m.chunk = n
}

// loader fetches tensors, remembering the first error.
type loader struct {
	f   *gguf.File
	err error
}

// matrix returns tensor name as a rows×cols matrix (ggml dims [cols, rows]).
func (ld *loader) matrix(name string, rows, cols int) *tensor.Matrix {
	if ld.err != nil {
		return nil
	}
	ti, ok := ld.f.Tensor(name)
	if !ok {
		ld.err = fmt.Errorf("llama: tensor %s missing: %w", name, ErrShape)
		return nil
	}
	if len(ti.Dims) != 2 || ti.Dims[0] != uint64(cols) || ti.Dims[1] != uint64(rows) {
		ld.err = fmt.Errorf("llama: tensor %s has dims %v, want [%d %d]: %w", name, ti.Dims, cols, rows, ErrShape)
		return nil
	}
	mat, err := tensor.FromTensor(ti)
	if err != nil {
		ld.err = fmt.Errorf("llama: tensor %s: %w", name, err)
		return nil
	}
	return mat
}

// vec returns the 1-D tensor name of n elements, converted to float32.
func (ld *loader) vec(name string, n int) []float32 {
	if ld.err != nil {
		return nil
	}
	ti, ok := ld.f.Tensor(name)
	if !ok {
		ld.err = fmt.Errorf("llama: tensor %s missing: %w", name, ErrShape)
		return nil
	}
	if len(ti.Dims) != 1 || ti.Dims[0] != uint64(n) {
		ld.err = fmt.Errorf("llama: tensor %s has dims %v, want [%d]: %w", name, ti.Dims, n, ErrShape)
		return nil
	}
	v, err := vector(ti, n)
	if err != nil {
		ld.err = err
	}
	return v
}

// vector converts a 1-D tensor of n elements to float32.
func vector(ti *gguf.TensorInfo, n int) ([]float32, error) {
	mat, err := tensor.FromTensor(ti)
	if err != nil {
		return nil, fmt.Errorf("llama: tensor %s: %w", ti.Name, err)
	}
	if mat.Rows != 1 || mat.Cols != n {
		return nil, fmt.Errorf("llama: tensor %s is %d×%d, want a vector of %d: %w", ti.Name, mat.Rows, mat.Cols, n, ErrShape)
	}
	out := make([]float32, n)
	mat.RowF32(0, out)
	for i, x := range out {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil, fmt.Errorf("llama: tensor %s[%d] is %g: %w", ti.Name, i, x, ErrShape)
		}
	}
	return out, nil
}
