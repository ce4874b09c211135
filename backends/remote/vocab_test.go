package remote

import (
	"fmt"
	"slices"
	"testing"

	"github.com/baco-go/baco/engine/gguf"
	"github.com/baco-go/baco/engine/tokenizer"
	"github.com/baco-go/baco/internal/testdata"
)

func loadTok(t *testing.T, rel string) *tokenizer.Tokenizer {
	t.Helper()
	f, err := gguf.Open(testdata.Path(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tok, err := tokenizer.FromGGUF(f)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestRebuildVocabRealVocabularies rebuilds the raw pieces of real
// llama.cpp vocabularies from what a llama.cpp server exposes — each id's
// token_to_piece text (the embedded tokenizer's TokenText, checked against
// llama.cpp's vectors in engine/tokenizer) and whether it reads as "" with
// special=false (control and unknown tokens) — and compares them with the
// pieces stored in the file. The only ids allowed to differ are the ones
// the rebuild cannot see: user-defined tokens whose text is not in the
// vocabulary's encoding, and unused tokens (empty text either way).
func TestRebuildVocabRealVocabularies(t *testing.T) {
	for _, tc := range []struct {
		file  string
		style string
	}{
		{"models/stories260K.gguf", "spm"},
		{"tokenizer/ggml-vocab-llama-spm.gguf", "spm"},
		{"tokenizer/ggml-vocab-baichuan.gguf", "spm"},
		{"tokenizer/ggml-vocab-gpt-2.gguf", "bpe"},
		{"tokenizer/ggml-vocab-falcon.gguf", "bpe"},
		{"tokenizer/ggml-vocab-mpt.gguf", "bpe"},
		{"tokenizer/ggml-vocab-refact.gguf", "bpe"},
		{"tokenizer/ggml-vocab-deepseek-llm.gguf", "bpe"},
		{"tokenizer/ggml-vocab-gpt-neox.gguf", "bpe"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			tok := loadTok(t, tc.file)
			if tok.Style() != tc.style {
				t.Fatalf("style %s, want %s", tok.Style(), tc.style)
			}
			n := tok.VocabSize()
			types := tok.Vocab().Types
			texts := make([]string, n)
			control := make([]bool, n)
			for i := range n {
				id := int32(i)
				texts[i] = tok.TokenText(id)
				control[i] = texts[i] != "" && (tok.IsControl(id) || (types != nil && types[i] == tokenizer.TypeUnknown))
			}
			v, err := RebuildVocab(tc.style, texts, control)
			if err != nil {
				t.Fatal(err)
			}
			var unexplained []string
			userDefined, unused := 0, 0
			for i := range n {
				want := tok.Piece(int32(i))
				if v.Pieces[i] == want {
					continue
				}
				switch {
				case types != nil && types[i] == tokenizer.TypeUserDefined:
					userDefined++
				case texts[i] == "":
					unused++
				default:
					unexplained = append(unexplained, fmt.Sprintf("%d: %q, want %q", i, v.Pieces[i], want))
				}
			}
			if len(unexplained) > 0 {
				t.Errorf("%d pieces differ, e.g. %v", len(unexplained), unexplained[:min(5, len(unexplained))])
			}
			if userDefined+unused == 0 && v.Fingerprint() != tok.Fingerprint() {
				t.Errorf("fingerprint %s, tokenizer %s", v.Fingerprint(), tok.Fingerprint())
			}
			wantCtl := tok.ControlIDs()
			if got := v.ControlIDs(); !slices.Equal(got, wantCtl) {
				t.Errorf("control ids %v, want %v", got[:min(10, len(got))], wantCtl[:min(10, len(wantCtl))])
			}
			t.Logf("%d ids: %d user-defined and %d unused pieces not recoverable", n, userDefined, unused)
		})
	}
}

func TestRebuildVocabByteRunAndBPE(t *testing.T) {
	// A tiny SPM vocabulary: <unk> <s> </s>, the 256 byte tokens (bytes
	// above 0x7F arriving as U+FFFD, as a JSON encoder replacing invalid
	// UTF-8 sends them), then "▁a" and "b".
	texts := []string{"<unk>", "<s>", "</s>"}
	for b := range 256 {
		if b >= 0x80 {
			texts = append(texts, "\uFFFD")
		} else {
			texts = append(texts, string([]byte{byte(b)}))
		}
	}
	texts = append(texts, " a", "b")
	control := make([]bool, len(texts))
	control[0], control[1], control[2] = true, true, true
	v, err := RebuildVocab("spm", texts, control)
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[int]string{0: "<unk>", 1: "<s>", 3: "<0x00>", 3 + 0x0A: "<0x0A>", 3 + 0xFF: "<0xFF>", 259: "▁a", 260: "b"} {
		if v.Pieces[id] != want {
			t.Errorf("piece %d = %q, want %q", id, v.Pieces[id], want)
		}
	}
	if got := v.ControlIDs(); !slices.Equal(got, []int32{1, 2}) {
		t.Errorf("control ids %v, want [1 2] (<unk> is not a control token)", got)
	}
	// Byte-level BPE: space → Ġ (U+0120), newline → Ċ (U+010A), é's two
	// bytes → Ã© (U+00C3 U+00A9).
	b, _ := RebuildVocab("bpe", []string{" the", "\n", "é", "<|endoftext|>"}, []bool{false, false, false, true})
	if want := []string{"Ġthe", "Ċ", "Ã©", "<|endoftext|>"}; !slices.Equal(b.Pieces, want) {
		t.Errorf("bpe pieces %q, want %q", b.Pieces, want)
	}
	if _, err := RebuildVocab("spm", []string{"a"}, nil); err == nil {
		t.Error("mismatched lengths: no error")
	}
}

func TestVocabByTextAndDecode(t *testing.T) {
	texts := []string{"<unk>", "<s>", "</s>", "a", " a", "a", "!"}
	v, _ := RebuildVocab("spm", texts, []bool{true, true, true, false, false, false, false})
	v.Pieces[3] = "<0x61>" // pretend id 3 is the byte token of "a"
	if id, ok, amb := v.ByText("a"); !ok || id != 5 || !amb {
		t.Errorf("ByText(a) = %d %v %v, want 5 (a normal token beats a byte token), ambiguous", id, ok, amb)
	}
	if id, ok, amb := v.ByText(" a"); !ok || id != 4 || amb {
		t.Errorf("ByText( a) = %d %v %v", id, ok, amb)
	}
	if _, ok, _ := v.ByText("zz"); ok {
		t.Error("ByText(zz) found something")
	}
	if got := v.Decode([]int32{1, 4, 4, 0, 6, 2}); got != "a a!" {
		t.Errorf("Decode = %q, want %q", got, "a a!")
	}
	if v.FindText("<s>") != 1 || v.FindText("") != -1 || v.FindText("nope") != -1 {
		t.Error("FindText")
	}
	if got := v.StopIDs(2); !slices.Equal(got, []int32{2}) {
		t.Errorf("StopIDs = %v", got)
	}
}

func TestReadGGUFVocab(t *testing.T) {
	lv, err := ReadGGUFVocab(testdata.Path(t, "models/stories260K.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	tok := loadTok(t, "models/stories260K.gguf")
	if lv.Size() != 512 || lv.BOS != 1 || lv.EOS != 2 || !lv.AddBOS || lv.Fingerprint() != tok.Fingerprint() ||
		!slices.Equal(lv.Stop, []int32{2}) || lv.Style != "spm" {
		t.Errorf("local vocab: size %d bos %d eos %d addbos %v stop %v style %s", lv.Size(), lv.BOS, lv.EOS, lv.AddBOS, lv.Stop, lv.Style)
	}
	if _, err := ReadGGUFVocab("/nonexistent.gguf"); err == nil {
		t.Error("missing file: no error")
	}
}

func TestSpread(t *testing.T) {
	for _, tc := range []struct {
		size, n int
		want    []int32
	}{
		{5, 10, []int32{0, 1, 2, 3, 4}},
		{10, 3, []int32{0, 4, 9}},
		{100, 2, []int32{0, 99}},
		{0, 3, nil},
	} {
		if got := Spread(tc.size, tc.n); !slices.Equal(got, tc.want) {
			t.Errorf("Spread(%d, %d) = %v, want %v", tc.size, tc.n, got, tc.want)
		}
	}
}
