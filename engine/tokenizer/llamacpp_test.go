package tokenizer

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/baco-go/baco/engine/gguf"
	"github.com/baco-go/baco/internal/testdata"
)

// refFile is one testdata/llamacpp/*.json.gz file written by
// testdata/gen/refdump.cpp from llama.cpp (see testdata/README.md).
type refFile struct {
	Commit       string  `json:"llama_cpp_commit"`
	PreOverride  string  `json:"pre_override"`
	NVocab       int     `json:"n_vocab"`
	BOS          int32   `json:"bos"`
	EOS          int32   `json:"eos"`
	EOT          int32   `json:"eot"`
	AddBOS       bool    `json:"add_bos"`
	TextSHA      string  `json:"token_text_sha256"`
	PlainTextSHA string  `json:"token_text_plain_sha256"`
	Control      []int32 `json:"control"`
	EOG          []int32 `json:"eog"`
	Cases        []struct {
		Text         *string `json:"text"`
		TextHex      string  `json:"text_hex"`
		AddSpecial   bool    `json:"add_special"`
		ParseSpecial bool    `json:"parse_special"`
		IDs          []int32 `json:"ids"`
		Decoded      *string `json:"decoded"`
		DecodedHex   string  `json:"decoded_hex"`
	} `json:"cases"`
}

func str(s *string, hexForm string, tb testing.TB) string {
	if s != nil {
		return *s
	}
	b, err := hex.DecodeString(hexForm)
	if err != nil {
		tb.Fatalf("bad hex %q: %v", hexForm, err)
	}
	return string(b)
}

func readRef(tb testing.TB, path string) *refFile {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	var r refFile
	if err := json.Unmarshal(data, &r); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return &r
}

// refVocabPath maps a reference file name to the shared GGUF it was made
// from and the tokenizer.ggml.pre it was recorded with ("" to keep).
func refVocabPath(name string) (rel, pre string) {
	base, pre, _ := strings.Cut(name, "+")
	if base == "stories260K" {
		return "models/stories260K.gguf", pre
	}
	return "tokenizer/ggml-vocab-" + base + ".gguf", pre
}

// openWithPre opens a shared GGUF, replacing tokenizer.ggml.pre when pre is
// not "", as refdump did before handing the file to llama.cpp.
func openWithPre(tb testing.TB, rel, pre string) *Tokenizer {
	tb.Helper()
	f, err := gguf.Open(testdata.Path(tb, rel))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if pre != "" {
		b, err := gguf.NewBuilderFrom(f)
		if err != nil {
			tb.Fatal(err)
		}
		if err := b.SetKV("tokenizer.ggml.pre", pre); err != nil {
			tb.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := b.WriteTo(&buf); err != nil {
			tb.Fatal(err)
		}
		if f, err = gguf.Parse(buf.Bytes()); err != nil {
			tb.Fatal(err)
		}
	}
	tok, err := FromGGUF(f)
	if err != nil {
		tb.Fatalf("%s (pre %q): %v", rel, pre, err)
	}
	return tok
}

func pieceDigest(n int, piece func(int32) string) string {
	h := sha256.New()
	var l [8]byte
	for id := int32(0); int(id) < n; id++ {
		p := piece(id)
		binary.LittleEndian.PutUint64(l[:], uint64(len(p)))
		h.Write(l[:])
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestLlamaCppRecorded compares Encode (three modes), Decode, TokenText,
// the control and end-of-generation sets and the special ids with what
// llama.cpp produced for the same vocabularies, including the gpt-2
// vocabulary re-labelled with other pre-tokenizer types.
func TestLlamaCppRecorded(t *testing.T) {
	files, err := filepath.Glob("testdata/llamacpp/*.json.gz")
	if err != nil || len(files) == 0 {
		t.Fatalf("no reference files: %v", err)
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".json.gz")
		t.Run(name, func(t *testing.T) {
			ref := readRef(t, path)
			rel, pre := refVocabPath(name)
			tok := openWithPre(t, rel, pre)
			if tok.VocabSize() != ref.NVocab {
				t.Fatalf("VocabSize %d, llama.cpp %d", tok.VocabSize(), ref.NVocab)
			}
			if tok.BOS() != ref.BOS || tok.EOS() != ref.EOS || tok.EOT() != ref.EOT || tok.AddBOS() != ref.AddBOS {
				t.Errorf("BOS/EOS/EOT/AddBOS = %d/%d/%d/%v, llama.cpp %d/%d/%d/%v",
					tok.BOS(), tok.EOS(), tok.EOT(), tok.AddBOS(), ref.BOS, ref.EOS, ref.EOT, ref.AddBOS)
			}
			if got := pieceDigest(tok.VocabSize(), tok.TokenText); got != ref.TextSHA {
				t.Errorf("TokenText digest %s, llama.cpp token_to_piece(special=true) %s", got, ref.TextSHA)
			}
			plain := func(id int32) string {
				if tok.attrs[id]&(attrControl|attrUnknown) != 0 {
					return ""
				}
				return tok.TokenText(id)
			}
			if got := pieceDigest(tok.VocabSize(), plain); got != ref.PlainTextSHA {
				t.Errorf("per-token Decode digest %s, llama.cpp token_to_piece(special=false) %s", got, ref.PlainTextSHA)
			}
			if got := tok.ControlIDs(); !equalIDs(got, ref.Control) {
				t.Errorf("ControlIDs %v, llama.cpp %v", got, ref.Control)
			}
			if got := tok.StopIDs(); !equalIDs(got, ref.EOG) {
				t.Errorf("StopIDs %v, llama.cpp %v", got, ref.EOG)
			}
			fails := 0
			for i, c := range ref.Cases {
				text := str(c.Text, c.TextHex, t)
				got := tok.Encode(text, c.AddSpecial, c.ParseSpecial)
				if !equalIDs(got, c.IDs) {
					t.Errorf("case %d Encode(%q, %v, %v):\n got %v\nwant %v", i, text, c.AddSpecial, c.ParseSpecial, got, c.IDs)
					fails++
				}
				want := str(c.Decoded, c.DecodedHex, t)
				if dec := tok.Decode(c.IDs); dec != want {
					t.Errorf("case %d Decode(%v):\n got %q\nwant %q", i, c.IDs, dec, want)
					fails++
				}
				if fails > 10 {
					t.Fatal("too many failures")
				}
			}
		})
	}
}
