package tokenizer

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/baco-go/baco/engine/gguf"
)

// spmVocab is a hand-made SPM vocabulary: <unk>, <s>, </s>, the 256 byte
// tokens, then scored pieces. Expected tokenizations below are worked out
// by hand from llama.cpp's algorithm (highest score merges first, leftmost
// on ties).
func spmVocab() (*Vocab, map[string]int32) {
	v := &Vocab{Model: ModelSPM, BOS: 1, EOS: 2, EOT: -1, EOM: -1, UNK: 0, PAD: -1, SEP: -1, AddBOS: true, AddSpacePrefix: true}
	add := func(text string, score float32, typ int32) {
		v.Tokens = append(v.Tokens, text)
		v.Scores = append(v.Scores, score)
		v.Types = append(v.Types, typ)
	}
	add("<unk>", 0, TypeUnknown)
	add("<s>", 0, TypeControl)
	add("</s>", 0, TypeControl)
	for b := 0; b < 256; b++ {
		add(fmt.Sprintf("<0x%02X>", b), 0, TypeByte)
	}
	for _, p := range []struct {
		text  string
		score float32
	}{{"▁", -1}, {"a", -2}, {"b", -2}, {"c", -2}, {"▁a", -5}, {"ab", -3}, {"bc", -4}, {"abc", -6}, {"▁ab", -10}, {"aa", -1}} {
		add(p.text, p.score, TypeNormal)
	}
	ids := map[string]int32{}
	for i, s := range v.Tokens {
		ids[s] = int32(i)
	}
	return v, ids
}

func mustNew(t *testing.T, v *Vocab) *Tokenizer {
	t.Helper()
	tok, err := New(v)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestSPMHandWorked(t *testing.T) {
	v, id := spmVocab()
	tok := mustNew(t, v)
	b := func(c byte) int32 { return id[fmt.Sprintf("<0x%02X>", c)] }
	for _, c := range []struct {
		name          string
		text          string
		special, pars bool
		want          []int32
	}{
		// "▁abc": ab(-3) merges first, then abc(-6); ▁ab(-10) is stale by then.
		{"score order", "abc", false, false, []int32{id["▁"], id["abc"]}},
		{"single merge", "a b", false, false, []int32{id["▁a"], id["▁"], id["b"]}},
		{"byte fallback", "x", false, false, []int32{id["▁"], b('x')}},
		{"multibyte fallback", "é", false, false, []int32{id["▁"], b(0xC3), b(0xA9)}},
		{"invalid utf8 fallback", "\xff", false, false, []int32{id["▁"], b(0xFF)}},
		{"empty", "", false, false, nil},
		{"empty with BOS", "", true, false, []int32{1}},
		{"BOS", "a", true, false, []int32{1, id["▁a"]}},
		// After a special token the text gets the dummy prefix again.
		{"parse special", "<s>ab", false, true, []int32{1, id["▁ab"]}},
		{"special as text", "<s>ab", false, false, []int32{id["▁"], b('<'), b('s'), b('>'), id["ab"]}},
		// "▁aaa": the two "aa" pairs tie at -1 and beat ▁a (-5); the leftmost
		// merges, leaving "a" last ("▁aa" and "aaa" are no pieces).
		{"tie leftmost", "aaa", false, false, []int32{id["▁"], id["aa"], id["a"]}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := tok.Encode(c.text, c.special, c.pars)
			if !equalIDs(got, c.want) {
				t.Errorf("Encode(%q) = %v, want %v", c.text, got, c.want)
			}
		})
	}

	noPrefix := *v
	noPrefix.AddSpacePrefix = false
	noPrefix.AddEOS = true
	tok2 := mustNew(t, &noPrefix)
	if got, want := tok2.Encode("aaa", true, false), []int32{1, id["aa"], id["a"], 2}; !equalIDs(got, want) {
		t.Errorf("no prefix, BOS+EOS: Encode(aaa) = %v, want %v", got, want)
	}

	for _, c := range []struct {
		ids  []int32
		want string
	}{
		{[]int32{id["▁"], id["abc"]}, "abc"},         // first piece loses its space
		{[]int32{1, id["▁"], id["abc"]}, " abc"},     // BOS takes the strip
		{[]int32{id["▁a"], id["▁"], id["b"]}, "a b"}, //
		{[]int32{b(0xC3), b(0xA9)}, "é"},             // bytes reassembled
		{[]int32{0, 2, id["a"]}, "a"},                // unk and control give nothing
		{[]int32{-1, 99999, id["▁a"]}, " a"},         // out of range ids give nothing
		{[]int32{id["▁"], id["▁"], id["a"]}, " a"},   // only one space stripped
		{[]int32{id["aa"]}, "aa"},                    //
		{[]int32{b(' '), id["a"]}, "a"},              // a byte-token space is stripped too
	} {
		if got := tok.Decode(c.ids); got != c.want {
			t.Errorf("Decode(%v) = %q, want %q", c.ids, got, c.want)
		}
	}

	if got := tok.Piece(id["▁a"]); got != "▁a" {
		t.Errorf("Piece = %q", got)
	}
	for _, c := range []struct {
		id   int32
		want string
	}{{id["▁a"], " a"}, {b('\n'), "\n"}, {1, "<s>"}, {0, "<unk>"}, {-5, ""}} {
		if got := tok.TokenText(c.id); got != c.want {
			t.Errorf("TokenText(%d) = %q, want %q", c.id, got, c.want)
		}
	}
	if !tok.IsControl(1) || !tok.IsControl(2) || tok.IsControl(0) || tok.IsControl(id["a"]) || tok.IsControl(-1) {
		t.Error("IsControl wrong")
	}
	if got := tok.StopIDs(); !equalIDs(got, []int32{2}) {
		t.Errorf("StopIDs = %v, want [2]", got)
	}
	if tok.Style() != "spm" || tok.VocabSize() != len(v.Tokens) || tok.Vocab() != v {
		t.Error("Style/VocabSize/Vocab wrong")
	}
}

