package hf

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/baco-go/baco/engine/gguf"
	"github.com/baco-go/baco/engine/hf/hftest"
	"github.com/baco-go/baco/engine/tokenizer"
	"github.com/baco-go/baco/internal/testdata"
)

// roundTrip passes v through JSON into out, as a file on disk would.
func roundTrip(t *testing.T, v, out any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
}

// tokenizerFromKVs builds the engine tokenizer from converted metadata.
func tokenizerFromKVs(t *testing.T, kvs []kv) (*gguf.File, *tokenizer.Tokenizer) {
	t.Helper()
	b := gguf.NewBuilder()
	for _, e := range kvs {
		if err := b.SetKV(e.key, e.value); err != nil {
			t.Fatal(err)
		}
	}
	f := b.File()
	tok, err := tokenizer.FromGGUF(f)
	if err != nil {
		t.Fatal(err)
	}
	return f, tok
}

// readVectors reads llama.cpp's <vocab>.gguf.inp/.out pair (format in the
// shared tokenizer folder's README).
func readVectors(t *testing.T, rel string) (inputs []string, want [][]int32) {
	t.Helper()
	inp, err := os.ReadFile(testdata.Path(t, rel+".inp"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.ReadFile(testdata.Path(t, rel+".out"))
	if err != nil {
		t.Fatal(err)
	}
	const sep = "\n__ggml_vocab_test__\n"
	for rest := string(inp); ; {
		i := strings.Index(rest, sep)
		if i < 0 {
			break
		}
		inputs = append(inputs, rest[:i])
		rest = rest[i+len(sep):]
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(inputs) {
		t.Fatalf("%s: %d inputs, %d output lines", rel, len(inputs), len(lines))
	}
	for _, l := range lines {
		var ids []int32
		for _, f := range strings.Fields(l) {
			n, err := strconv.Atoi(f)
			if err != nil {
				t.Fatalf("%s: bad id %q", rel, f)
			}
			ids = append(ids, int32(n))
		}
		want = append(want, ids)
	}
	return inputs, want
}

// TestTokenizerJSONVectors converts tokenizer.json twins of llama.cpp's
// vocab files (written in the layout transformers gives Llama 2, GPT-2 and
// StarCoder-family tokenizers) and checks the result against llama.cpp's
// own token ids for its 46 test strings, and against the GGUF vocabulary
// (pieces, token types, special ids).
func TestTokenizerJSONVectors(t *testing.T) {
	for _, tc := range []struct {
		vocab   string
		pairs   bool
		wantPre string
	}{
		{"ggml-vocab-llama-spm.gguf", false, ""},
		{"ggml-vocab-gpt-2.gguf", false, "gpt-2"},
		{"ggml-vocab-refact.gguf", true, "starcoder"},
	} {
		t.Run(tc.vocab, func(t *testing.T) {
			rel := "tokenizer/" + tc.vocab
			f, err := gguf.Open(testdata.Path(t, rel))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			tjv, tcv := hftest.Tokenizer(t, f, hftest.Options{PairMerges: tc.pairs})
			var tj tokenizerJSON
			var tcfg tokenizerConfig
			roundTrip(t, tjv, &tj)
			roundTrip(t, tcv, &tcfg)
			toks, _ := f.Strings("tokenizer.ggml.tokens")
			kvs, err := vocabKVs(&tj, &tcfg, nil, "", len(toks))
			if err != nil {
				t.Fatal(err)
			}
			conv, tok := tokenizerFromKVs(t, kvs)
			if pre, _ := conv.String("tokenizer.ggml.pre"); pre != tc.wantPre {
				t.Errorf("pre-tokenizer %q, want %q", pre, tc.wantPre)
			}
			ref, err := tokenizer.FromGGUF(f)
			if err != nil {
				t.Fatal(err)
			}
			if tok.Fingerprint() != ref.Fingerprint() {
				t.Errorf("pieces differ from the GGUF vocabulary")
			}
			gotTypes, _ := conv.Int32s("tokenizer.ggml.token_type")
			wantTypes, _ := f.Int32s("tokenizer.ggml.token_type")
			for i := range wantTypes {
				if gotTypes[i] != wantTypes[i] {
					t.Errorf("token %d %q: type %d, want %d", i, toks[i], gotTypes[i], wantTypes[i])
					break
				}
			}
			if tok.BOS() != ref.BOS() || tok.EOS() != ref.EOS() || tok.AddBOS() != ref.AddBOS() {
				t.Errorf("BOS/EOS/add_bos %d/%d/%v, want %d/%d/%v", tok.BOS(), tok.EOS(), tok.AddBOS(), ref.BOS(), ref.EOS(), ref.AddBOS())
			}
			inputs, want := readVectors(t, rel)
			fails := 0
			for i, in := range inputs {
				got := tok.Encode(in, false, false)
				if len(got) == 0 && len(want[i]) == 0 {
					continue
				}
				if !reflect.DeepEqual(got, want[i]) {
					fails++
					if fails <= 5 {
						t.Errorf("case %d %q: ids %v, llama.cpp %v", i, in, got, want[i])
					}
				}
			}
			if fails > 0 {
				t.Errorf("%d of %d cases differ", fails, len(inputs))
			}
		})
	}
}

// smolTokenizerJSON is a miniature of SmolLM2's tokenizer.json: the same
// components and added-token layout, a vocabulary of a few pieces.
const smolTokenizerJSON = `{
  "version": "1.0",
  "truncation": null,
  "padding": null,
  "added_tokens": [
    {"id": 0, "content": "<|endoftext|>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
    {"id": 1, "content": "<|im_start|>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
    {"id": 2, "content": "<|im_end|>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}
  ],
  "normalizer": null,
  "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
    {"type": "Digits", "individual_digits": true},
    {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}]},
  "post_processor": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true},
  "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
  "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null,
    "end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": false,
    "vocab": {"<|endoftext|>": 0, "<|im_start|>": 1, "<|im_end|>": 2, "h": 3, "i": 4, "Ġ": 5, "hi": 6, "Ġhi": 7, "1": 8, "2": 9},
    "merges": ["h i", "Ġ hi"]}
}`

// smolTokenizerConfig is SmolLM2-135M-Instruct's tokenizer_config.json,
// shortened (the chat template is cut to its first statement).
const smolTokenizerConfig = `{
  "add_prefix_space": false,
  "additional_special_tokens": ["<|im_start|>", "<|im_end|>"],
  "bos_token": "<|im_start|>",
  "chat_template": "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}",
  "clean_up_tokenization_spaces": false,
  "eos_token": "<|im_end|>",
  "model_max_length": 8192,
  "pad_token": "<|im_end|>",
  "tokenizer_class": "GPT2Tokenizer",
  "unk_token": "<|endoftext|>",
  "vocab_size": 49152
}`

// TestSmolLM2TokenizerMetadata checks the metadata converted from
// SmolLM2-shaped files against what llama.cpp's converter writes for
// SmolLM2-135M-Instruct (hand-listed: pre "smollm", ids from the
// tokenizer_config texts, control types for the added specials).
func TestSmolLM2TokenizerMetadata(t *testing.T) {
	var tj tokenizerJSON
	var tc tokenizerConfig
	if err := json.Unmarshal([]byte(smolTokenizerJSON), &tj); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(smolTokenizerConfig), &tc); err != nil {
		t.Fatal(err)
	}
	kvs, err := vocabKVs(&tj, &tc, nil, "", 12)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]any{}
	for _, e := range kvs {
		got[e.key] = e.value
	}
	want := map[string]any{
		"tokenizer.ggml.model":            "gpt2",
		"tokenizer.ggml.pre":              "smollm",
		"tokenizer.ggml.tokens":           []string{"<|endoftext|>", "<|im_start|>", "<|im_end|>", "h", "i", "Ġ", "hi", "Ġhi", "1", "2", "[PAD10]", "[PAD11]"},
		"tokenizer.ggml.token_type":       []int32{3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 5, 5},
		"tokenizer.ggml.merges":           []string{"h i", "Ġ hi"},
		"tokenizer.ggml.bos_token_id":     uint32(1),
		"tokenizer.ggml.eos_token_id":     uint32(2),
		"tokenizer.ggml.unknown_token_id": uint32(0),
		"tokenizer.ggml.padding_token_id": uint32(2),
		"tokenizer.chat_template":         "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}",
	}
	if !reflect.DeepEqual(got, want) {
		for k := range want {
			if !reflect.DeepEqual(got[k], want[k]) {
				t.Errorf("%s = %#v, want %#v", k, got[k], want[k])
			}
		}
		for k := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("unexpected %s = %#v", k, got[k])
			}
		}
	}
	_, tok := tokenizerFromKVs(t, kvs)
	// Digits split one by one; " hi" merges to one piece; specials parse.
	for _, c := range []struct {
		text string
		want []int32
	}{
		{"hi hi", []int32{6, 7}},
		{"12", []int32{8, 9}},
		{"<|im_start|>hi<|im_end|>", []int32{1, 6, 2}},
	} {
		if got := tok.Encode(c.text, true, true); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Encode(%q) = %v, want %v", c.text, got, c.want)
		}
	}
}

