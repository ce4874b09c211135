package tokenizer

import (
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/baco-go/baco/internal/testdata"
)

// seedFuzz adds llama.cpp's test strings as the seed corpus.
func seedFuzz(f *testing.F) {
	f.Add("Hello world")
	f.Add(" \t\n it's <s> 123 é 🦙 \xff")
	if root := testdata.Root(); root != "" {
		if b, err := os.ReadFile(root + "/tokenizer/ggml-vocab-llama-spm.gguf.inp"); err == nil {
			for _, s := range strings.Split(string(b), "\n__ggml_vocab_test__\n") {
				f.Add(s)
			}
		}
	}
}

func checkIDs(t *testing.T, tok *Tokenizer, ids []int32) {
	for _, id := range ids {
		if id < 0 || int(id) >= tok.VocabSize() {
			t.Fatalf("id %d out of range", id)
		}
	}
}

// FuzzEncodeSPM: the Llama SPM vocabulary has a byte token for every byte,
// so Decode(Encode(x)) must give x back for valid UTF-8 (the dummy-prefix
// space is removed again by Decode). Invalid UTF-8 need not round-trip: a
// stray lead byte swallows the first byte of the next "▁", which then
// decodes as raw bytes, exactly as in llama.cpp (see TestSPMInvalidUTF8).
func FuzzEncodeSPM(f *testing.F) {
	seedFuzz(f)
	tok := loadTokenizer(f, "tokenizer/ggml-vocab-llama-spm.gguf")
	f.Fuzz(func(t *testing.T, s string) {
		for _, special := range []bool{false, true} {
			ids := tok.Encode(s, special, special)
			checkIDs(t, tok, ids)
		}
		ids := tok.Encode(s, false, false)
		if !utf8.ValidString(s) {
			return
		}
		if got := tok.Decode(ids); got != s {
			t.Fatalf("Decode(Encode(%q)) = %q (ids %v)", s, got, ids)
		}
	})
}

// FuzzEncodeBPE: in the GPT-2 vocabulary every byte is a piece, so the
// decoded pieces concatenate back to the input for valid UTF-8 (invalid
// bytes become U+FFFD as in llama.cpp); with the Qwen2 pre-tokenizer Decode
// does no clean-up, with GPT-2's it applies exactly llama.cpp's clean-up.
func FuzzEncodeBPE(f *testing.F) {
	seedFuzz(f)
	v := loadVocab(f, "tokenizer/ggml-vocab-gpt-2.gguf")
	gpt2, err := New(v)
	if err != nil {
		f.Fatal(err)
	}
	vq := *v
	vq.Pre = "qwen2"
	qwen, err := New(&vq)
	if err != nil {
		f.Fatal(err)
	}
	others := make([]*Tokenizer, 0, 6)
	for _, pre := range []string{"llama-bpe", "deepseek-llm", "deepseek-coder", "default", "falcon", "poro-chat"} {
		vo := *v
		vo.Pre = pre
		o, err := New(&vo)
		if err != nil {
			f.Fatal(err)
		}
		others = append(others, o)
	}
	f.Fuzz(func(t *testing.T, s string) {
		valid := utf8.ValidString(s)
		for _, tok := range append([]*Tokenizer{gpt2, qwen}, others...) {
			checkIDs(t, tok, tok.Encode(s, true, true))
			ids := tok.Encode(s, false, false)
			checkIDs(t, tok, ids)
			if !valid {
				continue
			}
			want := s
			if tok.cleanSpaces {
				want = string(cleanUpSpaces([]byte(s)))
			}
			if got := tok.Decode(ids); got != want {
				t.Fatalf("%s: Decode(Encode(%q)) = %q, want %q", tok.v.Pre, s, got, want)
			}
		}
	})
}