// bpeVocab is a hand-made byte-level BPE vocabulary over a, b, c and space
// (Ġ) with three merges.
func bpeVocab(pre string) (*Vocab, map[string]int32) {
	v := &Vocab{Model: ModelBPE, Pre: pre, BOS: -1, EOS: 0, EOT: -1, EOM: -1, UNK: -1, PAD: -1, SEP: -1,
		Tokens: []string{"<|endoftext|>", "a", "b", "c", "Ġ", ",", "ab", "Ġa", "abc", "Ċ"},
		Types:  []int32{TypeControl, 1, 1, 1, 1, 1, 1, 1, 1, 1},
		Merges: []string{"a b", "Ġ a", "ab c"},
	}
	ids := map[string]int32{}
	for i, s := range v.Tokens {
		ids[s] = int32(i)
	}
	return v, ids
}

func TestBPEHandWorked(t *testing.T) {
	v, id := bpeVocab("gpt-2")
	tok := mustNew(t, v)
	for _, c := range []struct {
		text string
		pars bool
		want []int32
	}{
		// Words "ab" and "Ġabc"; in the second, ab (rank 0) beats Ġa (rank 1),
		// then ab+c (rank 2); Ġ+ab is no merge.
		{"ab abc", false, []int32{id["ab"], id["Ġ"], id["abc"]}},
		{" a", false, []int32{id["Ġa"]}},
		// "x" has no piece, nor does its single byte: llama.cpp drops it.
		{"axb", false, []int32{id["a"], id["b"]}},
		{"a<|endoftext|>", true, []int32{id["a"], 0}},
		{"a,\n", false, []int32{id["a"], id[","], id["Ċ"]}},
	} {
		if got := tok.Encode(c.text, false, c.pars); !equalIDs(got, c.want) {
			t.Errorf("Encode(%q) = %v, want %v", c.text, got, c.want)
		}
	}
	// gpt-2 cleans " ," to ","; qwen2 does not clean.
	ids := []int32{id["a"], id["Ġ"], id[","], 0, id["Ġa"]}
	if got := tok.Decode(ids); got != "a, a" {
		t.Errorf("gpt-2 Decode = %q, want %q", got, "a, a")
	}
	q, _ := bpeVocab("qwen2")
	if got := mustNew(t, q).Decode(ids); got != "a , a" {
		t.Errorf("qwen2 Decode = %q, want %q", got, "a , a")
	}
	if got := tok.TokenText(id["Ġa"]); got != " a" {
		t.Errorf("TokenText(Ġa) = %q", got)
	}
	if tok.Style() != "bpe" || !tok.IsEOG(0) || tok.IsEOG(1) {
		t.Error("Style/IsEOG wrong")
	}
}

