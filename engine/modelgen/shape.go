package modelgen

import (
	"errors"
	"fmt"
)

// ErrShape is wrapped by errors for a Shape that no engine model could have.
var ErrShape = errors.New("modelgen: bad shape")

// Limits on a Shape, the same bounds the engine's loader accepts, so a typo
// cannot ask for an allocation without bound.
const (
	maxLayers  = 1024
	maxDim     = 1 << 16
	maxFF      = 1 << 18
	maxHeads   = 1024
	maxVocab   = 1 << 22
	maxContext = 1 << 22
)

// Shape is the architecture and size of a Llama-family model.
type Shape struct {
	// Arch is the GGUF architecture: "llama" (also used by SmolLM and
	// Mistral) or "qwen2".
	Arch string
	// Dim is the embedding (residual stream) width.
	Dim int
	// Layers is the number of transformer blocks.
	Layers int
	// Heads is the number of query heads; Dim must be a multiple of it.
	Heads int
	// KVHeads is the number of key/value heads; Heads must be a multiple of
	// it.
	KVHeads int
	// FF is the hidden width of the SwiGLU feed-forward block.
	FF int
	// Vocab is the number of tokens. With a VocabSource it may be 0 (take
	// the source's size) and otherwise must equal the source's size.
	Vocab int
	// CtxLen is the context length written to the file (2048 when 0).
	CtxLen int
	// RopeBase is the rotary embedding frequency base (10000 when 0).
	RopeBase float32
	// RMSEps is the RMS-norm epsilon (1e-5 when 0).
	RMSEps float32
	// TiedEmbeddings leaves out output.weight: the output head reuses
	// token_embd.weight.
	TiedEmbeddings bool
	// QKVBias adds attn_{q,k,v}.bias tensors. The engine, like llama.cpp,
	// expects them exactly for Arch "qwen2".
	QKVBias bool
}

// SmolLM2_135M is the shape of HuggingFaceTB/SmolLM2-135M(-Instruct): dim
// 576, 30 layers, 9 query heads, 3 KV heads, FF 1536, vocab 49152, rope base
// 100000, RMS eps 1e-5, tied embeddings. The context is 2048 here (the real
// model's is 8192) to keep KV caches small in tests.
func SmolLM2_135M() Shape {
	return Shape{Arch: "llama", Dim: 576, Layers: 30, Heads: 9, KVHeads: 3, FF: 1536, Vocab: 49152,
		CtxLen: 2048, RopeBase: 100000, RMSEps: 1e-5, TiedEmbeddings: true}
}

// Qwen2_05B is the shape of Qwen/Qwen2-0.5B(-Instruct): dim 896, 24 layers,
// 14 query heads, 2 KV heads, FF 4864, vocab 151936, context 32768, rope base
// 1e6, RMS eps 1e-6, q/k/v bias, tied embeddings.
func Qwen2_05B() Shape {
	return Shape{Arch: "qwen2", Dim: 896, Layers: 24, Heads: 14, KVHeads: 2, FF: 4864, Vocab: 151936,
		CtxLen: 32768, RopeBase: 1e6, RMSEps: 1e-6, TiedEmbeddings: true, QKVBias: true}
}

// Stories260K is the shape of Karpathy's stories260K (the engine's small
// trained test model): dim 64, 5 layers, 8 query heads, 4 KV heads, FF 172,
// vocab 512, context 512, untied output.
func Stories260K() Shape {
	return Shape{Arch: "llama", Dim: 64, Layers: 5, Heads: 8, KVHeads: 4, FF: 172, Vocab: 512,
		CtxLen: 512, RopeBase: 10000, RMSEps: 1e-5}
}

// HeadDim is the width of one attention head (Dim / Heads).
func (s Shape) HeadDim() int { return s.Dim / s.Heads }

// Params is the number of weights the shape holds.
func (s Shape) Params() int64 {
	d, ff, q, kv := int64(s.Dim), int64(s.FF), int64(s.Dim), int64(s.KVHeads*s.HeadDim())
	per := d + d*q + 2*d*kv + q*d + d + 3*d*ff // norms, q, k, v, output, ffn
	if s.QKVBias {
		per += q + 2*kv
	}
	n := int64(s.Layers)*per + int64(s.Vocab)*d + d
	if !s.TiedEmbeddings {
		n += int64(s.Vocab) * d
	}
	return n
}

// withDefaults fills the zero optional fields.
func (s Shape) withDefaults() Shape {
	if s.CtxLen == 0 {
		s.CtxLen = 2048
	}
	if s.RopeBase == 0 {
		s.RopeBase = 10000
	}
	if s.RMSEps == 0 {
		s.RMSEps = 1e-5
	}
	return s
}

// validate checks s (after withDefaults), naming the first bad field.
func (s Shape) validate() error {
	switch s.Arch {
	case "llama", "mistral", "smollm":
		if s.QKVBias {
			return fmt.Errorf("%w: QKVBias with arch %q (the engine expects q/k/v bias only for qwen2)", ErrShape, s.Arch)
		}
	case "qwen2":
		if !s.QKVBias {
			return fmt.Errorf("%w: arch qwen2 needs QKVBias (the engine expects attn_{q,k,v}.bias)", ErrShape)
		}
	default:
		return fmt.Errorf("%w: arch %q (want llama, mistral, smollm or qwen2)", ErrShape, s.Arch)
	}
	for _, f := range []struct {
		name   string
		v, max int
	}{
		{"Dim", s.Dim, maxDim}, {"Layers", s.Layers, maxLayers}, {"Heads", s.Heads, maxHeads},
		{"KVHeads", s.KVHeads, maxHeads}, {"FF", s.FF, maxFF}, {"Vocab", s.Vocab, maxVocab},
		{"CtxLen", s.CtxLen, maxContext},
	} {
		if f.v < 1 || f.v > f.max {
			return fmt.Errorf("%w: %s = %d, want 1..%d", ErrShape, f.name, f.v, f.max)
		}
	}
	if s.Dim%s.Heads != 0 {
		return fmt.Errorf("%w: Dim %d is not a multiple of Heads %d", ErrShape, s.Dim, s.Heads)
	}
	if s.HeadDim()%2 != 0 {
		return fmt.Errorf("%w: head width Dim/Heads = %d must be even for rotary embeddings", ErrShape, s.HeadDim())
	}
	if s.Heads%s.KVHeads != 0 {
		return fmt.Errorf("%w: Heads %d is not a multiple of KVHeads %d", ErrShape, s.Heads, s.KVHeads)
	}
	if !(s.RopeBase > 0) || !(s.RMSEps > 0) {
		return fmt.Errorf("%w: RopeBase %g and RMSEps %g must be positive", ErrShape, s.RopeBase, s.RMSEps)
	}
	return nil
}
