package hf

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
)

// Limits on config.json values, far above any llama-family model that fits
// on one machine, so a hostile file cannot size an allocation.
const (
	maxLayers  = 1024
	maxDim     = 1 << 16
	maxFF      = 1 << 18
	maxHeads   = 1024
	maxVocab   = 1 << 22
	maxContext = 1 << 22
)

// archInfo is how one Hugging Face architecture maps onto GGUF.
type archInfo struct {
	gguf    string // general.architecture
	permute bool   // q/k rows permuted for normal rope, as llama.cpp's converter does
	bias    bool   // q/k/v projections carry a bias
}

// architectures are the config.json "architectures" the loader accepts,
// mapped as llama.cpp's convert_hf_to_gguf.py maps them.
var architectures = map[string]archInfo{
	"LlamaForCausalLM":   {gguf: "llama", permute: true},
	"MistralForCausalLM": {gguf: "llama", permute: true},
	"Qwen2ForCausalLM":   {gguf: "qwen2", bias: true},
}

// config is the part of config.json the loader reads.
type config struct {
	Architectures     []string        `json:"architectures"`
	ModelType         string          `json:"model_type"`
	HiddenSize        int             `json:"hidden_size"`
	IntermediateSize  int             `json:"intermediate_size"`
	Layers            int             `json:"num_hidden_layers"`
	Heads             int             `json:"num_attention_heads"`
	KVHeads           int             `json:"num_key_value_heads"`
	HeadDim           int             `json:"head_dim"`
	RMSNormEps        float64         `json:"rms_norm_eps"`
	RopeTheta         float64         `json:"rope_theta"`
	MaxPositions      int             `json:"max_position_embeddings"`
	VocabSize         int             `json:"vocab_size"`
	TieEmbeddings     *bool           `json:"tie_word_embeddings"`
	RopeScaling       json.RawMessage `json:"rope_scaling"`
	AttentionBias     bool            `json:"attention_bias"`
	MLPBias           bool            `json:"mlp_bias"`
	PartialRotary     float64         `json:"partial_rotary_factor"`
	BOSTokenID        json.RawMessage `json:"bos_token_id"`
	EOSTokenID        json.RawMessage `json:"eos_token_id"`
	PadTokenID        json.RawMessage `json:"pad_token_id"`
	NameOrPath        string          `json:"_name_or_path"`
	UseSlidingWindow  bool            `json:"use_sliding_window"`
	HiddenAct         string          `json:"hidden_act"`
	arch              archInfo
	archName          string
	headDimExplicit   bool
	ropeScalingType   string
	ropeFactor        float64
	ropeOrigContext   int
	ropeLowFreq       float64
	ropeHighFreq      float64
	ropeAttnFactor    float64
	ropeAttnFactorSet bool
}

// parseConfig reads and checks config.json.
func parseConfig(data []byte) (*config, error) {
	var c config
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("config.json: %w", err)
	}
	if len(c.Architectures) == 0 {
		return nil, fmt.Errorf("config.json: no \"architectures\" entry (model_type %q)", c.ModelType)
	}
	c.archName = c.Architectures[0]
	info, ok := architectures[c.archName]
	if !ok {
		return nil, fmt.Errorf("config.json: architecture %q: %w (supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM)", c.archName, ErrUnsupported)
	}
	c.arch = info
	for _, f := range []struct {
		name   string
		v      *int
		lo, hi int
	}{
		{"hidden_size", &c.HiddenSize, 1, maxDim},
		{"intermediate_size", &c.IntermediateSize, 1, maxFF},
		{"num_hidden_layers", &c.Layers, 1, maxLayers},
		{"num_attention_heads", &c.Heads, 1, maxHeads},
	} {
		if *f.v < f.lo || *f.v > f.hi {
			return nil, fmt.Errorf("config.json: %s = %d, want %d..%d", f.name, *f.v, f.lo, f.hi)
		}
	}
	if c.KVHeads == 0 {
		c.KVHeads = c.Heads
	}
	if c.KVHeads < 1 || c.KVHeads > c.Heads || c.Heads%c.KVHeads != 0 {
		return nil, fmt.Errorf("config.json: num_key_value_heads = %d must divide num_attention_heads = %d", c.KVHeads, c.Heads)
	}
	c.headDimExplicit = c.HeadDim != 0
	if !c.headDimExplicit {
		if c.HiddenSize%c.Heads != 0 {
			return nil, fmt.Errorf("config.json: hidden_size %d is not a multiple of num_attention_heads %d and head_dim is absent", c.HiddenSize, c.Heads)
		}
		c.HeadDim = c.HiddenSize / c.Heads
	}
	if c.HeadDim < 2 || c.HeadDim > maxDim || c.HeadDim%2 != 0 {
		return nil, fmt.Errorf("config.json: head_dim = %d, want an even number 2..%d", c.HeadDim, maxDim)
	}
	if c.VocabSize < 0 || c.VocabSize > maxVocab {
		return nil, fmt.Errorf("config.json: vocab_size = %d, want 0..%d", c.VocabSize, maxVocab)
	}
	if c.MaxPositions < 0 || c.MaxPositions > maxContext {
		return nil, fmt.Errorf("config.json: max_position_embeddings = %d, want 0..%d", c.MaxPositions, maxContext)
	}
	if c.RMSNormEps == 0 {
		c.RMSNormEps = 1e-6 // transformers' LlamaConfig and Qwen2Config default
	}
	if !(c.RMSNormEps > 0) || math.IsInf(c.RMSNormEps, 0) {
		return nil, fmt.Errorf("config.json: rms_norm_eps = %g must be positive", c.RMSNormEps)
	}
	if c.RopeTheta == 0 {
		c.RopeTheta = 10000
	}
	if !(c.RopeTheta > 0) || math.IsInf(c.RopeTheta, 0) {
		return nil, fmt.Errorf("config.json: rope_theta = %g must be positive", c.RopeTheta)
	}
	if c.PartialRotary != 0 && c.PartialRotary != 1 {
		return nil, fmt.Errorf("config.json: partial_rotary_factor %g: %w", c.PartialRotary, ErrUnsupported)
	}
	if c.HiddenAct != "" && c.HiddenAct != "silu" {
		return nil, fmt.Errorf("config.json: hidden_act %q: %w (only silu)", c.HiddenAct, ErrUnsupported)
	}
	if !c.arch.bias && (c.AttentionBias || c.MLPBias) {
		return nil, fmt.Errorf("config.json: %s with attention_bias or mlp_bias: %w", c.archName, ErrUnsupported)
	}
	if c.MLPBias {
		return nil, fmt.Errorf("config.json: mlp_bias: %w", ErrUnsupported)
	}
	if err := c.parseRopeScaling(); err != nil {
		return nil, err
	}
	return &c, nil
}