func TestCleanUpSpaces(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"a , b . c ! d ?", "a, b. c! d?"},
		{"it ' s", "it's"},
		{"x ' y", "x'y"},
		{"he 's she 'm we 're they 've", "he's she'm we're they've"},
		{"do n't 'd 'll", "do n't 'd 'll"},
		{" ,", ","},
		{"a  ,", "a ,"},
	} {
		if got := string(cleanUpSpaces([]byte(c.in))); got != c.want {
			t.Errorf("cleanUpSpaces(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestPreTokenizerSplits(t *testing.T) {
	for _, c := range []struct {
		pre, text string
		want      []string
	}{
		{"gpt-2", "Hello world's 123  x", []string{"Hello", "Ġworld", "'s", "Ġ123", "Ġ", "Ġx"}},
		{"gpt-2", "a  ", []string{"a", "ĠĠ"}},
		{"llama-bpe", "Hello world's 12345\n\n x", []string{"Hello", "Ġworld", "'s", "Ġ", "123", "45", "ĊĊ", "Ġx"}},
		{"llama-bpe", "I'M ok", []string{"I", "'M", "Ġok"}},
		{"qwen2", "ab 123", []string{"ab", "Ġ", "1", "2", "3"}},
		{"qwen2", "x!!\n\ny", []string{"x", "!!ĊĊ", "y"}},
		{"deepseek-coder", "ab 12\n", []string{"ab", "Ġ", "1", "2", "Ċ"}},
		{"default", "a+=b 1234", []string{"a", "+=", "b", "Ġ", "123", "4"}},
		{"falcon", "x`y 1234", []string{"x", "`", "y", "Ġ", "123", "4"}},
		{"starcoder", "x 12", []string{"x", "Ġ", "1", "2"}},
		{"poro-chat", "hi, you. ok", []string{"hi", ",", "Ġyou", ".", "Ġok"}},
		{"deepseek-llm", "ab  \n", []string{"ab", "ĠĠ", "Ċ"}},
	} {
		pt, err := newPreTokenizer(c.pre)
		if err != nil {
			t.Fatal(err)
		}
		got := pt.split(c.text)
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("%s split(%q) = %q, want %q", c.pre, c.text, got, c.want)
		}
	}
}

func TestEveryPreTypeCompiles(t *testing.T) {
	for name := range preTypes {
		if _, err := newPreTokenizer(name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestWPMHandWorked(t *testing.T) {
	v := &Vocab{Model: ModelWPM, BOS: 1, EOS: -1, EOT: -1, EOM: -1, UNK: 0, PAD: -1, SEP: 2, AddBOS: true,
		Tokens: []string{"[UNK]", "[CLS]", "[SEP]", "▁hello", "▁wor", "ld", "▁,", "▁e"},
		Types:  []int32{TypeControl, TypeControl, TypeControl, 1, 1, 1, 1, 1},
	}
	tok := mustNew(t, v)
	// "Hello" lower-cases; "," is a word of its own; "World" splits into
	// ▁wor + ld; "xyz" cannot be covered and becomes [UNK]; "É" is NFD "E"
	// lower-cased.
	got := tok.Encode("Hello, World xyz É", true, false)
	want := []int32{1, 3, 6, 4, 5, 0, 7, 2}
	if !equalIDs(got, want) {
		t.Errorf("Encode = %v, want %v", got, want)
	}
	if got := tok.Decode([]int32{3, 6, 4, 5}); got != " hello, world" {
		t.Errorf("Decode = %q", got)
	}
}

func TestFingerprint(t *testing.T) {
	v := &Vocab{Model: ModelSPM, BOS: -1, EOS: -1, EOT: -1, EOM: -1, UNK: -1, PAD: -1, SEP: -1, Tokens: []string{"a", "bc"}}
	// sha256 of 01 00 00 00 00 00 00 00 'a' 02 00 00 00 00 00 00 00 'b' 'c',
	// computed with printf | sha256sum.
	const want = "9a8acca1b6c6c0befd3fbc756aed625da998c998f7252e738c4ef061906b9b21"
	if got := mustNew(t, v).Fingerprint(); got != want {
		t.Errorf("Fingerprint = %s, want %s", got, want)
	}
	v2 := *v
	v2.Tokens = []string{"ab", "c"}
	if mustNew(t, &v2).Fingerprint() == want {
		t.Error("a different split of the same bytes gave the same fingerprint")
	}
}

func TestNewRejects(t *testing.T) {
	base := func() *Vocab {
		return &Vocab{Model: ModelSPM, BOS: -1, EOS: -1, EOT: -1, EOM: -1, UNK: -1, PAD: -1, SEP: -1, Tokens: []string{"a", "b"}}
	}
	for _, c := range []struct {
		name string
		mod  func(v *Vocab)
		want string
	}{
		{"no tokens", func(v *Vocab) { v.Tokens = nil }, "no tokens"},
		{"duplicate", func(v *Vocab) { v.Tokens = []string{"a", "a"} }, `tokens 0 and 1 are both "a"`},
		{"scores", func(v *Vocab) { v.Scores = []float32{1} }, "1 scores for 2 tokens"},
		{"types", func(v *Vocab) { v.Types = []int32{1, 1, 1} }, "3 token types for 2 tokens"},
		{"bos range", func(v *Vocab) { v.BOS = 2 }, "BOS id 2 outside"},
		{"eos range", func(v *Vocab) { v.EOS = -3 }, "EOS id -3 outside"},
		{"add bos without bos", func(v *Vocab) { v.AddBOS = true }, "add_bos"},
		{"wpm without sep", func(v *Vocab) { v.Model = ModelWPM; v.BOS = 0 }, "CLS) and SEP"},
	} {
		v := base()
		c.mod(v)
		_, err := New(v)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to contain %q", c.name, err, c.want)
		}
	}
	v := base()
	v.Tokens = []string{"a", ""}
	tok, err := New(v)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Piece(1) != "[EMPTY_1]" {
		t.Errorf("empty token piece = %q, want [EMPTY_1] as llama.cpp names it", tok.Piece(1))
	}
}

func TestDetectSpecial(t *testing.T) {
	v := &Vocab{Model: ModelBPE, Pre: "qwen2", BOS: -1, EOS: 1, EOT: -1, EOM: -1, UNK: -1, PAD: -1, SEP: -1,
		Tokens: []string{"a", "<|endoftext|>", "<|im_end|>", "<|fim_prefix|>", "<|fim_pad|>", "<|eom_id|>"},
		Types:  []int32{1, 1, 1, 4, 4, 1}, // none declared control
	}
	tok := mustNew(t, v)
	if tok.EOT() != 2 || tok.EOM() != 5 {
		t.Errorf("EOT/EOM = %d/%d, want 2/5", tok.EOT(), tok.EOM())
	}
	if got, want := tok.ControlIDs(), []int32{1, 2, 3, 4, 5}; !equalIDs(got, want) {
		t.Errorf("ControlIDs = %v, want %v", got, want)
	}
	if got, want := tok.StopIDs(), []int32{1, 2, 4, 5}; !equalIDs(got, want) {
		t.Errorf("StopIDs = %v, want %v", got, want)
	}
}

func TestPhi3RStrip(t *testing.T) {
	v := &Vocab{Model: ModelSPM, Name: "Phi-3-mini", BOS: 1, EOS: -1, EOT: -1, EOM: -1, UNK: 0, PAD: -1, SEP: -1, AddSpacePrefix: true,
		Tokens: []string{"<unk>", "<s>", "<|user|>", "▁", "a", "▁a"},
		Types:  []int32{TypeUnknown, TypeControl, TypeControl, 1, 1, 1},
		Scores: []float32{0, 0, 0, -1, -1, -2},
	}
	tok := mustNew(t, v)
	// The spaces after <|user|> are stripped (rstrip); "a" then gets the
	// dummy prefix because it follows a special token.
	if got, want := tok.Encode("<|user|>  a", false, true), []int32{2, 5}; !equalIDs(got, want) {
		t.Errorf("Encode = %v, want %v", got, want)
	}
	// <s> keeps its right space: " a" becomes "▁▁a".
	if got, want := tok.Encode("<s> a", false, true), []int32{1, 3, 5}; !equalIDs(got, want) {
		t.Errorf("Encode = %v, want %v", got, want)
	}
}

// buildGGUF writes a vocab-only GGUF with the given keys and parses it back.
func buildGGUF(t *testing.T, kvs map[string]any) *gguf.File {
	t.Helper()
	b := gguf.NewBuilder()
	for k, v := range kvs {
		if err := b.SetKV(k, v); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if _, err := b.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestVocabFromGGUF(t *testing.T) {
	spm := map[string]any{
		"tokenizer.ggml.model":  "llama",
		"tokenizer.ggml.tokens": []string{"<unk>", "<s>", "</s>", "a"},
		"tokenizer.ggml.scores": []float32{0, 0, 0, -1},
	}
	v, err := VocabFromGGUF(buildGGUF(t, spm))
	if err != nil {
		t.Fatal(err)
	}
	if v.BOS != 1 || v.EOS != 2 || v.UNK != 0 || v.EOT != -1 || v.PAD != -1 || !v.AddBOS || v.AddEOS || !v.AddSpacePrefix || v.Pre != "" {
		t.Errorf("SPM defaults wrong: %+v", v)
	}

	spm2 := map[string]any{}
	for k, x := range spm {
		spm2[k] = x
	}
	spm2["tokenizer.ggml.add_space_prefix"] = false
	spm2["tokenizer.ggml.add_bos_token"] = false
	spm2["tokenizer.ggml.bos_token_id"] = uint32(3)
	spm2["tokenizer.ggml.eos_token_id"] = uint32(99) // out of range: ignored
	v, err = VocabFromGGUF(buildGGUF(t, spm2))
	if err != nil {
		t.Fatal(err)
	}
	if v.AddSpacePrefix || v.AddBOS || v.BOS != 3 || v.EOS != 2 {
		t.Errorf("SPM keys not applied: %+v", v)
	}

	bpe := map[string]any{
		"tokenizer.ggml.model":        "gpt2",
		"tokenizer.ggml.pre":          "llama-bpe",
		"tokenizer.ggml.tokens":       []string{"a", "b", "ab", "<|begin_of_text|>"},
		"tokenizer.ggml.merges":       []string{"a b"},
		"tokenizer.ggml.bos_token_id": uint32(3),
	}
	v, err = VocabFromGGUF(buildGGUF(t, bpe))
	if err != nil {
		t.Fatal(err)
	}
	if !v.AddBOS || v.BOS != 3 || v.EOS != -1 || len(v.Merges) != 1 {
		t.Errorf("llama-bpe defaults wrong: %+v", v)
	}
	tok, err := New(v)
	if err != nil {
		t.Fatal(err)
	}
	if got := tok.Encode("ab", true, false); !equalIDs(got, []int32{3, 2}) {
		t.Errorf("Encode = %v, want [3 2]", got)
	}

	for _, c := range []struct {
		name   string
		kvs    map[string]any
		want   string
		unsupp bool
	}{
		{"no model", map[string]any{"tokenizer.ggml.tokens": []string{"a"}}, "tokenizer.ggml.model", false},
		{"t5", map[string]any{"tokenizer.ggml.model": "t5", "tokenizer.ggml.tokens": []string{"a"}}, `"t5"`, true},
		{"tekken", map[string]any{"tokenizer.ggml.model": "gpt2", "tokenizer.ggml.pre": "tekken", "tokenizer.ggml.tokens": []string{"a"}, "tokenizer.ggml.merges": []string{}}, `"tekken"`, true},
		{"no merges", map[string]any{"tokenizer.ggml.model": "gpt2", "tokenizer.ggml.tokens": []string{"a"}}, "tokenizer.ggml.merges", false},
		{"no tokens", map[string]any{"tokenizer.ggml.model": "llama"}, "tokenizer.ggml.tokens", false},
		{"scores length", map[string]any{"tokenizer.ggml.model": "llama", "tokenizer.ggml.tokens": []string{"a", "b"}, "tokenizer.ggml.scores": []float32{1}}, "tokenizer.ggml.scores", false},
		{"scores type", map[string]any{"tokenizer.ggml.model": "llama", "tokenizer.ggml.tokens": []string{"a"}, "tokenizer.ggml.scores": []string{"x"}}, "tokenizer.ggml.scores", false},
		{"types length", map[string]any{"tokenizer.ggml.model": "llama", "tokenizer.ggml.tokens": []string{"a"}, "tokenizer.ggml.token_type": []int32{1, 1}}, "tokenizer.ggml.token_type", false},
	} {
		_, err := VocabFromGGUF(buildGGUF(t, c.kvs))
		if err == nil || !strings.Contains(err.Error(), c.want) || errors.Is(err, ErrUnsupported) != c.unsupp {
			t.Errorf("%s: err = %v, want it to mention %s (unsupported %v)", c.name, err, c.want, c.unsupp)
		}
	}
}
