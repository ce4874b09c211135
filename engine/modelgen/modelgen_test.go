package modelgen

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/baco-go/baco/engine/gguf"
	"github.com/baco-go/baco/engine/tensor"
	"github.com/baco-go/baco/internal/testdata"
)

var (
	tinyLlama = Shape{Arch: "llama", Dim: 64, Layers: 2, Heads: 4, KVHeads: 2, FF: 96, Vocab: 300, CtxLen: 64, RopeBase: 500, RMSEps: 1e-6}
	tinyQwen  = Shape{Arch: "qwen2", Dim: 64, Layers: 1, Heads: 4, KVHeads: 1, FF: 128, Vocab: 320, TiedEmbeddings: true, QKVBias: true}
	// kLlama has rows that fill whole 256-element super-blocks.
	kLlama = Shape{Arch: "llama", Dim: 256, Layers: 1, Heads: 4, KVHeads: 4, FF: 512, Vocab: 260, TiedEmbeddings: true}
)

// llama.cpp's llama_ftype values (include/llama.h).
var wantFileType = map[gguf.TensorType]uint64{
	gguf.TypeF32: 0, gguf.TypeF16: 1, gguf.TypeQ4_0: 2, gguf.TypeQ8_0: 7,
	gguf.TypeQ4_K: 15, gguf.TypeQ6_K: 18, gguf.TypeBF16: 32,
}

type wantTensor struct {
	name string
	dims []uint64
	mat  bool // a weight matrix (in the requested type or its fallback)
}

// expectedTensors lists, by hand from llama.cpp's tensor naming, what a
// model of shape s holds.
func expectedTensors(s Shape) []wantTensor {
	d, ff, v := uint64(s.Dim), uint64(s.FF), uint64(s.Vocab)
	hd := uint64(s.Dim / s.Heads)
	q, kv := uint64(s.Heads)*hd, uint64(s.KVHeads)*hd
	out := []wantTensor{{"token_embd.weight", []uint64{d, v}, true}, {"output_norm.weight", []uint64{d}, false}}
	if !s.TiedEmbeddings {
		out = append(out, wantTensor{"output.weight", []uint64{d, v}, true})
	}
	for i := range s.Layers {
		p := fmt.Sprintf("blk.%d.", i)
		out = append(out,
			wantTensor{p + "attn_norm.weight", []uint64{d}, false},
			wantTensor{p + "attn_q.weight", []uint64{d, q}, true},
			wantTensor{p + "attn_k.weight", []uint64{d, kv}, true},
			wantTensor{p + "attn_v.weight", []uint64{d, kv}, true},
			wantTensor{p + "attn_output.weight", []uint64{q, d}, true})
		if s.QKVBias {
			out = append(out,
				wantTensor{p + "attn_q.bias", []uint64{q}, false},
				wantTensor{p + "attn_k.bias", []uint64{kv}, false},
				wantTensor{p + "attn_v.bias", []uint64{kv}, false})
		}
		out = append(out,
			wantTensor{p + "ffn_norm.weight", []uint64{d}, false},
			wantTensor{p + "ffn_gate.weight", []uint64{d, ff}, true},
			wantTensor{p + "ffn_up.weight", []uint64{d, ff}, true},
			wantTensor{p + "ffn_down.weight", []uint64{ff, d}, true})
	}
	return out
}

