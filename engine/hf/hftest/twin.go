// Package hftest writes Hugging Face model directories for tests: the
// "twin" of a GGUF model, i.e. the directory transformers would hold for the
// model that llama.cpp's converter turned into that GGUF (config.json,
// safetensors with HF tensor names, unpermuted q/k rows and row-major
// shapes, tokenizer.json and tokenizer_config.json in the layouts the
// tokenizers library writes). Tests load both and compare. Like modelgen, it
// imports package testing and is not for production code.
package hftest

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/baco-go/baco/engine/gguf"
)

// Token types as GGUF stores them.
const (
	typeUnknown     = 2
	typeControl     = 3
	typeUserDefined = 4
)

// Options vary the directory WriteTwin writes.
type Options struct {
	// Shards > 1 splits the weights into model-0000i-of-0000n.safetensors
	// files listed by model.safetensors.index.json.
	Shards int
	// PairMerges writes merges as [left, right] pairs (tokenizers ≥ 0.20)
	// instead of "left right" strings.
	PairMerges bool
	// ChatTemplateFile writes the chat template to chat_template.jinja
	// instead of tokenizer_config.json.
	ChatTemplateFile bool
}

// hfNames maps GGUF tensor names (inside blk.N. for layers) back to HF.
var hfNames = map[string]string{
	"attn_norm.weight": "input_layernorm.weight", "attn_q.weight": "self_attn.q_proj.weight",
	"attn_k.weight": "self_attn.k_proj.weight", "attn_v.weight": "self_attn.v_proj.weight",
	"attn_q.bias": "self_attn.q_proj.bias", "attn_k.bias": "self_attn.k_proj.bias", "attn_v.bias": "self_attn.v_proj.bias",
	"attn_output.weight": "self_attn.o_proj.weight", "ffn_norm.weight": "post_attention_layernorm.weight",
	"ffn_gate.weight": "mlp.gate_proj.weight", "ffn_up.weight": "mlp.up_proj.weight", "ffn_down.weight": "mlp.down_proj.weight",
}

// hfTensorName is the transformers name of GGUF tensor name.
func hfTensorName(tb testing.TB, name string) string {
	switch name {
	case "token_embd.weight":
		return "model.embed_tokens.weight"
	case "output_norm.weight":
		return "model.norm.weight"
	case "output.weight":
		return "lm_head.weight"
	}
	rest, ok := strings.CutPrefix(name, "blk.")
	num, suffix, _ := strings.Cut(rest, ".")
	h, known := hfNames[suffix]
	if !ok || !known {
		tb.Fatalf("twin: no HF name for %s", name)
	}
	return "model.layers." + num + "." + h
}

// unpermute undoes llama.cpp's q/k permutation. The converter computes
// w.reshape(heads, 2, d/2, cols).swapaxes(1, 2).reshape(rows, cols): GGUF
// row [h, j, s] (flat h·d + 2j + s) is HF row [h, s, j] (flat
// h·d + s·d/2 + j).
func unpermute(data []byte, rows, heads int) []byte {
	rb := len(data) / rows
	d := rows / heads
	out := make([]byte, len(data))
	for h := range heads {
		for s := range 2 {
			for j := range d / 2 {
				hfRow, ggRow := h*d+s*d/2+j, h*d+2*j+s
				copy(out[hfRow*rb:(hfRow+1)*rb], data[ggRow*rb:(ggRow+1)*rb])
			}
		}
	}
	return out
}

// twinTensor is one tensor to write into a safetensors file.
type twinTensor struct {
	name  string
	dtype string
	shape []uint64
	data  []byte
}

