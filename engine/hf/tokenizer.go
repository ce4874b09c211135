package hf

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Token types as GGUF stores them (llama_token_type).
const (
	typeNormal      = 1
	typeUnknown     = 2
	typeControl     = 3
	typeUserDefined = 4
	typeUnused      = 5
	typeByte        = 6
)

// tokenizerJSON is the part of a tokenizers-library tokenizer.json the
// loader reads.
type tokenizerJSON struct {
	AddedTokens   []addedToken    `json:"added_tokens"`
	Normalizer    json.RawMessage `json:"normalizer"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	PostProcessor json.RawMessage `json:"post_processor"`
	Decoder       json.RawMessage `json:"decoder"`
	Model         struct {
		Type                    string          `json:"type"`
		Vocab                   json.RawMessage `json:"vocab"`
		Merges                  json.RawMessage `json:"merges"`
		ByteFallback            bool            `json:"byte_fallback"`
		IgnoreMerges            bool            `json:"ignore_merges"`
		UnkToken                *string         `json:"unk_token"`
		ContinuingSubwordPrefix *string         `json:"continuing_subword_prefix"`
		EndOfWordSuffix         *string         `json:"end_of_word_suffix"`
	} `json:"model"`
}

// addedToken is one entry of tokenizer.json's added_tokens.
type addedToken struct {
	ID      int    `json:"id"`
	Content string `json:"content"`
	Special bool   `json:"special"`
}

// tokenizerConfig is the part of tokenizer_config.json the loader reads.
type tokenizerConfig struct {
	BOS          json.RawMessage `json:"bos_token"`
	EOS          json.RawMessage `json:"eos_token"`
	UNK          json.RawMessage `json:"unk_token"`
	SEP          json.RawMessage `json:"sep_token"`
	PAD          json.RawMessage `json:"pad_token"`
	CLS          json.RawMessage `json:"cls_token"`
	Mask         json.RawMessage `json:"mask_token"`
	AddBOS       *bool           `json:"add_bos_token"`
	AddEOS       *bool           `json:"add_eos_token"`
	ChatTemplate json.RawMessage `json:"chat_template"`
	CleanUp      *bool           `json:"clean_up_tokenization_spaces"`
}

// kv is one metadata entry to write, in order.
type kv struct {
	key   string
	value any
}

// vocabKVs converts tokenizer.json (+ tokenizer_config.json, config.json's
// special ids, and an optional chat_template.jinja) into the tokenizer.*
// metadata llama.cpp's converter writes. n is the number of token ids (the
// embedding's rows): ids the tokenizer does not define become "[PAD<id>]"
// unused tokens, and tokens with ids beyond n are dropped, as in the
// converter.
func vocabKVs(tj *tokenizerJSON, tc *tokenizerConfig, cfg *config, chatTemplate string, n int) ([]kv, error) {
	typ := tj.Model.Type
	if typ == "" && len(tj.Model.Merges) > 0 {
		typ = "BPE" // old tokenizer.json files omit the type
	}
	if typ != "BPE" {
		return nil, fmt.Errorf("tokenizer.json: model type %q: %w (supported: BPE, byte-level or SentencePiece-style with byte fallback)", typ, ErrUnsupported)
	}
	if tj.Model.ContinuingSubwordPrefix != nil && *tj.Model.ContinuingSubwordPrefix != "" ||
		tj.Model.EndOfWordSuffix != nil && *tj.Model.EndOfWordSuffix != "" {
		return nil, fmt.Errorf("tokenizer.json: BPE with a continuing_subword_prefix or end_of_word_suffix: %w", ErrUnsupported)
	}
	var vocab map[string]int
	if err := json.Unmarshal(tj.Model.Vocab, &vocab); err != nil {
		return nil, fmt.Errorf("tokenizer.json: model.vocab: %w", err)
	}
	merges, err := parseMerges(tj.Model.Merges)
	if err != nil {
		return nil, err
	}
	if n < 1 || n > maxVocab {
		return nil, fmt.Errorf("tokenizer.json: vocabulary of %d ids, want 1..%d", n, maxVocab)
	}
	tokens := make([]string, n)
	types := make([]int32, n)
	set := make([]bool, n)
	for piece, id := range vocab {
		if id < 0 {
			return nil, fmt.Errorf("tokenizer.json: token %q has negative id %d", piece, id)
		}
		if id >= n {
			continue
		}
		if set[id] {
			return nil, fmt.Errorf("tokenizer.json: id %d is given to both %q and %q", id, tokens[id], piece)
		}
		tokens[id], types[id], set[id] = piece, typeNormal, true
	}
	added := map[string]int{} // content → id, first wins as in the converter
	for _, at := range tj.AddedTokens {
		if at.ID < 0 {
			return nil, fmt.Errorf("tokenizer.json: added token %q has negative id %d", at.Content, at.ID)
		}
		if _, dup := added[at.Content]; !dup {
			added[at.Content] = at.ID
		}
		if at.ID >= n {
			continue
		}
		if set[at.ID] && tokens[at.ID] != at.Content {
			return nil, fmt.Errorf("tokenizer.json: added token %q has id %d, which the vocabulary gives to %q", at.Content, at.ID, tokens[at.ID])
		}
		tokens[at.ID], set[at.ID] = at.Content, true
	}
	for id := range tokens {
		if !set[id] {
			tokens[id], types[id] = fmt.Sprintf("[PAD%d]", id), typeUnused
		}
	}

	spm := tj.Model.ByteFallback
	var out []kv
	if spm {
		prefix, err := checkSPMText(tj)
		if err != nil {
			return nil, err
		}
		scores := spmScores(tokens, merges)
		unk := -1
		if tj.Model.UnkToken != nil {
			if id, ok := vocab[*tj.Model.UnkToken]; ok && id < n {
				unk = id
			}
		}
		for id, t := range tokens {
			switch {
			case types[id] == typeUnused:
			case id == unk:
				types[id] = typeUnknown
			case isByteToken(t):
				types[id] = typeByte
			}
		}
		for _, at := range tj.AddedTokens {
			if at.ID < n && at.ID != unk && !isByteToken(at.Content) {
				if at.Special {
					types[at.ID] = typeControl
				} else {
					types[at.ID] = typeUserDefined
				}
			}
		}
		out = append(out,
			kv{"tokenizer.ggml.model", "llama"},
			kv{"tokenizer.ggml.tokens", tokens},
			kv{"tokenizer.ggml.scores", scores},
			kv{"tokenizer.ggml.token_type", types},
			kv{"tokenizer.ggml.add_space_prefix", prefix})
	} else {
		pre, err := bpePre(tj, tc)
		if err != nil {
			return nil, err
		}
		for _, at := range tj.AddedTokens {
			if at.ID >= n {
				continue
			}
			if at.Special || looksSpecial(at.Content) {
				types[at.ID] = typeControl
			} else {
				// As llama.cpp's converter does (for Gemma): user-defined
				// tokens are stored pre-normalised.
				tokens[at.ID] = strings.ReplaceAll(at.Content, "▁", " ")
				types[at.ID] = typeUserDefined
			}
		}
		out = append(out,
			kv{"tokenizer.ggml.model", "gpt2"},
			kv{"tokenizer.ggml.pre", pre},
			kv{"tokenizer.ggml.tokens", tokens},
			kv{"tokenizer.ggml.token_type", types})
	}
	if len(merges) > 0 {
		ms := make([]string, len(merges))
		for i, m := range merges {
			ms[i] = m[0] + " " + m[1]
		}
		out = append(out, kv{"tokenizer.ggml.merges", ms})
	} else if !spm {
		return nil, fmt.Errorf("tokenizer.json: byte-level BPE without merges")
	}
	special, err := specialKVs(tj, tc, cfg, added, n)
	if err != nil {
		return nil, err
	}
	out = append(out, special...)
	if chatTemplate != "" {
		out = append(out, kv{"tokenizer.chat_template", chatTemplate})
	} else if tc != nil {
		tmpls, err := chatTemplates(tc.ChatTemplate)
		if err != nil {
			return nil, err
		}
		out = append(out, tmpls...)
	}
	return out, nil
}

// parseMerges reads model.merges: "left right" strings, or [left, right]
// pairs (tokenizers ≥ 0.20), whose spaces are written as U+0120 as
// llama.cpp's converter does.
func parseMerges(raw json.RawMessage) ([][2]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("tokenizer.json: model.merges: %w", err)
	}
	out := make([][2]string, len(items))
	for i, it := range items {
		var s string
		if err := json.Unmarshal(it, &s); err == nil {
			l, r, ok := strings.Cut(s, " ")
			if !ok || l == "" || r == "" || strings.Contains(r, " ") {
				return nil, fmt.Errorf("tokenizer.json: merge %d %q is not two pieces separated by one space", i, s)
			}
			out[i] = [2]string{l, r}
			continue
		}
		var pair []string
		if err := json.Unmarshal(it, &pair); err != nil || len(pair) != 2 {
			return nil, fmt.Errorf("tokenizer.json: merge %d is neither \"left right\" nor a pair of strings", i)
		}
		for k, p := range pair {
			out[i][k] = strings.ReplaceAll(p, " ", "\u0120")
		}
	}
	return out, nil
}

// spmScores gives each token the score an SPM tokenizer needs to merge in
// the BPE merge order: a piece produced by the merge of rank r scores
// -(r+1), so that higher-priority merges score higher. Pieces no merge
// produces (single characters, bytes, specials) score 0, as SentencePiece
// scores its control and byte pieces. For a tokenizer.json made from a
// SentencePiece BPE model (whose merges are ordered by piece score), this
// reproduces the order of the original scores.
func spmScores(tokens []string, merges [][2]string) []float32 {
	rank := make(map[string]int, len(merges))
	for r, m := range merges {
		p := m[0] + m[1]
		if _, seen := rank[p]; !seen {
			rank[p] = r
		}
	}
	scores := make([]float32, len(tokens))
	for i, t := range tokens {
		if r, ok := rank[t]; ok {
			scores[i] = -float32(r + 1)
		}
	}
	return scores
}

// isByteToken reports whether t is a byte-fallback piece "<0xXX>".
func isByteToken(t string) bool {
	if len(t) != 6 || !strings.HasPrefix(t, "<0x") || t[5] != '>' {
		return false
	}
	for _, c := range t[3:5] {
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'F' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// looksSpecial is llama.cpp's does_token_look_special: added tokens that
// some models forget to mark special.
func looksSpecial(t string) bool {
	switch t {
	case "<pad>", "<mask>", "<2mass>", "[@BOS@]":
		return true
	}
	return strings.HasPrefix(t, "<|") && strings.HasSuffix(t, "|>") ||
		strings.HasPrefix(t, "<｜") && strings.HasSuffix(t, "｜>") ||
		strings.HasPrefix(t, "<unused") && strings.HasSuffix(t, ">")
}

// node is a decoded tokenizer.json component (normalizer, pre-tokenizer,
// decoder).
type node map[string]any

func (n node) str(k string) string { s, _ := n[k].(string); return s }

// flatten lists the components of raw, expanding Sequence nodes; null
// gives none.
func flatten(raw json.RawMessage, what string) ([]node, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var root any
	if err := json.Unmarshal(raw, &root); err != nil {
		return nil, fmt.Errorf("tokenizer.json: %s: %w", what, err)
	}
	var out []node
	var walk func(v any, depth int) error
	walk = func(v any, depth int) error {
		m, ok := v.(map[string]any)
		if !ok || depth > 8 {
			return fmt.Errorf("tokenizer.json: %s: malformed component", what)
		}
		n := node(m)
		if n.str("type") != "Sequence" {
			out = append(out, n)
			return nil
		}
		for _, k := range []string{"pretokenizers", "normalizers", "decoders", "processors"} {
			if list, ok := n[k].([]any); ok {
				for _, c := range list {
					if err := walk(c, depth+1); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}
	return out, walk(root, 0)
}

// Regexes of the Split pre-tokenizers recognised, as tokenizer.json spells
// them.
const (
	hfLlama3 = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	hfQwen2  = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
)

// bpePre names the llama.cpp pre-tokenizer (tokenizer.ggml.pre) that splits
// text as a byte-level tokenizer.json's pre_tokenizer does. llama.cpp's
// converter identifies known tokenizers by hashing their output on a test
// text; this reads the pre_tokenizer's structure instead, which covers the
// same families, and picks among same-regex names by
// clean_up_tokenization_spaces (which llama.cpp's name implies).
func bpePre(tj *tokenizerJSON, tc *tokenizerConfig) (string, error) {
	norms, err := flatten(tj.Normalizer, "normalizer")
	if err != nil {
		return "", err
	}
	for _, n := range norms {
		if t := n.str("type"); t != "NFC" {
			return "", fmt.Errorf("tokenizer.json: byte-level BPE with a %q normalizer: %w", t, ErrUnsupported)
		}
	}
	steps, err := flatten(tj.PreTokenizer, "pre_tokenizer")
	if err != nil {
		return "", err
	}
	var sig []string
	for _, s := range steps {
		switch t := s.str("type"); t {
		case "ByteLevel":
			if b, _ := s["add_prefix_space"].(bool); b {
				return "", fmt.Errorf("tokenizer.json: ByteLevel pre-tokenizer with add_prefix_space: %w", ErrUnsupported)
			}
			if b, ok := s["use_regex"].(bool); !ok || b {
				sig = append(sig, "bytelevel+regex")
			} else {
				sig = append(sig, "bytelevel")
			}
		case "Digits":
			if b, _ := s["individual_digits"].(bool); b {
				sig = append(sig, "digits")
			} else {
				sig = append(sig, "digit-runs")
			}
		case "Split":
			pat, _ := s["pattern"].(map[string]any)
			re, _ := pat["Regex"].(string)
			if re == "" || s.str("behavior") != "Isolated" {
				return "", fmt.Errorf("tokenizer.json: Split pre-tokenizer %v: %w", map[string]any(s), ErrUnsupported)
			}
			switch re {
			case hfLlama3:
				sig = append(sig, "split:llama3")
			case hfQwen2:
				sig = append(sig, "split:qwen2")
			default:
				return "", fmt.Errorf("tokenizer.json: Split pre-tokenizer regex %q is not one llama.cpp implements: %w", re, ErrUnsupported)
			}
		default:
			return "", fmt.Errorf("tokenizer.json: pre-tokenizer %q: %w", t, ErrUnsupported)
		}
	}
	clean := true // transformers' long-standing default
	if tc != nil && tc.CleanUp != nil {
		clean = *tc.CleanUp
	}
	family := strings.Join(sig, " ")
	var pre string
	switch family {
	case "bytelevel+regex":
		pre = "gpt-2"
	case "digits bytelevel+regex":
		pre = "smollm"
		if clean {
			pre = "starcoder"
		}
	case "split:llama3 bytelevel":
		pre = "llama-bpe"
	case "split:qwen2 bytelevel":
		pre = "qwen2"
		if clean {
			pre = "stablelm2"
		}
	default:
		return "", fmt.Errorf("tokenizer.json: pre-tokenizer [%s] is not a byte-level BPE layout this loader recognises (GPT-2; digits + byte-level as SmolLM and StarCoder; Llama 3; Qwen2): %w", family, ErrUnsupported)
	}
	if want := pre == "llama-bpe"; tj.Model.IgnoreMerges != want {
		return "", fmt.Errorf("tokenizer.json: ignore_merges = %v with a %s pre-tokenizer: %w", tj.Model.IgnoreMerges, pre, ErrUnsupported)
	}
	return pre, nil
}

// checkSPMText checks that a byte-fallback BPE tokenizer.json treats text
// as SentencePiece does (spaces as "▁", byte fallback) and returns whether
// it prepends "▁" (add_space_prefix).
func checkSPMText(tj *tokenizerJSON) (bool, error) {
	norms, err := flatten(tj.Normalizer, "normalizer")
	if err != nil {
		return false, err
	}
	pres, err := flatten(tj.PreTokenizer, "pre_tokenizer")
	if err != nil {
		return false, err
	}
	prefix, replaced := false, false
	for _, n := range norms {
		switch n.str("type") {
		case "Prepend":
			if n.str("prepend") != "▁" {
				return false, fmt.Errorf("tokenizer.json: Prepend normalizer %q: %w", n.str("prepend"), ErrUnsupported)
			}
			prefix = true
		case "Replace":
			pat, _ := n["pattern"].(map[string]any)
			if s, _ := pat["String"].(string); s != " " || n.str("content") != "▁" {
				return false, fmt.Errorf("tokenizer.json: Replace normalizer %v: %w", map[string]any(n), ErrUnsupported)
			}
			replaced = true
		case "NFKC", "NFC":
			// SentencePiece models carry their own normalisation rules,
			// which llama.cpp does not apply either.
		default:
			return false, fmt.Errorf("tokenizer.json: %q normalizer with byte fallback: %w", n.str("type"), ErrUnsupported)
		}
	}
	for _, p := range pres {
		if p.str("type") != "Metaspace" {
			return false, fmt.Errorf("tokenizer.json: %q pre-tokenizer with byte fallback: %w", p.str("type"), ErrUnsupported)
		}
		if r := p.str("replacement"); r != "▁" {
			return false, fmt.Errorf("tokenizer.json: Metaspace replacement %q: %w", r, ErrUnsupported)
		}
		if split, ok := p["split"].(bool); ok && split {
			return false, fmt.Errorf("tokenizer.json: Metaspace with split: %w", ErrUnsupported)
		}
		replaced = true
		switch p.str("prepend_scheme") {
		case "first", "always":
			prefix = true
		case "never":
		case "":
			if b, ok := p["add_prefix_space"].(bool); !ok || b {
				prefix = true
			}
		}
	}
	if !replaced {
		return false, fmt.Errorf("tokenizer.json: byte-fallback BPE that does not turn spaces into \"▁\": %w", ErrUnsupported)
	}
	return prefix, nil
}

// specialKVs resolves the special token ids as llama.cpp's SpecialVocab
// does: tokenizer_config.json's <type>_token texts looked up among the
// added tokens, then config.json's <type>_token_id for those still unset;
// add_bos/add_eos from tokenizer_config.json, else from a
// TemplateProcessing post-processor.
func specialKVs(tj *tokenizerJSON, tc *tokenizerConfig, cfg *config, added map[string]int, n int) ([]kv, error) {
	type special struct {
		name, key string
		text      json.RawMessage
		cfgID     json.RawMessage
	}
	var specials []special
	if tc != nil {
		specials = []special{
			{"bos", "tokenizer.ggml.bos_token_id", tc.BOS, nil},
			{"eos", "tokenizer.ggml.eos_token_id", tc.EOS, nil},
			{"unk", "tokenizer.ggml.unknown_token_id", tc.UNK, nil},
			{"sep", "tokenizer.ggml.seperator_token_id", tc.SEP, nil},
			{"pad", "tokenizer.ggml.padding_token_id", tc.PAD, nil},
			{"cls", "tokenizer.ggml.cls_token_id", tc.CLS, nil},
			{"mask", "tokenizer.ggml.mask_token_id", tc.Mask, nil},
		}
	} else {
		specials = []special{{name: "bos", key: "tokenizer.ggml.bos_token_id"}, {name: "eos", key: "tokenizer.ggml.eos_token_id"},
			{name: "unk", key: "tokenizer.ggml.unknown_token_id"}, {name: "pad", key: "tokenizer.ggml.padding_token_id"}}
	}
	if cfg != nil {
		for i := range specials {
			switch specials[i].name {
			case "bos":
				specials[i].cfgID = cfg.BOSTokenID
			case "eos":
				specials[i].cfgID = cfg.EOSTokenID
			case "pad":
				specials[i].cfgID = cfg.PadTokenID
			}
		}
	}
	var out []kv
	texts := map[string]string{}
	for _, s := range specials {
		id := -1
		if t, ok := tokenText(s.text); ok {
			texts[s.name] = t
			if v, ok := added[t]; ok {
				id = v
			}
		}
		if id < 0 {
			if v, ok := tokenID(s.cfgID); ok {
				id = v
			}
		}
		if id >= 0 && id < n {
			out = append(out, kv{s.key, uint32(id)})
		}
	}
	addBOS, addEOS := templateAdds(tj.PostProcessor, texts["bos"], texts["eos"])
	if tc != nil && tc.AddBOS != nil {
		addBOS = tc.AddBOS
	}
	if tc != nil && tc.AddEOS != nil {
		addEOS = tc.AddEOS
	}
	if addBOS != nil {
		out = append(out, kv{"tokenizer.ggml.add_bos_token", *addBOS})
	}
	if addEOS != nil {
		out = append(out, kv{"tokenizer.ggml.add_eos_token", *addEOS})
	}
	return out, nil
}

// tokenText reads a tokenizer_config.json *_token value: a string or an
// {"content": ...} object.
func tokenText(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	var o struct {
		Content *string `json:"content"`
	}
	if json.Unmarshal(raw, &o) == nil && o.Content != nil {
		return *o.Content, true
	}
	return "", false
}

// templateAdds reads whether a TemplateProcessing post-processor's single
// template starts with BOS and ends with EOS; nil where there is no such
// post-processor.
func templateAdds(raw json.RawMessage, bos, eos string) (addBOS, addEOS *bool) {
	procs, err := flatten(raw, "post_processor")
	if err != nil {
		return nil, nil
	}
	for _, p := range procs {
		if p.str("type") != "TemplateProcessing" {
			continue
		}
		single, _ := p["single"].([]any)
		var seq []string // "" for a sequence item, the id for a special token
		for _, it := range single {
			m, _ := it.(map[string]any)
			if st, ok := m["SpecialToken"].(map[string]any); ok {
				id, _ := st["id"].(string)
				seq = append(seq, id)
			} else {
				seq = append(seq, "")
			}
		}
		b := len(seq) > 0 && seq[0] != "" && seq[0] == bos
		e := len(seq) > 1 && seq[len(seq)-1] != "" && seq[len(seq)-1] == eos
		return &b, &e
	}
	return nil, nil
}

// chatTemplates reads tokenizer_config.json's chat_template: a string, or
// a list of {name, template} where "default" becomes
// tokenizer.chat_template and the others tokenizer.chat_template.<name>,
// as in llama.cpp's converter.
func chatTemplates(raw json.RawMessage) ([]kv, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return []kv{{"tokenizer.chat_template", s}}, nil
	}
	var list []struct {
		Name     string `json:"name"`
		Template string `json:"template"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("tokenizer_config.json: chat_template is neither a string nor a list of {name, template}")
	}
	var out []kv
	for _, t := range list {
		if t.Name == "default" {
			out = append([]kv{{"tokenizer.chat_template", t.Template}}, out...)
		} else if validTemplateName(t.Name) {
			out = append(out, kv{"tokenizer.chat_template." + t.Name, t.Template})
		}
	}
	return out, nil
}

// validTemplateName reports whether a named chat template's name is a
// usable metadata key suffix (letters, digits, '_' and '-').
func validTemplateName(name string) bool {
	if name == "" {
		return false
	}
	for _, c := range name {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