func TestWriteLayout(t *testing.T) {
	all := []gguf.TensorType{gguf.TypeF32, gguf.TypeF16, gguf.TypeBF16, gguf.TypeQ8_0, gguf.TypeQ4_0, gguf.TypeQ4_K, gguf.TypeQ6_K}
	cases := []struct {
		shape Shape
		typ   gguf.TensorType
		// matType is the type the matrices get: the requested one, or the
		// fallback for rows that do not fill 256-element super-blocks.
		matType gguf.TensorType
	}{}
	for _, typ := range all {
		want := typ
		switch typ {
		case gguf.TypeQ4_K:
			want = gguf.TypeQ4_0 // rows of 64 or 96 elements
		case gguf.TypeQ6_K:
			want = gguf.TypeQ8_0
		}
		cases = append(cases, struct {
			shape   Shape
			typ     gguf.TensorType
			matType gguf.TensorType
		}{tinyLlama, typ, want}, struct {
			shape   Shape
			typ     gguf.TensorType
			matType gguf.TensorType
		}{tinyQwen, typ, want})
	}
	cases = append(cases, struct {
		shape   Shape
		typ     gguf.TensorType
		matType gguf.TensorType
	}{kLlama, gguf.TypeQ4_K, gguf.TypeQ4_K}, struct {
		shape   Shape
		typ     gguf.TensorType
		matType gguf.TensorType
	}{kLlama, gguf.TypeQ6_K, gguf.TypeQ6_K})

	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s-%d/%v", tc.shape.Arch, tc.shape.Dim, tc.typ), func(t *testing.T) {
			path := WriteTemp(t, Options{Shape: tc.shape, Type: tc.typ, Seed: 7})
			f, err := gguf.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			s := tc.shape
			a := s.Arch + "."
			ctx := s.CtxLen
			if ctx == 0 {
				ctx = 2048
			}
			wantUint := map[string]uint64{
				"general.file_type":           wantFileType[tc.typ],
				a + "block_count":             uint64(s.Layers),
				a + "embedding_length":        uint64(s.Dim),
				a + "feed_forward_length":     uint64(s.FF),
				a + "attention.head_count":    uint64(s.Heads),
				a + "attention.head_count_kv": uint64(s.KVHeads),
				a + "context_length":          uint64(ctx),
				a + "rope.dimension_count":    uint64(s.Dim / s.Heads),
				a + "vocab_size":              uint64(s.Vocab),
				"tokenizer.ggml.bos_token_id": 0,
				"tokenizer.ggml.eos_token_id": 0,
				"tokenizer.ggml.eot_token_id": 2,
			}
			for k, want := range wantUint {
				if got, ok := f.Uint(k); !ok || got != want {
					t.Errorf("%s = %d (present %v), want %d", k, got, ok, want)
				}
			}
			if f.Arch() != s.Arch {
				t.Errorf("arch %q, want %q", f.Arch(), s.Arch)
			}
			rope, eps := float64(s.RopeBase), float64(s.RMSEps)
			if rope == 0 {
				rope = 10000
			}
			if eps == 0 {
				eps = 1e-5
			}
			if got, _ := f.Float(a + "rope.freq_base"); got != float64(float32(rope)) {
				t.Errorf("rope.freq_base %g, want %g", got, rope)
			}
			if got, _ := f.Float(a + "attention.layer_norm_rms_epsilon"); got != float64(float32(eps)) {
				t.Errorf("rms eps %g, want %g", got, eps)
			}
			if toks, _ := f.Strings("tokenizer.ggml.tokens"); len(toks) != s.Vocab {
				t.Errorf("%d tokens, want %d", len(toks), s.Vocab)
			}
			want := expectedTensors(s)
			if len(f.Tensors) != len(want) {
				t.Fatalf("%d tensors, want %d", len(f.Tensors), len(want))
			}
			for i, w := range want {
				got := f.Tensors[i]
				wantType := gguf.TypeF32
				if w.mat {
					wantType = tc.matType
				}
				if got.Name != w.name || !reflect.DeepEqual(got.Dims, w.dims) || got.Type != wantType {
					t.Errorf("tensor %d = %s %v %v, want %s %v %v", i, got.Name, got.Dims, got.Type, w.name, w.dims, wantType)
				}
			}
		})
	}
}

// TestFallbackToF16 covers rows that fill no 32-element block (stories260K's
// FF of 172): such matrices are written as F16.
func TestFallbackToF16(t *testing.T) {
	s := Stories260K()
	s.Layers = 1
	infos, err := Plan(Options{Shape: s, Type: gguf.TypeQ4_K})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]gguf.TensorType{
		"token_embd.weight":        gguf.TypeQ4_0, // rows of 64
		"blk.0.ffn_up.weight":      gguf.TypeQ4_0, // rows of 64
		"blk.0.ffn_down.weight":    gguf.TypeF16,  // rows of 172
		"blk.0.ffn_norm.weight":    gguf.TypeF32,
		"blk.0.attn_output.weight": gguf.TypeQ4_0,
	}
	for _, ti := range infos {
		if w, ok := want[ti.Name]; ok && ti.Type != w {
			t.Errorf("%s: %v, want %v", ti.Name, ti.Type, w)
		}
	}
}