// TestTokenizerRefusals checks that tokenizer.json files outside the
// supported kinds are refused with an error naming what is unsupported.
func TestTokenizerRefusals(t *testing.T) {
	base := func() map[string]any {
		var m map[string]any
		if err := json.Unmarshal([]byte(smolTokenizerJSON), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	for _, c := range []struct {
		name   string
		edit   func(m map[string]any)
		substr string
	}{
		{"unigram", func(m map[string]any) { m["model"].(map[string]any)["type"] = "Unigram" }, `model type "Unigram"`},
		{"wordpiece", func(m map[string]any) { m["model"].(map[string]any)["type"] = "WordPiece" }, `model type "WordPiece"`},
		{"whitespace pre-tokenizer", func(m map[string]any) { m["pre_tokenizer"] = map[string]any{"type": "Whitespace"} }, `pre-tokenizer "Whitespace"`},
		{"unknown split regex", func(m map[string]any) {
			m["pre_tokenizer"] = map[string]any{"type": "Sequence", "pretokenizers": []any{
				map[string]any{"type": "Split", "pattern": map[string]any{"Regex": `\w+`}, "behavior": "Isolated", "invert": false},
				map[string]any{"type": "ByteLevel", "add_prefix_space": false, "use_regex": false}}}
		}, `regex "\\w+"`},
		{"lowercase normalizer", func(m map[string]any) { m["normalizer"] = map[string]any{"type": "Lowercase"} }, `"Lowercase" normalizer`},
		{"prefix space", func(m map[string]any) {
			m["pre_tokenizer"] = map[string]any{"type": "ByteLevel", "add_prefix_space": true, "use_regex": true}
		}, "add_prefix_space"},
		{"byte fallback without metaspace", func(m map[string]any) { m["model"].(map[string]any)["byte_fallback"] = true }, `"Digits" pre-tokenizer with byte fallback`},
		{"duplicate id", func(m map[string]any) { m["model"].(map[string]any)["vocab"].(map[string]any)["x"] = 3.0 }, "id 3 is given to both"},
		{"bad merge", func(m map[string]any) { m["model"].(map[string]any)["merges"] = []any{"hi"} }, `merge 0 "hi"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := base()
			c.edit(m)
			var tj tokenizerJSON
			roundTrip(t, m, &tj)
			_, err := vocabKVs(&tj, nil, nil, "", 10)
			if err == nil || !strings.Contains(err.Error(), c.substr) {
				t.Fatalf("error %v, want one containing %q", err, c.substr)
			}
			if strings.Contains(c.substr, "type") || strings.Contains(c.substr, "pre-tokenizer") || strings.Contains(c.substr, "normalizer") {
				if !errors.Is(err, ErrUnsupported) {
					t.Errorf("error %v does not wrap ErrUnsupported", err)
				}
			}
		})
	}
}
