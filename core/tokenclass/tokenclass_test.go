package tokenclass

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/baco-go/baco/internal/testdata"
)

// The BPE spellings below were worked out by hand from GPT-2's
// bytes_to_unicode: bytes 0x00–0x20 become U+0100–U+0120, bytes 0x7F–0xA0
// become U+0121–U+0142, byte 0xAD becomes U+0143. So "—" (E2 80 94) is
// "â" "Ģ"(0x80→U+0122) "Ķ"(0x94→U+0136), "“" (E2 80 9C) is "âĢľ", and
// "你" (E4 BD A0) is "ä½ł" (0xA0→U+0142).
func TestNormalizeStyle(t *testing.T) {
	tests := []struct {
		piece string
		style Style
		want  string
	}{
		// SentencePiece.
		{"▁the", StyleSPM, " the"},
		{"▁,", StyleSPM, " ,"},
		{"<0x0A>", StyleSPM, "\n"},
		{"<0x20>", StyleSPM, " "},
		{"<0xe2>", StyleSPM, "\xe2"},
		{"▁▁", StyleSPM, "  "},
		{"▁—", StyleSPM, " —"},
		{"▁你好", StyleSPM, " 你好"},
		{"ing", StyleSPM, "ing"},
		{"Ġthe", StyleSPM, "Ġthe"},
		{"<0x0G>", StyleSPM, "<0x0G>"},
		{"<s>", StyleSPM, "<s>"},
		// Byte-level BPE.
		{"Ġthe", StyleBPE, " the"},
		{"Ċ", StyleBPE, "\n"},
		{"ĊĊ", StyleBPE, "\n\n"},
		{"ĉ", StyleBPE, "\t"},
		{"Ġ123", StyleBPE, " 123"},
		{"âĢĶ", StyleBPE, "—"},
		{"ĠâĢľ", StyleBPE, " “"},
		{"ä½ł", StyleBPE, "你"},
		{"å¥½", StyleBPE, "好"},
		{"Ã©", StyleBPE, "é"},
		{"âĢ", StyleBPE, "\xe2\x80"},
		{"Ń", StyleBPE, "\xad"},
		{"the", StyleBPE, "the"},
		{"<|endoftext|>", StyleBPE, "<|endoftext|>"},
		{"▁x", StyleBPE, "▁x"}, // outside the byte alphabet: copied
		// Text.
		{"Ġthe", StyleText, "Ġthe"},
		{"▁the", StyleText, "▁the"},
		{" the", StyleText, " the"},
		// Auto, piece by piece.
		{"▁the", StyleAuto, " the"},
		{"▁,", StyleAuto, " ,"},
		{"<0x0A>", StyleAuto, "\n"},
		{"Ġthe", StyleAuto, " the"},
		{"Ċ", StyleAuto, "\n"},
		{"Ġ123", StyleAuto, " 123"},
		{"âĢĶ", StyleAuto, "—"},
		{"ĠâĢľ", StyleAuto, " “"},
		{"ä½ł", StyleAuto, "你"},
		{"Ã©", StyleAuto, "é"},
		{"—", StyleAuto, "—"},
		{"“", StyleAuto, "“"},
		{"你好", StyleAuto, "你好"},
		{"é", StyleAuto, "é"},   // would be the lone byte 0xE9: kept as text
		{"ła", StyleAuto, "ła"}, // would be A0 61, invalid UTF-8: kept
		{"ę", StyleAuto, "ę"},   // would be the control byte 0x19: kept
		{"âĢ", StyleAuto, "âĢ"}, // half a character: kept (documented)
		{"the", StyleAuto, "the"},
		{" the", StyleAuto, " the"},
		{"", StyleAuto, ""},
	}
	for _, tc := range tests {
		if got := NormalizeStyle(tc.piece, tc.style); got != tc.want {
			t.Errorf("NormalizeStyle(%q, %v) = %q, want %q", tc.piece, tc.style, got, tc.want)
		}
		if tc.style == StyleAuto {
			if got := Normalize(tc.piece); got != tc.want {
				t.Errorf("Normalize(%q) = %q, want %q", tc.piece, got, tc.want)
			}
		}
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		text string
		want Class
	}{
		{"", Space},
		{" ", Space},
		{"\n", Space},
		{"\n\n", Space},
		{"\t ", Space},
		{"the", Function},
		{" the", Function},
		{" The", Function},
		{"THE", Function},
		{" I", Function},
		{"'s", Function},
		{"’s", Function},
		{"n't", Function},
		{" don’t", Function},
		{" of", Function},
		{" cat", Content},
		{"Hello", Content},
		{"ing", Content},
		{"你好", Content},
		{" 你", Content},
		{",", Punct},
		{" ,", Punct},
		{".", Punct},
		{").", Punct},
		{" —", Punct},
		{"“", Punct},
		{"...", Punct},
		{"$", Punct},
		{"+", Punct},
		{"🦙", Punct},
		{"**", Punct},
		{". .", Punct},
		{".\n", Punct},
		{"123", Number},
		{" 123", Number},
		{"3.14", Number},
		{"1,000", Number},
		{"½", Number},
		{"1st", Content},
		{"-5", Content}, // a sign is not a separator
		{"\xe2\x80", Content},
	}
	for _, tc := range tests {
		if got := Classify(tc.text); got != tc.want {
			t.Errorf("Classify(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
}

func TestStartsWord(t *testing.T) {
	tests := []struct {
		text string
		want bool
	}{
		{"", false},
		{" the", true},
		{"the", false},
		{"\nfoo", true},
		{"\t", true},
		{" ", true},
		{",", true},
		{"—", true},
		{"“hello", true},
		{"(", true},
		{"'s", true},
		{"你", false},
		{"123", false},
		{"\xe2", false},
	}
	for _, tc := range tests {
		if got := StartsWord(tc.text); got != tc.want {
			t.Errorf("StartsWord(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
}

func TestFunctionWordList(t *testing.T) {
	words := FunctionWords()
	if n := len(words); n < 150 || n > 300 {
		t.Errorf("function-word list has %d entries, want 150–300", n)
	}
	for _, w := range words {
		if len(w) > maxFunctionWordLen {
			t.Errorf("%q is longer than maxFunctionWordLen=%d", w, maxFunctionWordLen)
		}
		if w != strings.ToLower(w) || w != strings.TrimSpace(w) {
			t.Errorf("%q is not lower case and trimmed", w)
		}
	}
	for _, w := range []string{"table", "run", "beautiful", "quickly", "dog"} {
		if IsFunctionWord(w) {
			t.Errorf("IsFunctionWord(%q) = true for a content word", w)
		}
	}
}

func TestNewTable(t *testing.T) {
	pieces := []string{"<s>", "▁the", "▁,", "<0x0A>", "▁cat", "ing", "▁12", "▁—"}
	special := []bool{true}
	tab := NewTable(pieces, special, StyleAuto)
	if tab.Style != StyleSPM {
		t.Fatalf("Style = %v, want spm", tab.Style)
	}
	if tab.Len() != len(pieces) {
		t.Fatalf("Len = %d, want %d", tab.Len(), len(pieces))
	}
	want := []struct {
		text  string
		class Class
		ws    bool
	}{
		{"<s>", Special, true},
		{" the", Function, true},
		{" ,", Punct, true},
		{"\n", Space, true},
		{" cat", Content, true},
		{"ing", Content, false},
		{" 12", Number, true},
		{" —", Punct, true},
	}
	for i, w := range want {
		text, class, ws, ok := tab.Lookup(int32(i))
		if !ok || text != w.text || class != w.class || ws != w.ws {
			t.Errorf("id %d (%q): got (%q, %v, %v, %v), want (%q, %v, %v)", i, pieces[i], text, class, ws, ok, w.text, w.class, w.ws)
		}
	}
	if _, _, _, ok := tab.Lookup(-1); ok {
		t.Error("Lookup(-1) ok")
	}
	if _, _, _, ok := tab.Lookup(int32(len(pieces))); ok {
		t.Error("Lookup(len) ok")
	}
	bpe := NewTable([]string{"Ġthe", "Ċ", "Ġ123", "âĢĶ", "é"}, nil, StyleAuto)
	if bpe.Style != StyleBPE {
		t.Fatalf("Style = %v, want bpe", bpe.Style)
	}
	// With the vocabulary's style known, a lone Latin-1 rune is a byte.
	wantText := []string{" the", "\n", " 123", "—", "\xe9"}
	wantClass := []Class{Function, Space, Number, Punct, Content}
	for i := range wantText {
		if bpe.Text[i] != wantText[i] || bpe.Class[i] != wantClass[i] {
			t.Errorf("bpe id %d: (%q, %v), want (%q, %v)", i, bpe.Text[i], bpe.Class[i], wantText[i], wantClass[i])
		}
	}
}

// ggufKinds maps GGUF token types (llama.cpp's LLAMA_TOKEN_TYPE_*) to kinds:
// 3 control → KindSpecial, 4 user-defined → KindText.
func ggufKinds(types []int32) []Kind {
	kinds := make([]Kind, len(types))
	for i, typ := range types {
		switch typ {
		case 3:
			kinds[i] = KindSpecial
		case 4:
			kinds[i] = KindText
		}
	}
	return kinds
}

// splitInp splits a llama.cpp tokenizer .inp file (see the testdata README).
func splitInp(data string) []string {
	const sep = "\n__ggml_vocab_test__\n"
	var out []string
	for {
		i := strings.Index(data, sep)
		if i < 0 {
			return out
		}
		out = append(out, data[:i])
		data = data[i+len(sep):]
	}
}

// TestRealVocabsRoundTrip checks normalization against llama.cpp's own
// tokenizer test vectors: the ids llama.cpp produced for each test string,
// mapped through the vocabulary and normalized, must concatenate back to the
// string (SentencePiece: with the dummy-prefix space in front).
func TestRealVocabsRoundTrip(t *testing.T) {
	tests := []struct {
		vocab  string
		style  Style
		prefix string
	}{
		{"ggml-vocab-llama-spm.gguf", StyleSPM, " "},
		{"ggml-vocab-gpt-2.gguf", StyleBPE, ""},
		{"ggml-vocab-falcon.gguf", StyleBPE, ""},
		{"ggml-vocab-mpt.gguf", StyleBPE, ""},
		{"ggml-vocab-refact.gguf", StyleBPE, ""},
		{"ggml-vocab-deepseek-llm.gguf", StyleBPE, ""},
	}
	for _, tc := range tests {
		t.Run(tc.vocab, func(t *testing.T) {
			path := testdata.Path(t, "tokenizer/"+tc.vocab)
			v, err := readGGUFVocab(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := DetectStyle(v.tokens); got != tc.style {
				t.Fatalf("DetectStyle = %v, want %v", got, tc.style)
			}
			inp, err := os.ReadFile(path + ".inp")
			if err != nil {
				t.Fatal(err)
			}
			out, err := os.ReadFile(path + ".out")
			if err != nil {
				t.Fatal(err)
			}
			inputs := splitInp(string(inp))
			lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
			if len(lines) != len(inputs) {
				t.Fatalf("%d inputs but %d output lines", len(inputs), len(lines))
			}
			tab := NewTableKinds(v.tokens, ggufKinds(v.types), StyleAuto)
			for i, in := range inputs {
				var sb strings.Builder
				for _, f := range strings.Fields(lines[i]) {
					id, err := strconv.Atoi(f)
					if err != nil || id < 0 || id >= tab.Len() {
						t.Fatalf("case %d: bad id %q", i, f)
					}
					sb.WriteString(tab.Text[id])
				}
				want := in
				if in != "" {
					want = tc.prefix + in
				}
				if sb.String() != want {
					t.Errorf("case %d: normalized pieces give %q, want %q", i, sb.String(), want)
				}
			}
		})
	}
}

func TestRealVocabStyles(t *testing.T) {
	tests := []struct {
		file  string
		style Style
	}{
		{"tokenizer/ggml-vocab-baichuan.gguf", StyleSPM},
		{"tokenizer/ggml-vocab-gpt-neox.gguf", StyleBPE},
		{"models/stories260K.gguf", StyleSPM},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			v, err := readGGUFVocab(testdata.Path(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if got := DetectStyle(v.tokens); got != tc.style {
				t.Fatalf("DetectStyle = %v, want %v", got, tc.style)
			}
			kinds := ggufKinds(v.types)
			tab := NewTableKinds(v.tokens, kinds, StyleAuto)
			// Every piece that is a plain spelling of a word we know must
			// classify as expected, wherever the vocabulary put it.
			found := 0
			for id, p := range v.tokens {
				if kinds[id] == KindSpecial {
					if tab.Class[id] != Special {
						t.Errorf("control id %d %q: class %v", id, p, tab.Class[id])
					}
					continue
				}
				switch p {
				case map[Style]string{StyleSPM: "<0x0A>", StyleBPE: "Ċ"}[tab.Style]:
					found++
					if tab.Text[id] != "\n" || tab.Class[id] != Space || !tab.WordStart[id] {
						t.Errorf("newline piece %d %q: (%q, %v, %v)", id, p, tab.Text[id], tab.Class[id], tab.WordStart[id])
					}
				case map[Style]string{StyleSPM: "▁the", StyleBPE: "Ġthe"}[tab.Style]:
					found++
					if tab.Text[id] != " the" || tab.Class[id] != Function || !tab.WordStart[id] {
						t.Errorf("the piece %d %q: (%q, %v, %v)", id, p, tab.Text[id], tab.Class[id], tab.WordStart[id])
					}
				}
				if tab.Style == StyleSPM && !utf8.ValidString(tab.Text[id]) {
					if _, ok := byteToken(p); !ok {
						t.Errorf("SPM piece %d %q normalized to invalid UTF-8", id, p)
					}
				}
			}
			if found != 2 {
				t.Errorf("found %d of the newline and \"the\" pieces, want 2", found)
			}
		})
	}
}

func BenchmarkNormalizeClassify(b *testing.B) {
	pieces := []string{"▁the", "Ġthe", "âĢĶ", "ing", "<0x0A>", "▁123", "ä½ł"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p := pieces[i%len(pieces)]
		Classify(Normalize(p))
	}
}
