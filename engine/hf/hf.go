// Package hf loads a Hugging Face model directory of the Llama family
// (LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM) and presents it
// as an in-memory GGUF file laid out as llama.cpp's convert_hf_to_gguf.py
// would write it, so the engine runs the same tokenizer and forward pass as
// for the converted GGUF.
//
// The directory holds config.json; the weights as model.safetensors or
// shards listed by model.safetensors.index.json (F32, F16 or BF16 tensors,
// kept in their stored type and memory-mapped, not copied); tokenizer.json;
// and optionally tokenizer_config.json (special tokens, add_bos, chat
// template) and chat_template.jinja.
//
// Weights: HF tensor names map to GGUF names (model.embed_tokens.weight →
// token_embd.weight, model.layers.N.self_attn.q_proj.weight →
// blk.N.attn_q.weight, ...); a missing lm_head means tied embeddings. For
// llama-architecture models the q and k projection rows are permuted as the
// converter permutes them (so the engine's normal rope applies); those two
// matrices per layer are the only copies made.
//
// Tokenizers: tokenizer.json with a BPE model, either
//   - byte-level (GPT-2 style; GGUF model "gpt2"): the pre-tokenizer is
//     recognised from its structure as GPT-2, SmolLM/StarCoder (digits +
//     byte-level), Llama 3 or Qwen2, or
//   - SentencePiece-style (byte_fallback, spaces as "▁", as in Llama 2's
//     tokenizer.json; GGUF model "llama"): the scores SentencePiece needs
//     are derived from the merge order.
//
// Unigram, WordPiece and WordLevel models, and pre-tokenizers outside those
// families, are refused with an error wrapping ErrUnsupported.
package hf

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/baco-go/baco/engine/gguf"
)

// ErrUnsupported is wrapped by errors for model directories this package
// cannot load (architecture, tokenizer kind, tensor type, ...).
var ErrUnsupported = errors.New("not supported by the Hugging Face loader")

// File names inside a model directory.
const (
	ConfigFile          = "config.json"
	WeightsFile         = "model.safetensors"
	WeightsIndexFile    = "model.safetensors.index.json"
	TokenizerFile       = "tokenizer.json"
	TokenizerConfigFile = "tokenizer_config.json"
	ChatTemplateFile    = "chat_template.jinja"
)

// Size limits on the JSON files read, so a hostile directory cannot make
// the loader read without bound.
const (
	maxConfigBytes    = 4 << 20
	maxIndexBytes     = 64 << 20
	maxTokenizerBytes = 512 << 20
	maxTemplateBytes  = 4 << 20
	maxShards         = 4096
)

// Model is a model directory opened as a GGUF file. Its tensors point into
// memory-mapped safetensors files, released by Close.
type Model struct {
	file   *gguf.File
	shards []*stFile
}

// File returns the model as a GGUF file (metadata and tensors as
// llama.cpp's converter would write them). It must not be used after
// Close.
func (m *Model) File() *gguf.File { return m.file }

// Close releases the weight mappings. It is safe to call twice.
func (m *Model) Close() error {
	var first error
	for _, s := range m.shards {
		if err := s.close(); err != nil && first == nil {
			first = fmt.Errorf("hf: unmap %s: %w", s.path, err)
		}
	}
	return first
}

// IsModelDir reports whether path is a directory holding a config.json.
func IsModelDir(path string) bool {
	st, err := os.Stat(path)
	if err != nil || !st.IsDir() {
		return false
	}
	_, err = os.Stat(filepath.Join(path, ConfigFile))
	return err == nil
}

// Open loads the model directory dir. Errors name the file and, where one
// is at fault, the tensor or key.
func Open(dir string) (*Model, error) {
	b, shards, err := build(dir)
	if err != nil {
		for _, s := range shards {
			_ = s.close()
		}
		return nil, fmt.Errorf("hf: %s: %w", dir, err)
	}
	return &Model{file: b.File(), shards: shards}, nil
}