// TestDeterministic: the same options give the same bytes whatever the
// number of cores; another seed changes the weights, not the metadata size.
func TestDeterministic(t *testing.T) {
	o := Options{Shape: tinyQwen, Type: gguf.TypeQ8_0, Seed: 42}
	read := func(o Options) []byte {
		b, err := os.ReadFile(WriteTemp(t, o))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a := read(o)
	prev := runtime.GOMAXPROCS(1)
	b := read(o)
	runtime.GOMAXPROCS(prev)
	if !bytes.Equal(a, b) {
		t.Fatal("same options, different files (with GOMAXPROCS 1 and default)")
	}
	// The big tensors span several generation chunks.
	big := Options{Shape: Shape{Arch: "llama", Dim: 128, Layers: 1, Heads: 2, KVHeads: 2, FF: 1024, Vocab: 4096}, Type: gguf.TypeF16, Seed: 3}
	a = read(big)
	prev = runtime.GOMAXPROCS(3)
	b = read(big)
	runtime.GOMAXPROCS(prev)
	if !bytes.Equal(a, b) {
		t.Fatal("same options, different files (with GOMAXPROCS 3 and default)")
	}
	o.Seed = 43
	c := read(o)
	if len(c) != len(read(Options{Shape: tinyQwen, Type: gguf.TypeQ8_0, Seed: 42})) {
		t.Fatal("another seed changed the file size")
	}
	if bytes.Equal(read(Options{Shape: tinyQwen, Type: gguf.TypeQ8_0, Seed: 42}), c) {
		t.Fatal("seeds 42 and 43 gave the same file")
	}
}

func tensorValues(t *testing.T, f *gguf.File, name string) []float32 {
	t.Helper()
	ti, ok := f.Tensor(name)
	if !ok {
		t.Fatalf("tensor %s missing", name)
	}
	out := make([]float32, ti.Elements())
	if err := tensor.Dequantize(ti.Type, ti.Data, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func meanStd(x []float32) (float64, float64) {
	var s, s2 float64
	for _, v := range x {
		s += float64(v)
	}
	m := s / float64(len(x))
	for _, v := range x {
		s2 += (float64(v) - m) * (float64(v) - m)
	}
	return m, math.Sqrt(s2 / float64(len(x)))
}

// TestWeightStatistics checks the drawn values against the documented
// distributions: matrices normal(0, Scale/√fan_in), norms 1 + 0.02·N, biases
// 0.02·Scale·N. Tolerances are many standard errors wide.
func TestWeightStatistics(t *testing.T) {
	const scale = 2.0
	s := Shape{Arch: "qwen2", Dim: 256, Layers: 1, Heads: 4, KVHeads: 2, FF: 512, Vocab: 1000, QKVBias: true}
	for _, typ := range []gguf.TensorType{gguf.TypeF32, gguf.TypeQ8_0} {
		f, err := gguf.Open(WriteTemp(t, Options{Shape: s, Type: typ, Seed: 5, Scale: scale}))
		if err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name      string
			mean, std float64
		}{
			{"token_embd.weight", 0, scale / 16},          // fan-in 256
			{"blk.0.attn_q.weight", 0, scale / 16},        // fan-in 256
			{"blk.0.ffn_down.weight", 0, scale / 22.6274}, // fan-in 512
			{"blk.0.attn_norm.weight", 1, 0.02},
			{"blk.0.attn_k.bias", 0, 0.02 * scale},
		}
		for _, c := range cases {
			x := tensorValues(t, f, c.name)
			m, sd := meanStd(x)
			n := float64(len(x))
			if math.Abs(m-c.mean) > 6*c.std/math.Sqrt(n) {
				t.Errorf("%v %s: mean %.5f, want %.5f", typ, c.name, m, c.mean)
			}
			if math.Abs(sd/c.std-1) > 6/math.Sqrt(2*n)+0.01 {
				t.Errorf("%v %s: std %.5f, want %.5f", typ, c.name, sd, c.std)
			}
		}
		f.Close()
	}
}

func TestStoriesVocabulary(t *testing.T) {
	src := testdata.Path(t, "models/stories260K.gguf")
	v, err := VocabFromFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if v.Size() != 512 {
		t.Fatalf("stories260K vocabulary: %d tokens, want 512", v.Size())
	}
	s := Stories260K()
	s.Vocab = 0 // take the source's size
	path := WriteTemp(t, Options{Shape: s, Type: gguf.TypeQ8_0, Seed: 1, Vocab: v})
	got, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	orig, err := gguf.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	n := 0
	for _, kv := range orig.KVs {
		if !strings.HasPrefix(kv.Key, "tokenizer.") {
			continue
		}
		n++
		g, ok := got.KV(kv.Key)
		if !ok || g.Type != kv.Type || !reflect.DeepEqual(g.Value, kv.Value) {
			t.Errorf("%s differs from stories260K's", kv.Key)
		}
	}
	if n < 5 {
		t.Fatalf("only %d tokenizer keys in stories260K.gguf", n)
	}
	if _, err := Plan(Options{Shape: Stories260K(), Vocab: v}); err != nil {
		t.Errorf("vocab 512 with a 512-token source: %v", err)
	}
	s.Vocab = 1000
	if _, err := Plan(Options{Shape: s, Vocab: v}); err == nil || !strings.Contains(err.Error(), "512") {
		t.Errorf("vocab 1000 with a 512-token source: err = %v, want a mismatch naming 512", err)
	}
}

func TestByteToUnicode(t *testing.T) {
	m := byteToUnicode()
	// Values of GPT-2's bytes_to_unicode (openai/gpt-2 src/encoder.py).
	cases := map[byte]rune{' ': 'Ġ', '\n': 'Ċ', '\t': 'ĉ', 0: 'Ā', 'a': 'a', '!': '!', '~': '~', 0x7F: 'ġ', 0xA0: 'ł', 0xA1: '¡', 0xAD: 'Ń', 0xFF: 'ÿ'}
	for b, want := range cases {
		if m[b] != want {
			t.Errorf("byte %#x -> %q, want %q", b, m[b], want)
		}
	}
	seen := map[rune]bool{}
	for _, r := range m {
		if seen[r] {
			t.Fatalf("rune %q assigned twice", r)
		}
		seen[r] = true
	}
}

func TestSyntheticVocab(t *testing.T) {
	big, err := SyntheticVocab(5000)
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{MinSyntheticVocab, 300, 1000, 5000} {
		v, err := SyntheticVocab(size)
		if err != nil {
			t.Fatal(err)
		}
		kv := map[string]any{}
		for _, e := range v.KVs() {
			kv[e.Key] = e.Value
		}
		toks := kv["tokenizer.ggml.tokens"].(gguf.Array).Values.([]string)
		types := kv["tokenizer.ggml.token_type"].(gguf.Array).Values.([]int32)
		merges := kv["tokenizer.ggml.merges"].(gguf.Array).Values.([]string)
		if len(toks) != size || len(types) != size || len(merges) != size-MinSyntheticVocab || v.Size() != size {
			t.Fatalf("size %d: %d tokens, %d types, %d merges", size, len(toks), len(types), len(merges))
		}
		if toks[0] != "<|endoftext|>" || toks[1] != "<|im_start|>" || toks[2] != "<|im_end|>" || types[0] != 3 || types[2] != 3 || types[3] != 1 {
			t.Errorf("size %d: specials %q, types %v", size, toks[:3], types[:4])
		}
		id := map[string]int{}
		for i, s := range toks {
			if _, dup := id[s]; dup {
				t.Fatalf("size %d: token %q twice", size, s)
			}
			id[s] = i
		}
		if toks[3+' '] != "Ġ" || toks[3+'a'] != "a" {
			t.Errorf("byte tokens misplaced: %q %q", toks[3+' '], toks[3+'a'])
		}
		for i, m := range merges {
			l, r, ok := strings.Cut(m, " ")
			res := toks[MinSyntheticVocab+i]
			if !ok || l+r != res || id[l] >= MinSyntheticVocab+i || id[r] >= MinSyntheticVocab+i || len(res) > maxPieceBytes {
				t.Fatalf("size %d: merge %d %q does not build token %q from earlier tokens", size, i, m, res)
			}
		}
		if size >= 1000 && (id["Ġthe"] == 0 || id["Ġand"] == 0) {
			t.Errorf("size %d: common words missing", size)
		}
		// Vocabularies depend on size alone and smaller ones are prefixes
		// of larger ones.
		bigToks := big.KVs()[2].Value.(gguf.Array).Values.([]string)
		if !reflect.DeepEqual(toks, bigToks[:size]) {
			t.Errorf("size %d is not a prefix of size 5000", size)
		}
	}
	for _, bad := range []int{0, 258, maxVocab + 1} {
		if _, err := SyntheticVocab(bad); err == nil {
			t.Errorf("SyntheticVocab(%d) succeeded", bad)
		}
	}
}

func TestOptionErrors(t *testing.T) {
	mod := func(f func(*Shape)) Shape { s := tinyLlama; f(&s); return s }
	cases := []struct {
		name string
		o    Options
		want string
	}{
		{"arch", Options{Shape: mod(func(s *Shape) { s.Arch = "gpt2" })}, "arch"},
		{"qwen2 without bias", Options{Shape: mod(func(s *Shape) { s.Arch = "qwen2" })}, "QKVBias"},
		{"llama with bias", Options{Shape: mod(func(s *Shape) { s.QKVBias = true })}, "QKVBias"},
		{"no layers", Options{Shape: mod(func(s *Shape) { s.Layers = 0 })}, "Layers"},
		{"negative dim", Options{Shape: mod(func(s *Shape) { s.Dim = -64 })}, "Dim"},
		{"heads", Options{Shape: mod(func(s *Shape) { s.Heads = 5 })}, "Heads"},
		{"odd head", Options{Shape: mod(func(s *Shape) { s.Heads = 64 })}, "even"},
		{"kv heads", Options{Shape: mod(func(s *Shape) { s.KVHeads = 3 })}, "KVHeads"},
		{"huge vocab", Options{Shape: mod(func(s *Shape) { s.Vocab = 1 << 30 })}, "Vocab"},
		{"small synthetic vocab", Options{Shape: mod(func(s *Shape) { s.Vocab = 100 })}, "259"},
		{"type", Options{Shape: tinyLlama, Type: gguf.TypeQ5_0}, "not supported"},
		{"scale", Options{Shape: tinyLlama, Scale: -1}, "Scale"},
		{"too big", Options{Shape: Shape{Arch: "llama", Dim: 65536, Layers: 1024, Heads: 64, KVHeads: 64, FF: 1 << 18, Vocab: 1000}}, "more than"},
	}
	for _, tc := range cases {
		_, err := Plan(tc.o)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one naming %q", tc.name, err, tc.want)
		}
		if err := Write(t.TempDir()+"/m.gguf", tc.o); err == nil {
			t.Errorf("%s: Write succeeded", tc.name)
		}
	}
	var shapeErr = Options{Shape: mod(func(s *Shape) { s.Layers = 0 })}
	if _, err := Plan(shapeErr); !errors.Is(err, ErrShape) {
		t.Errorf("bad shape error %v does not wrap ErrShape", err)
	}
}

func TestPresets(t *testing.T) {
	// Parameter counts of the real models (their model cards: SmolLM2-135M
	// has 134.5M parameters, Qwen2-0.5B 494.0M).
	cases := []struct {
		shape Shape
		want  float64
	}{{SmolLM2_135M(), 134.5e6}, {Qwen2_05B(), 494.0e6}}
	for _, c := range cases {
		if got := float64(c.shape.Params()); math.Abs(got/c.want-1) > 0.001 {
			t.Errorf("%s: %d parameters, want %.1fM", c.shape.Arch, c.shape.Params(), c.want/1e6)
		}
		if err := c.shape.withDefaults().validate(); err != nil {
			t.Error(err)
		}
	}
}

func BenchmarkWriteSmolLM2Q8_0(b *testing.B) {
	dir := b.TempDir()
	for b.Loop() {
		if err := Write(dir+"/m.gguf", Options{Shape: SmolLM2_135M(), Type: gguf.TypeQ8_0, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
