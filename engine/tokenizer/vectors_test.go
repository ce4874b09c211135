package tokenizer

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/baco-go/baco/engine/gguf"
	"github.com/baco-go/baco/internal/testdata"
)

// loadVocab opens one of the shared vocab GGUFs and reads its vocabulary.
func loadVocab(tb testing.TB, rel string) *Vocab {
	tb.Helper()
	f, err := gguf.Open(testdata.Path(tb, rel))
	if err != nil {
		tb.Fatalf("open %s: %v", rel, err)
	}
	defer f.Close()
	v, err := VocabFromGGUF(f)
	if err != nil {
		tb.Fatalf("vocab %s: %v", rel, err)
	}
	return v
}

func loadTokenizer(tb testing.TB, rel string) *Tokenizer {
	tb.Helper()
	tok, err := New(loadVocab(tb, rel))
	if err != nil {
		tb.Fatalf("tokenizer %s: %v", rel, err)
	}
	return tok
}

// readVectors reads llama.cpp's <vocab>.gguf.inp/.out pair as the README of
// the shared tokenizer folder describes.
func readVectors(tb testing.TB, rel string) (inputs []string, want [][]int32) {
	tb.Helper()
	inp, err := os.ReadFile(testdata.Path(tb, rel+".inp"))
	if err != nil {
		tb.Fatal(err)
	}
	out, err := os.ReadFile(testdata.Path(tb, rel+".out"))
	if err != nil {
		tb.Fatal(err)
	}
	const sep = "\n__ggml_vocab_test__\n"
	rest := string(inp)
	for {
		i := strings.Index(rest, sep)
		if i < 0 {
			break
		}
		inputs = append(inputs, rest[:i])
		rest = rest[i+len(sep):]
	}
	lines := strings.Split(string(out), "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) != len(inputs) {
		tb.Fatalf("%s: %d inputs but %d output lines", rel, len(inputs), len(lines))
	}
	for _, l := range lines {
		var ids []int32
		for _, f := range strings.Fields(l) {
			n, err := strconv.ParseInt(f, 10, 32)
			if err != nil {
				tb.Fatalf("%s: bad id %q", rel, f)
			}
			ids = append(ids, int32(n))
		}
		want = append(want, ids)
	}
	return inputs, want
}

func equalIDs(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestLlamaCppVectors checks every test vector llama.cpp ships for the
// vocabularies in the shared folder (add_special=false, parse_special=false).
func TestLlamaCppVectors(t *testing.T) {
	for _, name := range []string{"llama-spm", "gpt-2", "falcon", "mpt", "refact", "deepseek-llm", "bert-bge"} {
		t.Run(name, func(t *testing.T) {
			rel := "tokenizer/ggml-vocab-" + name + ".gguf"
			tok := loadTokenizer(t, rel)
			inputs, want := readVectors(t, rel)
			if len(inputs) != 46 {
				t.Fatalf("got %d test strings, the README promises 46", len(inputs))
			}
			for i, in := range inputs {
				got := tok.Encode(in, false, false)
				if !equalIDs(got, want[i]) {
					t.Errorf("case %d %q:\n got %v\nwant %v", i, in, got, want[i])
				}
			}
		})
	}
}

func TestUnsupportedModel(t *testing.T) {
	for _, v := range []*Vocab{
		{Model: "t5", Tokens: []string{"a"}},
		{Model: "rwkv", Tokens: []string{"a"}},
		{Model: ModelBPE, Pre: "tekken", Tokens: []string{"a"}},
		{Model: ModelBPE, Pre: "no-such-pre", Tokens: []string{"a"}},
	} {
		_, err := New(v)
		if !errors.Is(err, ErrUnsupported) {
			t.Errorf("New(model %q pre %q) = %v, want ErrUnsupported", v.Model, v.Pre, err)
			continue
		}
		name := v.Model
		if v.Pre != "" {
			name = v.Pre
		}
		if !strings.Contains(err.Error(), strconv.Quote(name)) {
			t.Errorf("error %q does not name %q", err, name)
		}
	}
}