// WriteGGUF converts the model directory dir into a GGUF file at path (the
// weights in their stored type), as Open presents it.
func WriteGGUF(dir, path string) error {
	m, err := Open(dir)
	if err != nil {
		return err
	}
	defer m.Close()
	b, err := gguf.NewBuilderFrom(m.file)
	if err != nil {
		return fmt.Errorf("hf: %w", err)
	}
	if err := b.WriteFile(path); err != nil {
		return fmt.Errorf("hf: %w", err)
	}
	return nil
}

// build assembles the GGUF builder; on error the shards opened so far are
// returned for the caller to close.
func build(dir string) (*gguf.Builder, []*stFile, error) {
	raw, err := readLimited(filepath.Join(dir, ConfigFile), maxConfigBytes)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, fmt.Errorf("no %s, so not a Hugging Face model directory: %w", ConfigFile, err)
	}
	if err != nil {
		return nil, nil, err
	}
	cfg, err := parseConfig(raw)
	if err != nil {
		return nil, nil, err
	}
	shards, err := openWeights(dir)
	if err != nil {
		return nil, shards, err
	}
	tensors, err := mapTensors(cfg, shards)
	if err != nil {
		return nil, shards, err
	}
	var emb *tensorOut
	for i := range tensors {
		if tensors[i].name == "token_embd.weight" {
			emb = &tensors[i]
		}
	}
	if emb == nil || len(emb.dims) != 2 {
		return nil, shards, fmt.Errorf("no 2-D model.embed_tokens.weight tensor in the weights")
	}
	nVocab := int(emb.dims[1])

	tj, tc, tmpl, err := readTokenizer(dir)
	if err != nil {
		return nil, shards, err
	}
	vocab, err := vocabKVs(tj, tc, cfg, tmpl, nVocab)
	if err != nil {
		return nil, shards, err
	}

	name := filepath.Base(filepath.Clean(dir))
	kvs := append(archKVs(cfg, name, tensors, nVocab), vocab...)
	b := gguf.NewBuilder()
	for _, e := range kvs {
		if err := b.SetKV(e.key, e.value); err != nil {
			return nil, shards, err
		}
	}
	for _, t := range tensors {
		if err := b.AddTensor(t.name, t.typ, t.dims, t.data); err != nil {
			return nil, shards, fmt.Errorf("tensor %s (%s): %w", t.name, t.from, err)
		}
	}
	return b, shards, nil
}

// archKVs is the model metadata llama.cpp's converter writes for cfg.
func archKVs(cfg *config, name string, tensors []tensorOut, nVocab int) []kv {
	a := cfg.arch.gguf + "."
	out := []kv{
		{"general.architecture", cfg.arch.gguf},
		{"general.name", name},
		{a + "block_count", uint32(cfg.Layers)},
	}
	if cfg.MaxPositions > 0 {
		out = append(out, kv{a + "context_length", uint32(cfg.MaxPositions)})
	}
	out = append(out,
		kv{a + "embedding_length", uint32(cfg.HiddenSize)},
		kv{a + "feed_forward_length", uint32(cfg.IntermediateSize)},
		kv{a + "attention.head_count", uint32(cfg.Heads)},
		kv{a + "attention.head_count_kv", uint32(cfg.KVHeads)},
		kv{a + "rope.freq_base", float32(cfg.RopeTheta)},
		kv{a + "attention.layer_norm_rms_epsilon", float32(cfg.RMSNormEps)},
	)
	if cfg.headDimExplicit {
		out = append(out, kv{a + "attention.key_length", uint32(cfg.HeadDim)}, kv{a + "attention.value_length", uint32(cfg.HeadDim)})
	}
	out = append(out,
		kv{a + "vocab_size", uint32(nVocab)},
		kv{a + "rope.dimension_count", uint32(cfg.HeadDim)})
	switch cfg.ropeScalingType {
	case "linear", "yarn":
		out = append(out, kv{a + "rope.scaling.type", cfg.ropeScalingType}, kv{a + "rope.scaling.factor", float32(cfg.ropeFactor)})
		if cfg.ropeOrigContext > 0 {
			out = append(out, kv{a + "rope.scaling.original_context_length", uint32(cfg.ropeOrigContext)})
		}
		if cfg.ropeAttnFactorSet {
			out = append(out, kv{a + "rope.scaling.attn_factor", float32(cfg.ropeAttnFactor)})
		}
	}
	ft := uint32(0)
	for _, t := range tensors {
		if strings.HasSuffix(t.name, "attn_q.weight") {
			switch t.typ {
			case gguf.TypeF16:
				ft = 1
			case gguf.TypeBF16:
				ft = 32
			}
			break
		}
	}
	return append(out, kv{"general.file_type", ft})
}

