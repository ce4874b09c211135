package llama

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/baco-go/baco/engine/gguf"
)

// ErrUnsupported is wrapped by errors for models this package cannot run
// (unknown architecture, unsupported rope scaling, missing features).
var ErrUnsupported = errors.New("unsupported model")

// ErrShape is wrapped by errors for tensors or metadata whose shape does not
// match the model configuration.
var ErrShape = errors.New("bad model shape")

// Limits on metadata values, so a corrupt or hostile file cannot make Load
// allocate without bound. They are far above any llama-family model that
// fits on one machine.
const (
	maxLayers     = 1024
	maxDim        = 1 << 16
	maxFF         = 1 << 18
	maxHeads      = 1024
	maxHeadDim    = 1024
	maxVocab      = 1 << 22
	maxContextLen = 1 << 22
)

// Config is the shape and hyper-parameters of a llama-family model.
type Config struct {
	// Arch is the architecture named in the file (general.architecture).
	Arch string
	// Layers is the number of transformer blocks.
	Layers int
	// Dim is the embedding (residual stream) width.
	Dim int
	// FFDim is the hidden width of the SwiGLU feed-forward block.
	FFDim int
	// Heads is the number of query heads.
	Heads int
	// KVHeads is the number of key/value heads (Heads for plain multi-head
	// attention, fewer for grouped-query attention).
	KVHeads int
	// HeadDim is the width of one attention head.
	HeadDim int
	// VocabSize is the number of token ids (rows of token_embd).
	VocabSize int
	// ContextLen is the largest number of positions one sequence may hold.
	// It defaults to <arch>.context_length and may be overridden before
	// LoadConfig.
	ContextLen int
	// TrainContextLen is <arch>.context_length as stored in the file.
	TrainContextLen int
	// NormEps is the RMS-norm epsilon.
	NormEps float32
	// QKVBias is true when the q/k/v projections carry a bias (qwen2).
	QKVBias bool
	// Rope describes the rotary position embedding.
	Rope Rope
}

// Rope describes the rotary position embedding of a model, with llama.cpp's
// parameter names and semantics.
type Rope struct {
	// Dims is how many leading dimensions of each head are rotated
	// (<arch>.rope.dimension_count, HeadDim by default).
	Dims int
	// Base is the frequency base (<arch>.rope.freq_base, 10000 by default).
	Base float64
	// NeoX selects the rotation pairing: false rotates consecutive pairs
	// (x[2i], x[2i+1]) as llama.cpp's GGML_ROPE_TYPE_NORM does for llama
	// (whose Q/K weights the converter permuted); true rotates
	// (x[i], x[i+Dims/2]) as GGML_ROPE_TYPE_NEOX does for qwen2.
	NeoX bool
	// Scaling is "none", "linear" or "yarn". A file without
	// rope.scaling.type gets linear scaling by rope.scaling.factor when it
	// has one, as in llama.cpp.
	Scaling string
	// FreqScale multiplies every angle (1/<arch>.rope.scaling.factor, 1 when
	// there is no scaling).
	FreqScale float64
	// OrigContext is the context the rope was trained with, used by YaRN.
	OrigContext int
	// ExtFactor is YaRN's extrapolation mix (1 with YaRN, 0 otherwise).
	ExtFactor float64
	// AttnFactor scales the rotated vectors (<arch>.rope.scaling.attn_factor,
	// 1 by default).
	AttnFactor float64
	// BetaFast and BetaSlow are YaRN's correction bounds (32 and 1, as in
	// llama.cpp's defaults).
	BetaFast, BetaSlow float64
	// FreqFactors, when set (llama3-style rope_freqs tensor), divides the
	// frequency of rotated pair i by FreqFactors[i].
	FreqFactors []float32
}

// KVDim is the width of the keys (and values) of one position and layer.
func (c *Config) KVDim() int { return c.KVHeads * c.HeadDim }

// QDim is the width of the queries of one position (Heads × HeadDim).
func (c *Config) QDim() int { return c.Heads * c.HeadDim }