// parseRopeScaling reads rope_scaling: null, linear, yarn or llama3
// ("type" or "rope_type" names it, as in transformers).
func (c *config) parseRopeScaling() error {
	raw := strings.TrimSpace(string(c.RopeScaling))
	if raw == "" || raw == "null" {
		return nil
	}
	var rs struct {
		Type          string   `json:"type"`
		RopeType      string   `json:"rope_type"`
		Factor        float64  `json:"factor"`
		OrigMax       int      `json:"original_max_position_embeddings"`
		LowFreq       *float64 `json:"low_freq_factor"`
		HighFreq      *float64 `json:"high_freq_factor"`
		AttnFactor    *float64 `json:"attention_factor"`
		BetaFast      *float64 `json:"beta_fast"`
		BetaSlow      *float64 `json:"beta_slow"`
		MScale        *float64 `json:"mscale"`
		MScaleAllDims *float64 `json:"mscale_all_dim"`
	}
	if err := json.Unmarshal(c.RopeScaling, &rs); err != nil {
		return fmt.Errorf("config.json: rope_scaling: %w", err)
	}
	typ := rs.RopeType
	if typ == "" {
		typ = rs.Type
	}
	typ = strings.ToLower(typ)
	if typ == "default" || typ == "" {
		return nil
	}
	if typ != "linear" && typ != "yarn" && typ != "llama3" {
		return fmt.Errorf("config.json: rope_scaling type %q: %w (supported: linear, yarn, llama3)", typ, ErrUnsupported)
	}
	if !(rs.Factor > 0) || math.IsInf(rs.Factor, 0) {
		return fmt.Errorf("config.json: rope_scaling factor %g must be positive", rs.Factor)
	}
	if rs.OrigMax < 0 || rs.OrigMax > maxContext {
		return fmt.Errorf("config.json: rope_scaling original_max_position_embeddings = %d, want 0..%d", rs.OrigMax, maxContext)
	}
	if typ == "yarn" && (rs.BetaFast != nil && *rs.BetaFast != 32 || rs.BetaSlow != nil && *rs.BetaSlow != 1 || rs.MScale != nil || rs.MScaleAllDims != nil) {
		return fmt.Errorf("config.json: yarn rope_scaling with beta_fast/beta_slow/mscale other than the defaults: %w", ErrUnsupported)
	}
	c.ropeScalingType, c.ropeFactor, c.ropeOrigContext = typ, rs.Factor, rs.OrigMax
	c.ropeLowFreq, c.ropeHighFreq = 1, 4
	if rs.LowFreq != nil {
		c.ropeLowFreq = *rs.LowFreq
	}
	if rs.HighFreq != nil {
		c.ropeHighFreq = *rs.HighFreq
	}
	if typ == "llama3" && (c.ropeOrigContext == 0 || !(c.ropeHighFreq > c.ropeLowFreq) || !(c.ropeLowFreq > 0)) {
		return fmt.Errorf("config.json: llama3 rope_scaling needs original_max_position_embeddings and 0 < low_freq_factor < high_freq_factor")
	}
	if rs.AttnFactor != nil {
		c.ropeAttnFactor, c.ropeAttnFactorSet = *rs.AttnFactor, true
	}
	return nil
}

// tokenID reads a config.json *_token_id value: an integer, or nil for
// null, absent, or a list (as llama.cpp's converter ignores lists).
func tokenID(raw json.RawMessage) (int, bool) {
	var id int
	if len(raw) == 0 || json.Unmarshal(raw, &id) != nil || id < 0 {
		return 0, false
	}
	return id, true
}

// llama3RopeFactors computes the rope_freqs tensor llama.cpp's converter
// writes for llama3 rope scaling: per rotated pair, 1 for high
// frequencies, factor for low ones and a smooth mix between.
func (c *config) llama3RopeFactors() []float32 {
	dim := c.HeadDim
	out := make([]float32, dim/2)
	old := float64(c.ropeOrigContext)
	lowWave, highWave := old/c.ropeLowFreq, old/c.ropeHighFreq
	for i := range out {
		// As in the converter, the frequencies are computed in float32.
		freq := float64(float32(1 / math.Pow(c.RopeTheta, float64(float32(2*i)/float32(dim)))))
		wave := 2 * math.Pi / freq
		switch {
		case wave < highWave:
			out[i] = 1
		case wave > lowWave:
			out[i] = float32(c.ropeFactor)
		default:
			smooth := (old/wave - c.ropeLowFreq) / (c.ropeHighFreq - c.ropeLowFreq)
			out[i] = float32(1 / ((1-smooth)/c.ropeFactor + smooth))
		}
	}
	return out
}