// openWeights maps model.safetensors, or every shard model.safetensors.index.json lists.
func openWeights(dir string) ([]*stFile, error) {
	single := filepath.Join(dir, WeightsFile)
	if _, err := os.Stat(single); err == nil {
		f, err := openSafetensors(single)
		if err != nil {
			return nil, err
		}
		return []*stFile{f}, nil
	}
	idxPath := filepath.Join(dir, WeightsIndexFile)
	raw, err := readLimited(idxPath, maxIndexBytes)
	if errors.Is(err, os.ErrNotExist) {
		for _, other := range []string{"pytorch_model.bin", "pytorch_model.bin.index.json", "consolidated.safetensors"} {
			if _, err := os.Stat(filepath.Join(dir, other)); err == nil {
				return nil, fmt.Errorf("no %s or %s, only %s: %w (the loader reads Hugging Face safetensors weights)", WeightsFile, WeightsIndexFile, other, ErrUnsupported)
			}
		}
		return nil, fmt.Errorf("no %s or %s", WeightsFile, WeightsIndexFile)
	}
	if err != nil {
		return nil, err
	}
	var idx struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(raw, &idx); err != nil {
		return nil, fmt.Errorf("%s: %w", WeightsIndexFile, err)
	}
	var files []string
	seen := map[string]bool{}
	for tensor, f := range idx.WeightMap {
		if f == "" || f != filepath.Base(f) || f == "." || f == ".." || strings.ContainsAny(f, `/\`) {
			return nil, fmt.Errorf("%s: tensor %q: shard %q is not a file name inside the model directory", WeightsIndexFile, tensor, f)
		}
		if !seen[f] {
			seen[f] = true
			files = append(files, f)
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: empty weight_map", WeightsIndexFile)
	}
	if len(files) > maxShards {
		return nil, fmt.Errorf("%s: %d shards, at most %d", WeightsIndexFile, len(files), maxShards)
	}
	slices.Sort(files)
	var shards []*stFile
	for _, f := range files {
		s, err := openSafetensors(filepath.Join(dir, f))
		if err != nil {
			return shards, err
		}
		shards = append(shards, s)
	}
	for tensor, f := range idx.WeightMap {
		found := false
		for _, s := range shards {
			if filepath.Base(s.path) == f {
				for _, t := range s.tensors {
					found = found || t.Name == tensor
				}
			}
		}
		if !found {
			return shards, fmt.Errorf("%s: tensor %q is listed in %s but absent from it", WeightsIndexFile, tensor, f)
		}
	}
	return shards, nil
}

// readTokenizer reads tokenizer.json, and tokenizer_config.json and
// chat_template.jinja where present.
func readTokenizer(dir string) (*tokenizerJSON, *tokenizerConfig, string, error) {
	raw, err := readLimited(filepath.Join(dir, TokenizerFile), maxTokenizerBytes)
	if errors.Is(err, os.ErrNotExist) {
		if _, serr := os.Stat(filepath.Join(dir, "tokenizer.model")); serr == nil {
			return nil, nil, "", fmt.Errorf("no %s, only a SentencePiece tokenizer.model: %w (the loader reads tokenizer.json)", TokenizerFile, ErrUnsupported)
		}
		return nil, nil, "", fmt.Errorf("no %s", TokenizerFile)
	}
	if err != nil {
		return nil, nil, "", err
	}
	var tj tokenizerJSON
	if err := json.Unmarshal(raw, &tj); err != nil {
		return nil, nil, "", fmt.Errorf("%s: %w", TokenizerFile, err)
	}
	var tc *tokenizerConfig
	raw, err = readLimited(filepath.Join(dir, TokenizerConfigFile), maxTokenizerBytes)
	switch {
	case err == nil:
		tc = new(tokenizerConfig)
		if err := json.Unmarshal(raw, tc); err != nil {
			return nil, nil, "", fmt.Errorf("%s: %w", TokenizerConfigFile, err)
		}
	case !errors.Is(err, os.ErrNotExist):
		return nil, nil, "", err
	}
	tmpl := ""
	raw, err = readLimited(filepath.Join(dir, ChatTemplateFile), maxTemplateBytes)
	switch {
	case err == nil:
		tmpl = string(raw)
	case !errors.Is(err, os.ErrNotExist):
		return nil, nil, "", err
	}
	return &tj, tc, tmpl, nil
}

// readLimited reads a whole file of at most limit bytes.
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than the %d bytes allowed", path, limit)
	}
	return b, nil
}

// tensorOut is one GGUF tensor made from a safetensors tensor.
type tensorOut struct {
	name string
	typ  gguf.TensorType
	dims []uint64
	data []byte
	from string // HF name and file, for errors
}

// layerTensors maps the HF names inside model.layers.N. to GGUF names
// inside blk.N.
var layerTensors = map[string]string{
	"input_layernorm.weight":          "attn_norm.weight",
	"self_attn.q_proj.weight":         "attn_q.weight",
	"self_attn.k_proj.weight":         "attn_k.weight",
	"self_attn.v_proj.weight":         "attn_v.weight",
	"self_attn.q_proj.bias":           "attn_q.bias",
	"self_attn.k_proj.bias":           "attn_k.bias",
	"self_attn.v_proj.bias":           "attn_v.bias",
	"self_attn.o_proj.weight":         "attn_output.weight",
	"post_attention_layernorm.weight": "ffn_norm.weight",
	"mlp.gate_proj.weight":            "ffn_gate.weight",
	"mlp.up_proj.weight":              "ffn_up.weight",
	"mlp.down_proj.weight":            "ffn_down.weight",
}

// ggufName maps an HF tensor name to its GGUF name; skip is true for
// tensors the converter drops (rotary inverse frequencies).
func ggufName(hf string, layers int) (name string, skip bool, err error) {
	switch hf {
	case "model.embed_tokens.weight":
		return "token_embd.weight", false, nil
	case "model.norm.weight":
		return "output_norm.weight", false, nil
	case "lm_head.weight":
		return "output.weight", false, nil
	}
	if rest, ok := strings.CutPrefix(hf, "model.layers."); ok {
		num, suffix, _ := strings.Cut(rest, ".")
		n, err := strconv.Atoi(num)
		if err != nil || n < 0 || strconv.Itoa(n) != num {
			return "", false, fmt.Errorf("tensor %q: bad layer number", hf)
		}
		if n >= layers {
			return "", false, fmt.Errorf("tensor %q: layer %d, but config.json has %d layers", hf, n, layers)
		}
		if suffix == "self_attn.rotary_emb.inv_freq" {
			return "", true, nil
		}
		if g, ok := layerTensors[suffix]; ok {
			return "blk." + num + "." + g, false, nil
		}
	}
	return "", false, fmt.Errorf("tensor %q has no GGUF counterpart in a llama-family model: %w", hf, ErrUnsupported)
}

// mapTensors renames, retypes and (for llama q/k) permutes every tensor of
// the shards, in GGUF order (token_embd, output_norm, output, then by
// layer).
func mapTensors(cfg *config, shards []*stFile) ([]tensorOut, error) {
	var out []tensorOut
	seen := map[string]string{}
	for _, s := range shards {
		for _, t := range s.tensors {
			name, skip, err := ggufName(t.Name, cfg.Layers)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", filepath.Base(t.File), err)
			}
			if skip {
				continue
			}
			from := fmt.Sprintf("%s in %s", t.Name, t.File)
			if prev, dup := seen[name]; dup {
				return nil, fmt.Errorf("tensor %s: also given as %s", from, prev)
			}
			seen[name] = from
			typ, ok := ggmlTypes[t.DType]
			if !ok {
				return nil, fmt.Errorf("tensor %s: dtype %s: %w (F32, F16 and BF16 are)", from, t.DType, ErrUnsupported)
			}
			if len(t.Shape) == 0 || len(t.Shape) > 2 {
				return nil, fmt.Errorf("tensor %s: shape %v, want 1 or 2 dims", from, t.Shape)
			}
			dims := make([]uint64, len(t.Shape))
			for i, d := range t.Shape {
				dims[len(dims)-1-i] = d
			}
			data := t.Data
			if cfg.arch.permute {
				heads := 0
				switch {
				case strings.HasSuffix(name, ".attn_q.weight"), strings.HasSuffix(name, ".attn_q.bias"):
					heads = cfg.Heads
				case strings.HasSuffix(name, ".attn_k.weight"), strings.HasSuffix(name, ".attn_k.bias"):
					heads = cfg.KVHeads
				}
				if heads > 0 {
					if data, err = permuteRows(t, heads); err != nil {
						return nil, fmt.Errorf("tensor %s: %w", from, err)
					}
				}
			}
			out = append(out, tensorOut{name: name, typ: typ, dims: dims, data: data, from: from})
		}
	}
	if cfg.ropeScalingType == "llama3" {
		f := cfg.llama3RopeFactors()
		buf := make([]byte, 4*len(f))
		for i, x := range f {
			putF32(buf[4*i:], x)
		}
		out = append(out, tensorOut{name: "rope_freqs.weight", typ: gguf.TypeF32, dims: []uint64{uint64(len(f))}, data: buf, from: "rope_scaling in config.json"})
	}
	sortTensors(out)
	return out, nil
}

// tensorOrder ranks GGUF names: global tensors first, then by layer.
func tensorOrder(name string) (int, string) {
	switch name {
	case "rope_freqs.weight":
		return -4, name
	case "token_embd.weight":
		return -3, name
	case "output_norm.weight":
		return -2, name
	case "output.weight":
		return -1, name
	}
	rest, _ := strings.CutPrefix(name, "blk.")
	num, suffix, _ := strings.Cut(rest, ".")
	n, _ := strconv.Atoi(num)
	return n, suffix
}

// sortTensors orders tensors by tensorOrder.
func sortTensors(ts []tensorOut) {
	slices.SortStableFunc(ts, func(a, b tensorOut) int {
		la, sa := tensorOrder(a.name)
		lb, sb := tensorOrder(b.name)
		if la != lb {
			return la - lb
		}
		return strings.Compare(sa, sb)
	})
}

// putF32 stores x little-endian in b[:4].
func putF32(b []byte, x float32) { binary.LittleEndian.PutUint32(b, math.Float32bits(x)) }

// permuteRows reorders the rows of a q or k projection (or bias) the way
// llama.cpp's converter does for llama models: within each of heads heads,
// row h·d + 2j + s takes row h·d + s·d/2 + j (d the head width), so that
// rotating consecutive pairs equals HF's rotation of the two halves.
func permuteRows(t stTensor, heads int) ([]byte, error) {
	rows := int(t.Shape[0])
	if rows < 1 || heads < 1 || rows%heads != 0 || (rows/heads)%2 != 0 {
		return nil, fmt.Errorf("%d rows do not split into %d heads of even width", rows, heads)
	}
	rowBytes := len(t.Data) / rows
	d, half := rows/heads, rows/heads/2
	out := make([]byte, len(t.Data))
	for h := range heads {
		for j := range half {
			for s := range 2 {
				dst := h*d + 2*j + s
				src := h*d + s*half + j
				copy(out[dst*rowBytes:(dst+1)*rowBytes], t.Data[src*rowBytes:(src+1)*rowBytes])
			}
		}
	}
	return out, nil
}