// archFamily maps an architecture name to the forward pass variant: the
// llama family (normal rope, no bias) or qwen2 (q/k/v bias, NeoX rope).
func archFamily(arch string) (qwen bool, err error) {
	switch arch {
	case "llama", "mistral", "smollm", "llama3":
		return false, nil
	case "qwen2":
		return true, nil
	}
	return false, fmt.Errorf("llama: architecture %q: %w (supported: llama, mistral, smollm, llama3, qwen2)", arch, ErrUnsupported)
}

// ConfigFromGGUF reads the model configuration from a GGUF file's metadata
// and checks it against the token embedding tensor.
func ConfigFromGGUF(f *gguf.File) (Config, error) {
	arch := f.Arch()
	qwen, err := archFamily(arch)
	if err != nil {
		return Config{}, err
	}
	md := meta{f: f, arch: arch}
	c := Config{Arch: arch, QKVBias: qwen}
	c.Layers = md.int("block_count", 0, 1, maxLayers)
	c.Dim = md.int("embedding_length", 0, 1, maxDim)
	c.FFDim = md.int("feed_forward_length", 0, 1, maxFF)
	c.Heads = md.int("attention.head_count", 0, 1, maxHeads)
	c.KVHeads = md.int("attention.head_count_kv", c.Heads, 1, maxHeads)
	if md.err != nil {
		return Config{}, md.err
	}
	if _, has := f.KV(arch + ".attention.key_length"); c.Dim%c.Heads != 0 && !has {
		return Config{}, fmt.Errorf("llama: %s.embedding_length %d is not a multiple of %s.attention.head_count %d: %w", arch, c.Dim, arch, c.Heads, ErrShape)
	}
	c.HeadDim = md.int("attention.key_length", c.Dim/max(c.Heads, 1), 1, maxHeadDim)
	if vl := md.int("attention.value_length", c.HeadDim, 1, maxHeadDim); vl != c.HeadDim && md.err == nil {
		return Config{}, fmt.Errorf("llama: %s.attention.value_length %d differs from key_length %d: %w", arch, vl, c.HeadDim, ErrUnsupported)
	}
	c.TrainContextLen = md.int("context_length", 2048, 1, maxContextLen)
	c.ContextLen = c.TrainContextLen
	c.NormEps = float32(md.float("attention.layer_norm_rms_epsilon", 1e-5))
	r := &c.Rope
	r.Dims = md.int("rope.dimension_count", c.HeadDim, 2, maxHeadDim)
	r.Base = md.float("rope.freq_base", 10000)
	r.NeoX = qwen
	// As in llama.cpp, a missing scaling type means linear, so a bare
	// rope.scaling.factor (or the older rope.scale_linear) applies.
	r.Scaling = md.str("rope.scaling.type", "linear")
	factor := md.float("rope.scaling.factor", 0)
	if factor == 0 {
		factor = md.float("rope.scale_linear", 0)
	}
	r.FreqScale = 1
	if factor != 0 {
		r.FreqScale = 1 / factor
	}
	r.OrigContext = md.int("rope.scaling.original_context_length", c.TrainContextLen, 1, maxContextLen)
	r.AttnFactor = md.float("rope.scaling.attn_factor", 1)
	r.BetaFast, r.BetaSlow = 32, 1
	if md.err != nil {
		return Config{}, md.err
	}
	switch r.Scaling {
	case "none", "":
		r.Scaling, r.FreqScale = "none", 1
	case "linear":
		if r.FreqScale == 1 {
			r.Scaling = "none"
		}
	case "yarn":
		r.ExtFactor = 1
	case "llama3":
		// Converters express llama3 scaling through the rope_freqs tensor.
		r.Scaling, r.FreqScale = "none", 1
	default:
		return Config{}, fmt.Errorf("llama: %s.rope.scaling.type %q: %w (supported: none, linear, yarn)", arch, r.Scaling, ErrUnsupported)
	}
	if r.Dims > c.HeadDim || r.Dims%2 != 0 {
		return Config{}, fmt.Errorf("llama: %s.rope.dimension_count %d must be even and at most the head size %d: %w", arch, r.Dims, c.HeadDim, ErrShape)
	}
	if !qwen && r.Dims != c.HeadDim {
		return Config{}, fmt.Errorf("llama: %s.rope.dimension_count %d differs from the head size %d: %w", arch, r.Dims, c.HeadDim, ErrShape)
	}
	if !(r.Base > 0) || math.IsInf(r.Base, 0) {
		return Config{}, fmt.Errorf("llama: %s.rope.freq_base %g must be positive: %w", arch, r.Base, ErrShape)
	}
	if !(r.FreqScale > 0) || math.IsInf(r.FreqScale, 0) {
		return Config{}, fmt.Errorf("llama: %s.rope.scaling.factor gives frequency scale %g: %w", arch, r.FreqScale, ErrShape)
	}
	if !(c.NormEps > 0) {
		return Config{}, fmt.Errorf("llama: %s.attention.layer_norm_rms_epsilon %g must be positive: %w", arch, c.NormEps, ErrShape)
	}
	if c.Heads%c.KVHeads != 0 {
		return Config{}, fmt.Errorf("llama: %s.attention.head_count %d is not a multiple of head_count_kv %d: %w", arch, c.Heads, c.KVHeads, ErrShape)
	}
	emb, ok := f.Tensor("token_embd.weight")
	if !ok {
		return Config{}, fmt.Errorf("llama: tensor token_embd.weight missing: %w", ErrShape)
	}
	if len(emb.Dims) != 2 || emb.Dims[0] != uint64(c.Dim) || emb.Dims[1] < 1 || emb.Dims[1] > maxVocab {
		return Config{}, fmt.Errorf("llama: tensor token_embd.weight has dims %v, want [%d, vocab ≤ %d]: %w", emb.Dims, c.Dim, maxVocab, ErrShape)
	}
	c.VocabSize = int(emb.Dims[1])
	if ff, ok := f.Tensor("rope_freqs.weight"); ok {
		if len(ff.Dims) != 1 || ff.Dims[0] != uint64(r.Dims/2) {
			return Config{}, fmt.Errorf("llama: tensor rope_freqs.weight has dims %v, want [%d]: %w", ff.Dims, r.Dims/2, ErrShape)
		}
		v, err := vector(ff, r.Dims/2)
		if err != nil {
			return Config{}, err
		}
		for i, x := range v {
			if !(x > 0) || math.IsInf(float64(x), 0) {
				return Config{}, fmt.Errorf("llama: tensor rope_freqs.weight[%d] = %g must be positive: %w", i, x, ErrShape)
			}
		}
		r.FreqFactors = v
	}
	return c, nil
}

