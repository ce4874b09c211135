package gguf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/baco-go/baco/internal/testdata"
)

func readStories(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(testdata.Path(t, "models/stories260K.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkErr asserts err is a *FormatError wrapping want whose message
// contains every sub string.
func checkErr(t *testing.T, err error, want error, subs ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %v containing %q", want, subs)
	}
	if !errors.Is(err, want) {
		t.Errorf("error %q does not wrap %v", err, want)
	}
	var fe *FormatError
	if !errors.As(err, &fe) {
		t.Errorf("error %q is not a *FormatError", err)
	}
	for _, s := range subs {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q lacks %q", err, s)
		}
	}
}

func TestTruncatedStories(t *testing.T) {
	orig := readStories(t)
	// Every cut inside the metadata and the tensor infos, then a spread of
	// cuts through the data section.
	var cuts []int
	for n := 0; n < storiesDataOffset+64; n++ {
		cuts = append(cuts, n)
	}
	for n := storiesDataOffset + 64; n < len(orig); n += 997 {
		cuts = append(cuts, n)
	}
	cuts = append(cuts, len(orig)-1)
	for _, n := range cuts {
		f, err := Parse(orig[:n:n])
		if err == nil {
			t.Fatalf("truncated to %d bytes: parsed %d tensors", n, len(f.Tensors))
		}
		if !errors.Is(err, ErrMalformed) {
			t.Fatalf("truncated to %d bytes: %v does not wrap ErrMalformed", n, err)
		}
	}
}

func TestTruncatedVocab(t *testing.T) {
	orig, err := os.ReadFile(testdata.Path(t, filepath.Join("tokenizer", "ggml-vocab-llama-spm.gguf")))
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(orig); n += 1 + n/8 {
		if _, err := Parse(orig[:n:n]); !errors.Is(err, ErrMalformed) {
			t.Fatalf("truncated to %d bytes: %v", n, err)
		}
	}
	if _, err := Parse(orig[: len(orig)-1 : len(orig)-1]); !errors.Is(err, ErrMalformed) {
		t.Fatalf("one byte short: %v", err)
	}
}

// storiesOffsets locates fields of stories260K.gguf: the layout was read
// with an independent Python reader (kv[0] is tokenizer.ggml.tokens).
type storiesOffsets struct {
	tokensType, tokensElemType, tokensLen, firstTokenLen          int
	embdName, embdNDims, embdDim0, embdDim1, embdType, embdOffset int
	normOffset                                                    int
}

func locate(t *testing.T, b []byte) storiesOffsets {
	t.Helper()
	var o storiesOffsets
	o.tokensType = 24 + 8 + len("tokenizer.ggml.tokens")
	o.tokensElemType = o.tokensType + 4
	o.tokensLen = o.tokensElemType + 4
	o.firstTokenLen = o.tokensLen + 8
	i := bytes.Index(b, []byte("token_embd.weight"))
	if i < 8 {
		t.Fatal("token_embd.weight not found")
	}
	o.embdName = i - 8
	o.embdNDims = i + len("token_embd.weight")
	o.embdDim0 = o.embdNDims + 4
	o.embdDim1 = o.embdDim0 + 8
	o.embdType = o.embdDim1 + 8
	o.embdOffset = o.embdType + 4
	j := bytes.Index(b, []byte("output_norm.weight"))
	o.normOffset = j + len("output_norm.weight") + 4 + 8 + 4
	if binary.LittleEndian.Uint64(b[o.normOffset:]) != 131072 {
		t.Fatal("output_norm.weight offset not where expected")
	}
	return o
}

func TestCorruptStories(t *testing.T) {
	orig := readStories(t)
	o := locate(t, orig)
	le := binary.LittleEndian
	put32 := func(off int, v uint32) func([]byte) { return func(b []byte) { le.PutUint32(b[off:], v) } }
	put64 := func(off int, v uint64) func([]byte) { return func(b []byte) { le.PutUint64(b[off:], v) } }
	rename := func(from, to string) func([]byte) {
		return func(b []byte) {
			i := bytes.Index(b, []byte(from))
			copy(b[i:], to)
		}
	}
	cases := []struct {
		name   string
		mutate func([]byte)
		want   error
		subs   []string
	}{
		{"bad magic", func(b []byte) { b[3] = 'X' }, ErrMalformed, []string{"bad magic"}},
		{"big-endian magic", func(b []byte) { copy(b, "FUGG") }, ErrUnsupported, []string{"big-endian"}},
		{"version 1", put32(4, 1), ErrUnsupported, []string{"version 1"}},
		{"big-endian version", func(b []byte) { binary.BigEndian.PutUint32(b[4:], 3) }, ErrUnsupported, []string{"big-endian"}},
		{"version 4", put32(4, 4), ErrUnsupported, []string{"version 4"}},
		{"huge tensor count", put64(8, 1<<62), ErrMalformed, []string{"header", "tensor count 4611686018427387904 exceeds"}},
		{"tensor count +1", put64(8, storiesTensors+1), ErrMalformed, []string{"tensor[48]"}},
		{"huge kv count", put64(16, 1<<40), ErrMalformed, []string{"kv count 1099511627776 exceeds"}},
		{"huge key length", put64(24, 1<<63), ErrMalformed, []string{"kv[0]", "key length 9223372036854775808 exceeds remaining"}},
		{"empty key", func(b []byte) { le.PutUint64(b[24:], 0) }, ErrMalformed, []string{"kv[0]", "empty key"}},
		{"unknown value type", put32(o.tokensType, 13), ErrMalformed, []string{`kv[0] "tokenizer.ggml.tokens"`, "unknown value type 13"}},
		{"unknown element type", put32(o.tokensElemType, 99), ErrMalformed, []string{"unknown array element type 99"}},
		{"huge array length", put64(o.tokensLen, 4294967295), ErrMalformed, []string{`kv[0] "tokenizer.ggml.tokens": array length 4294967295 exceeds remaining`}},
		{"huge string length", put64(o.firstTokenLen, 1<<50), ErrMalformed, []string{`kv[0] "tokenizer.ggml.tokens" element 0`, "string length 1125899906842624 exceeds remaining"}},
		{"duplicate key", rename("tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id"), ErrMalformed, []string{`"tokenizer.ggml.eos_token_id": duplicate key`}},
		{"huge tensor name length", put64(o.embdName, 1<<40), ErrMalformed, []string{"tensor[0]", "name length"}},
		{"n_dims 5", put32(o.embdNDims, 5), ErrMalformed, []string{`tensor[0] "token_embd.weight"`, "n_dims 5 exceeds the maximum 4"}},
		{"negative dim", put64(o.embdDim0, 1<<63), ErrMalformed, []string{"dim[0]", "negative"}},
		{"element overflow", func(b []byte) { le.PutUint64(b[o.embdDim0:], 1<<40); le.PutUint64(b[o.embdDim1:], 1<<40) }, ErrMalformed, []string{"element count overflows at dim[1]"}},
		{"size overflow", func(b []byte) { le.PutUint64(b[o.embdDim0:], 1<<62); le.PutUint64(b[o.embdDim1:], 1) }, ErrMalformed, []string{"tensor size overflows"}},
		{"huge dims", func(b []byte) { le.PutUint64(b[o.embdDim0:], 1<<30); le.PutUint64(b[o.embdDim1:], 1<<30) }, ErrMalformed, []string{`tensor[0] "token_embd.weight"`, "runs past the end"}},
		{"removed tensor type", put32(o.embdType, 31), ErrUnsupported, []string{"Q4_0_4_4 (31) was removed"}},
		{"unknown tensor type", put32(o.embdType, 1000), ErrUnsupported, []string{`tensor[0] "token_embd.weight": unknown tensor type 1000`}},
		{"row not a block multiple", put32(o.embdType, uint32(TypeQ4_K)), ErrMalformed, []string{"row length 64 is not a multiple of the Q4_K block size 256"}},
		{"unaligned offset", put64(o.embdOffset, 4), ErrMalformed, []string{"offset 4 is not a multiple of the alignment 32"}},
		{"offset past end", put64(o.embdOffset, 1<<40), ErrMalformed, []string{"runs past the end"}},
		{"offset near max", put64(o.embdOffset, ^uint64(31)), ErrMalformed, []string{"runs past the end"}},
		{"overlap", put64(o.normOffset, 64), ErrMalformed, []string{`tensor[1] "output_norm.weight"`, `overlaps tensor "token_embd.weight"`}},
		{"duplicate tensor name", rename("blk.0.attn_k.weight", "blk.0.attn_q.weight"), ErrMalformed, []string{`"blk.0.attn_q.weight": duplicate tensor name`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := bytes.Clone(orig)
			c.mutate(b)
			_, err := Parse(b)
			checkErr(t, err, c.want, c.subs...)
		})
	}
}

// Hand-built images for problems stories260K cannot show.
func TestCorruptCrafted(t *testing.T) {
	le := binary.LittleEndian
	header := func(tensors, kvs uint64) []byte {
		b := []byte(Magic)
		b = le.AppendUint32(b, 3)
		b = le.AppendUint64(b, tensors)
		return le.AppendUint64(b, kvs)
	}
	kv := func(b []byte, key string, t ValueType) []byte {
		b = appendString(b, key)
		return le.AppendUint32(b, uint32(t))
	}
	nested := func(depth int) []byte {
		b := kv(header(0, 1), "deep", TypeArray)
		for range depth {
			b = le.AppendUint32(b, uint32(TypeArray))
			b = le.AppendUint64(b, 1)
		}
		b = le.AppendUint32(b, uint32(TypeInt32))
		return le.AppendUint64(b, 0)
	}
	cases := []struct {
		name string
		data []byte
		want error
		subs []string
	}{
		{"empty", nil, ErrMalformed, []string{"magic"}},
		{"bool 2", append(kv(header(0, 1), "b", TypeBool), 2), ErrMalformed, []string{`kv[0] "b": bool value 2`}},
		{"bool array 7", append(le.AppendUint64(le.AppendUint32(kv(header(0, 1), "b", TypeArray), uint32(TypeBool)), 2), 1, 7), ErrMalformed, []string{`kv[0] "b" element 1: bool value 7`}},
		{"alignment type", le.AppendUint64(kv(header(0, 1), KeyAlignment, TypeUint64), 32), ErrMalformed, []string{"alignment has type UINT64"}},
		{"alignment 0", le.AppendUint32(kv(header(0, 1), KeyAlignment, TypeUint32), 0), ErrMalformed, []string{"alignment 0 is not a power of two"}},
		{"alignment 48", le.AppendUint32(kv(header(0, 1), KeyAlignment, TypeUint32), 48), ErrMalformed, []string{"alignment 48"}},
		{"nested too deep", nested(maxArrayDepth + 1), ErrMalformed, []string{"nested deeper"}},
		{"nested array huge", le.AppendUint64(le.AppendUint32(kv(header(0, 1), "n", TypeArray), uint32(TypeArray)), 1<<40), ErrMalformed, []string{"array length 1099511627776 exceeds"}},
		{"empty tensor name", append(appendString(header(1, 0), ""), make([]byte, 16)...), ErrMalformed, []string{"tensor[0]: empty tensor name"}},
		{"data section past end", func() []byte {
			b := appendString(header(1, 0), "t")
			b = le.AppendUint32(b, 1)
			b = le.AppendUint64(b, 1)
			b = le.AppendUint32(b, uint32(TypeF32))
			return le.AppendUint64(b, 0)
		}(), ErrMalformed, []string{"data section starts at 64, past the end of the 57-byte file"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.data)
			checkErr(t, err, c.want, c.subs...)
		})
	}
	if _, err := Parse(nested(maxArrayDepth - 1)); err != nil {
		t.Errorf("nesting %d refused: %v", maxArrayDepth-1, err)
	}
}

// TestHostileCountsAllocateLittle: files that claim enormous counts are
// refused before anything sized by the claim is allocated.
func TestHostileCountsAllocateLittle(t *testing.T) {
	le := binary.LittleEndian
	b := []byte(Magic)
	b = le.AppendUint32(b, 3)
	b = le.AppendUint64(b, 0)
	b = le.AppendUint64(b, 1)
	b = appendString(b, "k")
	b = le.AppendUint32(b, uint32(TypeArray))
	b = le.AppendUint32(b, uint32(TypeString))
	b = le.AppendUint64(b, 1<<32)
	b = append(b, make([]byte, 64)...)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 100 {
		if _, err := Parse(b); !errors.Is(err, ErrMalformed) {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if d := after.TotalAlloc - before.TotalAlloc; d > 1<<20 {
		t.Errorf("100 parses of a %d-byte hostile file allocated %d bytes", len(b), d)
	}
}

// readStoriesIfPresent returns stories260K.gguf, or nil when the test data
// is absent (the fuzz seeds then come from the Builder alone).
func readStoriesIfPresent(testing.TB) []byte {
	root := testdata.Root()
	if root == "" {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(root, "models", "stories260K.gguf"))
	if err != nil {
		return nil
	}
	return b
}
