package gguf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/baco-go/baco/internal/testdata"
)

// stories260K facts, computed independently with a Python struct-based
// reader and cross-checked with the llama2.c checkpoint stories260K.bin.
const (
	storiesTensors    = 48
	storiesKVs        = 19
	storiesDataOffset = 14176
	storiesFileSize   = 1185376
)

func openStories(t *testing.T) *File {
	t.Helper()
	f, err := Open(testdata.Path(t, "models/stories260K.gguf"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestStories260KMetadata(t *testing.T) {
	f := openStories(t)
	if f.Version != 3 || len(f.Tensors) != storiesTensors || len(f.KVs) != storiesKVs {
		t.Fatalf("version %d, %d tensors, %d kvs; want 3, %d, %d", f.Version, len(f.Tensors), len(f.KVs), storiesTensors, storiesKVs)
	}
	if f.Alignment != 32 || f.DataOffset != storiesDataOffset {
		t.Errorf("alignment %d data offset %d, want 32 %d", f.Alignment, f.DataOffset, storiesDataOffset)
	}
	if f.Arch() != "llama" {
		t.Errorf("Arch() = %q", f.Arch())
	}
	uints := []struct {
		key  string
		want uint64
	}{
		{"llama.context_length", 128},
		{"llama.embedding_length", 64},
		{"llama.feed_forward_length", 172},
		{"llama.attention.head_count", 8},
		{"llama.attention.head_count_kv", 4},
		{"llama.block_count", 5},
		{"llama.rope.dimension_count", 8},
		{"tokenizer.ggml.unknown_token_id", 0},
		{"tokenizer.ggml.bos_token_id", 1},
		{"tokenizer.ggml.eos_token_id", 2},
		{"tokenizer.ggml.padding_token_id", math.MaxUint32},
	}
	for _, c := range uints {
		got, ok := f.Uint(c.key)
		if !ok || got != c.want {
			t.Errorf("Uint(%q) = %d, %v; want %d", c.key, got, ok, c.want)
		}
		if kv, _ := f.KV(c.key); kv.Type != TypeUint32 {
			t.Errorf("%q type %v, want UINT32", c.key, kv.Type)
		}
	}
	if eps, ok := f.Float("llama.attention.layer_norm_rms_epsilon"); !ok || eps != float64(float32(1e-5)) {
		t.Errorf("rms epsilon = %v, %v", eps, ok)
	}
	if s, _ := f.String("tokenizer.ggml.model"); s != "llama" {
		t.Errorf("tokenizer.ggml.model = %q", s)
	}
	toks, ok := f.Strings("tokenizer.ggml.tokens")
	if !ok || len(toks) != 512 {
		t.Fatalf("tokens: %d, %v", len(toks), ok)
	}
	for i, want := range map[int]string{0: "<unk>", 1: "<s>", 2: "</s>", 3: "<0x00>", 258: "<0xFF>", 510: "~", 511: "\u200a"} {
		if toks[i] != want {
			t.Errorf("token %d = %q, want %q", i, toks[i], want)
		}
	}
	scores, ok := f.Float32s("tokenizer.ggml.scores")
	if !ok || len(scores) != 512 || scores[0] != 0 || scores[510] != -251 || scores[511] != -252 {
		t.Errorf("scores: len %d ok %v", len(scores), ok)
	}
	types, ok := f.Int32s("tokenizer.ggml.token_type")
	if !ok || len(types) != 512 || types[0] != 2 || types[1] != 3 || types[3] != 6 || types[511] != 1 {
		t.Errorf("token types: len %d ok %v", len(types), ok)
	}
	if _, ok := f.String("no.such.key"); ok {
		t.Error("absent key reported present")
	}
	if _, ok := f.String("llama.block_count"); ok {
		t.Error("String accepted a UINT32")
	}
}

func TestStories260KTensors(t *testing.T) {
	f := openStories(t)
	cases := []struct {
		name   string
		dims   []uint64
		offset uint64
	}{
		{"token_embd.weight", []uint64{64, 512}, 0},
		{"output_norm.weight", []uint64{64}, 131072},
		{"output.weight", []uint64{64, 512}, 131328},
		{"blk.0.attn_k.weight", []uint64{64, 32}, 278784},
		{"blk.0.ffn_down.weight", []uint64{172, 64}, 355840},
		{"blk.4.ffn_norm.weight", []uint64{64}, 1170944},
	}
	for _, c := range cases {
		ti, ok := f.Tensor(c.name)
		if !ok {
			t.Errorf("tensor %q missing", c.name)
			continue
		}
		n := uint64(1)
		for _, d := range c.dims {
			n *= d
		}
		if ti.Type != TypeF32 || ti.Offset != c.offset || !equalU64(ti.Dims, c.dims) ||
			ti.Elements() != n || ti.Size != 4*n || uint64(len(ti.Data)) != 4*n {
			t.Errorf("%s: type %v dims %v offset %d size %d len %d", c.name, ti.Type, ti.Dims, ti.Offset, ti.Size, len(ti.Data))
		}
	}
	// The last tensor ends exactly at the end of the file.
	last := f.Tensors[len(f.Tensors)-1]
	if f.DataOffset+last.Offset+last.Size != storiesFileSize {
		t.Errorf("last tensor ends at %d, want %d", f.DataOffset+last.Offset+last.Size, storiesFileSize)
	}
}

// TestStories260KMatchesLlama2c compares tensor bytes with the llama2.c
// checkpoint the GGUF was converted from: token embeddings, the attention
// and ffn RMS norms and the final norm are stored unpermuted in both.
func TestStories260KMatchesLlama2c(t *testing.T) {
	f := openStories(t)
	bin, err := os.ReadFile(testdata.Path(t, "models/stories260K.bin"))
	if err != nil {
		t.Fatal(err)
	}
	var hdr [7]int32
	if err := binary.Read(bytes.NewReader(bin), binary.LittleEndian, &hdr); err != nil {
		t.Fatal(err)
	}
	dim, hidden, layers, heads, kvHeads, vocab := int(hdr[0]), int(hdr[1]), int(hdr[2]), int(hdr[3]), int(hdr[4]), int(hdr[5])
	if dim != 64 || vocab != 512 || layers != 5 {
		t.Fatalf("unexpected llama2.c header %v", hdr)
	}
	kvDim := dim * kvHeads / heads
	off := 28
	take := func(n int) []byte { b := bin[off : off+4*n]; off += 4 * n; return b }
	emb := take(vocab * dim)
	rmsAtt := take(layers * dim)
	take(layers * (dim*dim + 2*dim*kvDim + dim*dim)) // wq wk wv wo
	rmsFFN := take(layers * dim)
	take(layers * 3 * hidden * dim) // w1 w2 w3
	rmsFinal := take(dim)

	check := func(name string, want []byte) {
		ti, ok := f.Tensor(name)
		if !ok {
			t.Fatalf("tensor %q missing", name)
		}
		if !bytes.Equal(ti.Data, want) {
			t.Errorf("%s bytes differ from stories260K.bin", name)
		}
	}
	check("token_embd.weight", emb)
	check("output_norm.weight", rmsFinal)
	for l := range layers {
		check(blk(l, "attn_norm"), rmsAtt[l*dim*4:(l+1)*dim*4])
		check(blk(l, "ffn_norm"), rmsFFN[l*dim*4:(l+1)*dim*4])
	}
	// One hand-read value: the first embedding element.
	ti, _ := f.Tensor("token_embd.weight")
	if got := math.Float32frombits(binary.LittleEndian.Uint32(ti.Data)); got != -0.29474878 {
		t.Errorf("token_embd[0] = %v", got)
	}
}

func blk(l int, s string) string {
	return "blk." + string(rune('0'+l)) + "." + s + ".weight"
}

func equalU64(a, b []uint64) bool {
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

// Vocab GGUFs from llama.cpp: facts computed with an independent Python
// reader.
func TestVocabFiles(t *testing.T) {
	cases := []struct {
		file, arch  string
		kvs, tokens int
		first, last string
		merges      int
		bos, eos    int64
		pieceBytes  int
	}{
		{"ggml-vocab-baichuan.gguf", "baichuan", 18, 64000, "<unk>", "\uf1e9", 0, 1, 2, 316144},
		{"ggml-vocab-bert-bge.gguf", "bert", 20, 30522, "[PAD]", "\uff5e", 0, -1, -1, 260415},
		{"ggml-vocab-deepseek-llm.gguf", "llama", 23, 102400, "!", "[PAD102399]", 99757, 100000, 100001, 934635},
		{"ggml-vocab-falcon.gguf", "falcon", 18, 65024, ">>TITLE<<", "\u0120victoria", 64784, 11, 11, 462041},
		{"ggml-vocab-gpt-2.gguf", "gpt2", 16, 50257, "!", "<|endoftext|>", 50000, 50256, 50256, 356735},
		{"ggml-vocab-gpt-neox.gguf", "gptneox", 17, 50432, "<|endoftext|>", "[PAD50431]", 50009, 0, 0, 358831},
		{"ggml-vocab-llama-spm.gguf", "llama", 22, 32000, "<unk>", "\u7ed9", 0, 1, 2, 210919},
		{"ggml-vocab-mpt.gguf", "mpt", 17, 50432, "<|endoftext|>", "[PAD50431]", 50009, 0, 0, 358831},
		{"ggml-vocab-refact.gguf", "refact", 18, 49216, "<|endoftext|>", "[PAD49215]", 48891, 0, 0, 345288},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			f, err := Open(testdata.Path(t, filepath.Join("tokenizer", c.file)))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if f.Arch() != c.arch || len(f.KVs) != c.kvs || len(f.Tensors) != 0 {
				t.Errorf("arch %q kvs %d tensors %d", f.Arch(), len(f.KVs), len(f.Tensors))
			}
			toks, _ := f.Strings("tokenizer.ggml.tokens")
			if len(toks) != c.tokens || toks[0] != c.first || toks[len(toks)-1] != c.last {
				t.Fatalf("tokens: %d first %q last %q", len(toks), toks[0], toks[len(toks)-1])
			}
			n := 0
			for _, s := range toks {
				n += len(s)
			}
			if n != c.pieceBytes {
				t.Errorf("token bytes %d, want %d", n, c.pieceBytes)
			}
			merges, _ := f.Strings("tokenizer.ggml.merges")
			if len(merges) != c.merges {
				t.Errorf("merges %d, want %d", len(merges), c.merges)
			}
			for key, want := range map[string]int64{"tokenizer.ggml.bos_token_id": c.bos, "tokenizer.ggml.eos_token_id": c.eos} {
				got, ok := f.Int(key)
				if !ok {
					got = -1
				}
				if got != want {
					t.Errorf("%s = %d, want %d", key, got, want)
				}
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.gguf")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(empty); !errors.Is(err, ErrMalformed) {
		t.Errorf("empty file: %v", err)
	}
	if _, err := Open(filepath.Join(dir, "absent.gguf")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("absent file: %v", err)
	}
}

func TestCloseTwice(t *testing.T) {
	f, err := Open(testdata.Path(t, "models/stories260K.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