// writeSafetensors writes tensors in the safetensors layout: u64 header
// length, JSON header (padded with spaces to 8 bytes, as the Rust writer
// does), data in tensor order.
func writeSafetensors(tb testing.TB, path string, ts []twinTensor) {
	tb.Helper()
	var hdr bytes.Buffer
	hdr.WriteString(`{"__metadata__":{"format":"pt"}`)
	off := 0
	for _, t := range ts {
		shape, _ := json.Marshal(t.shape)
		fmt.Fprintf(&hdr, `,%q:{"dtype":%q,"shape":%s,"data_offsets":[%d,%d]}`, t.name, t.dtype, shape, off, off+len(t.data))
		off += len(t.data)
	}
	hdr.WriteString("}")
	for hdr.Len()%8 != 0 {
		hdr.WriteByte(' ')
	}
	var out bytes.Buffer
	binary.Write(&out, binary.LittleEndian, uint64(hdr.Len()))
	out.Write(hdr.Bytes())
	for _, t := range ts {
		out.Write(t.data)
	}
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// WriteTwin writes the model of f (F32, F16 or BF16 weights; llama or qwen2;
// a "gpt2" or "llama" vocabulary) as a Hugging Face directory in dir, which
// must exist. It fails the test on error.
func WriteTwin(tb testing.TB, f *gguf.File, dir string, o Options) {
	tb.Helper()
	arch := f.Arch()
	geti := func(k string, def int) int {
		if v, ok := f.Int(arch + "." + k); ok {
			return int(v)
		}
		return def
	}
	heads, layers := geti("attention.head_count", 0), geti("block_count", 0)
	kvHeads := geti("attention.head_count_kv", heads)
	var ts []twinTensor
	dtype := ""
	for _, t := range f.Tensors {
		name := hfTensorName(tb, t.Name)
		dt := map[gguf.TensorType]string{gguf.TypeF32: "F32", gguf.TypeF16: "F16", gguf.TypeBF16: "BF16"}[t.Type]
		if dt == "" {
			tb.Fatalf("twin: tensor %s has type %v; safetensors twins need F32, F16 or BF16", t.Name, t.Type)
		}
		if len(t.Dims) == 2 && dtype == "" {
			dtype = dt
		}
		shape := slices.Clone(t.Dims)
		slices.Reverse(shape)
		data := t.Data
		if arch == "llama" && strings.HasSuffix(t.Name, ".attn_q.weight") {
			data = unpermute(data, int(shape[0]), heads)
		}
		if arch == "llama" && strings.HasSuffix(t.Name, ".attn_k.weight") {
			data = unpermute(data, int(shape[0]), kvHeads)
		}
		ts = append(ts, twinTensor{name, dt, shape, data})
	}
	if o.Shards <= 1 {
		writeSafetensors(tb, filepath.Join(dir, "model.safetensors"), ts)
	} else {
		weightMap := map[string]string{}
		per := (len(ts) + o.Shards - 1) / o.Shards
		for i := range o.Shards {
			name := fmt.Sprintf("model-%05d-of-%05d.safetensors", i+1, o.Shards)
			part := ts[min(i*per, len(ts)):min((i+1)*per, len(ts))]
			for _, t := range part {
				weightMap[t.name] = name
			}
			writeSafetensors(tb, filepath.Join(dir, name), part)
		}
		writeJSON(tb, filepath.Join(dir, "model.safetensors.index.json"), map[string]any{"metadata": map[string]any{"total_size": 0}, "weight_map": weightMap})
	}

	// config.json.
	_, hasOutput := f.Tensor("output.weight")
	emb, _ := f.Tensor("token_embd.weight")
	cfg := map[string]any{
		"hidden_size": geti("embedding_length", 0), "intermediate_size": geti("feed_forward_length", 0),
		"num_hidden_layers": layers, "num_attention_heads": heads, "num_key_value_heads": kvHeads,
		"max_position_embeddings": geti("context_length", 2048), "vocab_size": emb.Dims[1],
		"tie_word_embeddings": !hasOutput, "hidden_act": "silu", "torch_dtype": map[string]string{"F32": "float32", "F16": "float16", "BF16": "bfloat16"}[dtype],
		"transformers_version": "4.42.3", "use_cache": true, "initializer_range": 0.02, "rope_scaling": nil,
	}
	switch arch {
	case "llama":
		cfg["architectures"], cfg["model_type"] = []string{"LlamaForCausalLM"}, "llama"
		cfg["attention_bias"], cfg["mlp_bias"], cfg["pretraining_tp"] = false, false, 1
	case "qwen2":
		cfg["architectures"], cfg["model_type"] = []string{"Qwen2ForCausalLM"}, "qwen2"
		cfg["use_sliding_window"], cfg["sliding_window"] = false, 4096
	default:
		tb.Fatalf("twin: architecture %q", arch)
	}
	if v, ok := f.Float(arch + ".rope.freq_base"); ok {
		cfg["rope_theta"] = v
	} else {
		cfg["rope_theta"] = 10000.0
	}
	if v, ok := f.Float(arch + ".attention.layer_norm_rms_epsilon"); ok {
		cfg["rms_norm_eps"] = v
	}
	toks, _ := f.Strings("tokenizer.ggml.tokens")
	idOf := func(key string) (int, bool) {
		v, ok := f.Uint(key)
		return int(v), ok && v < uint64(len(toks))
	}
	if id, ok := idOf("tokenizer.ggml.bos_token_id"); ok {
		cfg["bos_token_id"] = id
	}
	if id, ok := idOf("tokenizer.ggml.eos_token_id"); ok {
		cfg["eos_token_id"] = id
	}
	writeJSON(tb, filepath.Join(dir, "config.json"), cfg)

	tj, tc := Tokenizer(tb, f, o)
	writeJSON(tb, filepath.Join(dir, "tokenizer.json"), tj)
	if tmpl, ok := f.String("tokenizer.chat_template"); ok {
		if o.ChatTemplateFile {
			if err := os.WriteFile(filepath.Join(dir, "chat_template.jinja"), []byte(tmpl), 0o644); err != nil {
				tb.Fatal(err)
			}
		} else {
			tc["chat_template"] = tmpl
		}
	}
	writeJSON(tb, filepath.Join(dir, "tokenizer_config.json"), tc)
}

// Tokenizer returns the tokenizer.json and tokenizer_config.json objects
// (ready for encoding/json) for f's vocabulary.
func Tokenizer(tb testing.TB, f *gguf.File, o Options) (tj, tc map[string]any) {
	tb.Helper()
	model, _ := f.String("tokenizer.ggml.model")
	toks, _ := f.Strings("tokenizer.ggml.tokens")
	types, _ := f.Int32s("tokenizer.ggml.token_type")
	vocab := make(map[string]int, len(toks))
	for i, t := range toks {
		vocab[t] = i
	}
	var added []map[string]any
	addedToken := func(id int, special bool) {
		added = append(added, map[string]any{"id": id, "content": toks[id], "single_word": false, "lstrip": false,
			"rstrip": false, "normalized": !special, "special": special})
	}
	tc = map[string]any{"model_max_length": 2048, "tokenizer_class": "GPT2Tokenizer", "added_tokens_decoder": map[string]any{}}
	text := func(key string) (string, bool) {
		v, ok := f.Uint(key)
		if !ok || v >= uint64(len(toks)) {
			return "", false
		}
		return toks[v], true
	}
	for _, s := range []struct{ key, name string }{{"tokenizer.ggml.bos_token_id", "bos_token"},
		{"tokenizer.ggml.eos_token_id", "eos_token"}, {"tokenizer.ggml.unknown_token_id", "unk_token"},
		{"tokenizer.ggml.padding_token_id", "pad_token"}} {
		if t, ok := text(s.key); ok {
			tc[s.name] = t
		}
	}
	if b, ok := f.Bool("tokenizer.ggml.add_bos_token"); ok {
		tc["add_bos_token"] = b
	}
	if b, ok := f.Bool("tokenizer.ggml.add_eos_token"); ok {
		tc["add_eos_token"] = b
	}
	m := map[string]any{"type": "BPE", "dropout": nil, "continuing_subword_prefix": nil, "end_of_word_suffix": nil,
		"fuse_unk": false, "vocab": vocab}
	tj = map[string]any{"version": "1.0", "truncation": nil, "padding": nil, "model": m}
	var merges [][2]string
	switch model {
	case "gpt2":
		for i, ty := range types {
			switch ty {
			case typeControl:
				addedToken(i, true)
			case typeUserDefined:
				addedToken(i, false)
			}
		}
		ms, _ := f.Strings("tokenizer.ggml.merges")
		for _, s := range ms {
			l, r, _ := strings.Cut(s, " ")
			merges = append(merges, [2]string{l, r})
		}
		pre, _ := f.String("tokenizer.ggml.pre")
		byteLevel := map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}
		switch pre {
		case "gpt-2", "":
			tj["pre_tokenizer"] = byteLevel
			tc["clean_up_tokenization_spaces"] = true
		case "smollm", "starcoder", "refact":
			// SmolLM2's (and StarCoder's) pre_tokenizer, verbatim.
			tj["pre_tokenizer"] = map[string]any{"type": "Sequence", "pretokenizers": []any{
				map[string]any{"type": "Digits", "individual_digits": true}, byteLevel}}
			tc["clean_up_tokenization_spaces"] = pre != "smollm"
		default:
			tb.Fatalf("twin: pre-tokenizer %q", pre)
		}
		tj["normalizer"] = nil
		tj["post_processor"] = map[string]any{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true}
		tj["decoder"] = map[string]any{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true}
		m["byte_fallback"], m["ignore_merges"], m["unk_token"] = false, false, nil
	case "llama":
		scores, _ := f.Float32s("tokenizer.ggml.scores")
		unk := ""
		for i, ty := range types {
			switch ty {
			case typeControl, typeUnknown:
				addedToken(i, true)
				if ty == typeUnknown {
					unk = toks[i]
				}
			case typeUserDefined:
				addedToken(i, false)
			}
		}
		merges = ExtractMerges(toks, scores)
		// Llama 2's tokenizer.json components, verbatim.
		tj["normalizer"] = map[string]any{"type": "Sequence", "normalizers": []any{
			map[string]any{"type": "Prepend", "prepend": "▁"},
			map[string]any{"type": "Replace", "pattern": map[string]any{"String": " "}, "content": "▁"}}}
		tj["pre_tokenizer"] = nil
		tj["decoder"] = map[string]any{"type": "Sequence", "decoders": []any{
			map[string]any{"type": "Replace", "pattern": map[string]any{"String": "▁"}, "content": " "},
			map[string]any{"type": "ByteFallback"}, map[string]any{"type": "Fuse"},
			map[string]any{"type": "Strip", "content": " ", "start": 1, "stop": 0}}}
		tj["post_processor"] = map[string]any{"type": "TemplateProcessing",
			"single": []any{map[string]any{"SpecialToken": map[string]any{"id": "<s>", "type_id": 0}}, map[string]any{"Sequence": map[string]any{"id": "A", "type_id": 0}}},
			"pair":   []any{}, "special_tokens": map[string]any{}}
		m["byte_fallback"], m["fuse_unk"], m["unk_token"] = true, true, unk
		tc["tokenizer_class"] = "LlamaTokenizer"
		tc["clean_up_tokenization_spaces"] = false
		tc["legacy"] = false
	default:
		tb.Fatalf("twin: tokenizer model %q", model)
	}
	if o.PairMerges {
		m["merges"] = merges
	} else {
		ms := make([]string, len(merges))
		for i, p := range merges {
			ms[i] = p[0] + " " + p[1]
		}
		m["merges"] = ms
	}
	if added == nil {
		added = []map[string]any{}
	}
	tj["added_tokens"] = added
	return tj, tc
}