// meta reads <arch>.* metadata, remembering the first error.
type meta struct {
	f    *gguf.File
	arch string
	err  error
}

func (m *meta) key(k string) string { return m.arch + "." + k }

// int reads an integer key; def < 1 means the key is required.
func (m *meta) int(k string, def, lo, hi int) int {
	if m.err != nil {
		return def
	}
	key := m.key(k)
	kv, has := m.f.KV(key)
	if !has {
		if def < 1 {
			m.err = fmt.Errorf("llama: metadata %s missing: %w", key, ErrShape)
		}
		return def
	}
	v, ok := m.f.Int(key)
	if !ok {
		m.err = fmt.Errorf("llama: metadata %s = %v is not an integer: %w", key, kv.Value, ErrShape)
		return def
	}
	if v < int64(lo) || v > int64(hi) {
		m.err = fmt.Errorf("llama: metadata %s = %d, want %d..%d: %w", key, v, lo, hi, ErrShape)
		return def
	}
	return int(v)
}

func (m *meta) float(k string, def float64) float64 {
	if m.err != nil {
		return def
	}
	key := m.key(k)
	kv, has := m.f.KV(key)
	if !has {
		return def
	}
	v, ok := m.f.Float(key)
	if !ok {
		m.err = fmt.Errorf("llama: metadata %s = %v is not a number: %w", key, kv.Value, ErrShape)
		return def
	}
	if math.IsNaN(v) {
		m.err = fmt.Errorf("llama: metadata %s is NaN: %w", key, ErrShape)
	}
	return v
}

func (m *meta) str(k string, def string) string {
	if m.err != nil {
		return def
	}
	key := m.key(k)
	kv, has := m.f.KV(key)
	if !has {
		return def
	}
	v, ok := m.f.String(key)
	if !ok {
		m.err = fmt.Errorf("llama: metadata %s = %v is not a string: %w", key, kv.Value, ErrShape)
		return def
	}
	return strings.ToLower(v)
}