// ExtractMerges is transformers' SentencePieceExtractor.extract(vocab_scores)
// (convert_slow_tokenizer.py), which makes the merges of Llama's
// tokenizer.json from the SentencePiece model: every split of every piece
// into two pieces of the vocabulary, ordered by the piece's score
// (descending, stable), splits of one piece by the ids of their halves.
func ExtractMerges(toks []string, scores []float32) [][2]string {
	vocab := make(map[string]int, len(toks))
	for i, t := range toks {
		vocab[t] = i
	}
	type merge struct {
		l, r  string
		score float32
	}
	var all []merge
	for i, piece := range toks {
		runes := []rune(piece)
		var local []merge
		for k := 1; k < len(runes); k++ {
			l, r := string(runes[:k]), string(runes[k:])
			if _, ok := vocab[l]; !ok {
				continue
			}
			if _, ok := vocab[r]; !ok {
				continue
			}
			local = append(local, merge{l, r, scores[i]})
		}
		slices.SortStableFunc(local, func(a, b merge) int {
			if vocab[a.l] != vocab[b.l] {
				return vocab[a.l] - vocab[b.l]
			}
			return vocab[a.r] - vocab[b.r]
		})
		all = append(all, local...)
	}
	slices.SortStableFunc(all, func(a, b merge) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return 0
	})
	out := make([][2]string, len(all))
	for i, m := range all {
		out[i] = [2]string{m.l, m.r}
	}
	return out
}

func writeJSON(tb testing.TB, path string, v any) {
	tb.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		tb.Fatal(err)
	}
}
