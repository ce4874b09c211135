package metrics

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func toks(ss ...string) [][]string {
	out := make([][]string, len(ss))
	for i, s := range ss {
		out[i] = strings.Fields(s)
	}
	return out
}

func TestTokenize(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"The cat, the DOG!", []string{"the", "cat", ",", "the", "dog", "!"}},
		{"  don't\n\tstop  ", []string{"don", "'", "t", "stop"}},
		{"Café 42x", []string{"café", "42x"}},
		{"", nil},
		{"«ok»", []string{"«", "ok", "»"}},
	}
	for _, tc := range tests {
		if got := Tokenize(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Tokenize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Hand-computed on "the cat sat" / "the cat ran": 6 unigrams (4 unique),
// 4 bigrams (3 unique), 2 trigrams (2 unique), no 4-gram.
func TestDistinct(t *testing.T) {
	s := toks("the cat sat", "the cat ran")
	tests := []struct {
		n    int
		want float64
		ok   bool
	}{{1, 4.0 / 6, true}, {2, 3.0 / 4, true}, {3, 1, true}, {4, 0, false}, {0, 0, false}}
	for _, tc := range tests {
		got, ok := Distinct(s, tc.n)
		if ok != tc.ok || !near(got, tc.want, 1e-12) {
			t.Errorf("distinct-%d = %v, %v; want %v, %v", tc.n, got, ok, tc.want, tc.ok)
		}
	}
	// n-grams do not cross samples: "a b" + "c d" has 2 bigrams, not 3.
	if got, _ := Distinct(toks("a b", "c d"), 2); got != 1 {
		t.Errorf("cross-sample bigram counted: %v", got)
	}
	if got, _ := Distinct(toks("a a", "a a"), 1); got != 0.25 {
		t.Errorf("distinct-1 of four a = %v, want 0.25", got)
	}
}

// Ent-1 of the counts {the:2, cat:2, sat:1, ran:1}:
// −(2·(1/3)log2(1/3) + 2·(1/6)log2(1/6)) = (2/3)log2 3 + (1/3)log2 6 = 1.918296…
func TestNgramEntropy(t *testing.T) {
	s := toks("the cat sat", "the cat ran")
	got, ok := NgramEntropy(s, 1)
	if !ok || !near(got, 1.9182958340544896, 1e-12) {
		t.Errorf("ent-1 = %v, %v", got, ok)
	}
	// Two distinct bigrams among 4 with counts {2,1,1}: 1.5 bits.
	if got, _ := NgramEntropy(s, 2); !near(got, 1.5, 1e-12) {
		t.Errorf("ent-2 = %v, want 1.5", got)
	}
	if got, _ := NgramEntropy(toks("x x x"), 1); got != 0 {
		t.Errorf("entropy of one repeated token = %v", got)
	}
	if _, ok := NgramEntropy(toks("a b"), 3); ok {
		t.Error("no trigram: ok")
	}
}

func TestBLEU(t *testing.T) {
	tests := []struct {
		name string
		hyp  string
		refs []string
		want float64
	}{
		// p1..p4 = 4/5, 3/4, 2/3, 1/2, equal lengths: (0.2)^(1/4).
		{"four orders", "a b c d e", []string{"a b c d f"}, math.Pow(0.2, 0.25)},
		// p1 = 3/4, p2 = 1/3, p3 = 0 → 0.1/2, p4 = 0 → 0.1/1.
		{"smoothed", "a b c d", []string{"a b x d"}, math.Pow(0.75*(1.0/3)*0.05*0.1, 0.25)},
		// Short hypothesis: c = 2, r = 4, BP = e^(1−2); p3, p4 have no
		// n-gram (total 1, match 0 → 0.1).
		{"brevity", "a b", []string{"a b c d"}, math.Exp(-1) * math.Pow(1*1*0.1*0.1, 0.25)},
		// Longer than the reference: no penalty; p1 = 2/4, p2 = 1/3, p3 = 0.1/2, p4 = 0.1/1.
		{"long", "a b c d", []string{"a b"}, math.Pow(0.5*(1.0/3)*0.05*0.1, 0.25)},
		{"no unigram", "a b c", []string{"x y z"}, 0},
		{"identical", "a b c d", []string{"a b c d"}, 1},
		// Clipping: "the the the the" against "the cat": p1 = 1/4.
		{"clipped", "the the the the", []string{"the cat"}, math.Pow(0.25*(0.1/3)*(0.1/2)*(0.1/1), 0.25)},
		// Closest reference length: refs of 3 and 5 tokens for a 4-token
		// hypothesis tie; the shorter (3) is used, so BP = 1 (5 would give
		// e^(1−5/4)). p1 = 4/4, p2 = 3/3 (cd from the second), p3 = 1/2, p4 = 0.1/1.
		{"closest ref", "a b c d", []string{"a b c", "x y c d e"}, math.Pow(1*1*0.5*0.1, 0.25)},
	}
	for _, tc := range tests {
		refs := make([][]string, len(tc.refs))
		for i, r := range tc.refs {
			refs[i] = strings.Fields(r)
		}
		if got := BLEU(strings.Fields(tc.hyp), refs, 4); !near(got, tc.want, 1e-12) {
			t.Errorf("%s: BLEU = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestSelfBLEU(t *testing.T) {
	// Symmetric pair: both directions are 0.2^(1/4).
	got, ok := SelfBLEU(toks("a b c d e", "a b c d f"), 4)
	if !ok || !near(got, math.Pow(0.2, 0.25), 1e-12) {
		t.Errorf("self-BLEU = %v, %v", got, ok)
	}
	// Asymmetric pair: mean of the "brevity" and "long" cases of TestBLEU.
	want := (math.Exp(-1)*math.Pow(0.01, 0.25) + math.Pow(0.5*(1.0/3)*0.05*0.1, 0.25)) / 2
	if got, _ := SelfBLEU(toks("a b", "a b c d"), 4); !near(got, want, 1e-12) {
		t.Errorf("self-BLEU = %v, want %v (≈0.143115)", got, want)
	}
	if _, ok := SelfBLEU(toks("a b"), 4); ok {
		t.Error("one sample: ok")
	}
}

// gzip sizes worked out by hand for texts with no repeated substring of
// three bytes (so DEFLATE emits only literals): 10 header bytes; one
// fixed-Huffman block of 3 header bits, 8 bits per literal (all < 144) and
// a 7-bit end-of-block; Go's writer then closes with an empty final stored
// block (3 bits, padding to a byte, LEN/NLEN 4 bytes); 8 trailer bytes.
// "abc": ceil((3+24+7+3)/8) = 5 → 10+5+4+8 = 27 bytes.
// "ab\ncd": ceil((3+40+7+3)/8) = 7 → 10+7+4+8 = 29 bytes.
func TestCompressionRatio(t *testing.T) {
	tests := []struct {
		in   []string
		want float64
	}{
		{[]string{"abc"}, 3.0 / 27},
		{[]string{"ab", "cd"}, 5.0 / 29},
	}
	for _, tc := range tests {
		got, ok := CompressionRatio(tc.in)
		if !ok || !near(got, tc.want, 1e-12) {
			t.Errorf("CompressionRatio(%q) = %v, %v; want %v", tc.in, got, ok, tc.want)
		}
	}
	if _, ok := CompressionRatio([]string{""}); ok {
		t.Error("empty: ok")
	}
	same := strings.Repeat("the little dog ran home. ", 4)
	rep, _ := CompressionRatio([]string{same, same, same, same})
	varied, _ := CompressionRatio([]string{"the little dog ran home.", "a tall ship sailed west", "quiet frogs sang at dusk", "my uncle fixed bicycles"})
	if !(rep > 2*varied) {
		t.Errorf("repeated text ratio %v not well above varied text ratio %v", rep, varied)
	}
}

func TestRougeL(t *testing.T) {
	tests := []struct {
		a, b string
		lcs  int
		f    float64
	}{
		{"a b c d e", "a c e f", 3, 2 * 3.0 / 9},
		{"a b", "a b", 2, 1},
		{"a b", "c d", 0, 0},
		{"", "", 0, 1},
		{"a", "", 0, 0},
		{"x a y b z c", "a b c", 3, 2 * 3.0 / 9},
		{"a b c b d a b", "b d c a b a", 4, 8.0 / 13}, // CLRS's example: LCS "b c b a"
	}
	for _, tc := range tests {
		a, b := strings.Fields(tc.a), strings.Fields(tc.b)
		if got := LCS(a, b); got != tc.lcs {
			t.Errorf("LCS(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.lcs)
		}
		if got := LCS(b, a); got != tc.lcs {
			t.Errorf("LCS(%q, %q) = %d, want %d", tc.b, tc.a, got, tc.lcs)
		}
		if got := RougeL(a, b); !near(got, tc.f, 1e-12) {
			t.Errorf("RougeL(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.f)
		}
	}
	// Three samples: pairs (1,2) F=2/3, (1,3) F=0, (2,3) F=0 → mean distance (1/3+1+1)/3.
	got, ok := RougeLDistance(toks("a b c d e", "a c e f", "x y"))
	if !ok || !near(got, (1.0/3+1+1)/3, 1e-12) {
		t.Errorf("RougeLDistance = %v, %v", got, ok)
	}
}

func TestCosineAndVendi(t *testing.T) {
	tests := []struct {
		name   string
		emb    [][]float64
		cos    float64
		vendi  float64
		hasCos bool
	}{
		{"orthogonal", [][]float64{{1, 0}, {0, 1}}, 1, 2, true},
		{"identical", [][]float64{{1, 2}, {2, 4}}, 0, 1, true}, // same direction, different norms
		// K/3 = [[1,1,0],[1,1,0],[0,0,1]]/3 has eigenvalues 2/3, 1/3, 0:
		// exp(−(2/3 ln 2/3 + 1/3 ln 1/3)) = 1.889881…; pair distances 0, 1, 1.
		{"two and one", [][]float64{{1, 0}, {1, 0}, {0, 3}}, 2.0 / 3, 1.8898815748423097, true},
		// 60° apart: cos = 1/2; K/2 = [[1, .5],[.5, 1]]/2 → eigenvalues 3/4, 1/4.
		{"sixty degrees", [][]float64{{1, 0}, {0.5, math.Sqrt(3) / 2}}, 0.5,
			math.Exp(-(0.75*math.Log(0.75) + 0.25*math.Log(0.25))), true},
		{"one", [][]float64{{1, 1}}, 0, 1, false},
	}
	for _, tc := range tests {
		c, err := CosineDistance(tc.emb)
		if tc.hasCos && (err != nil || !near(c, tc.cos, 1e-12)) {
			t.Errorf("%s: cosine distance = %v, %v; want %v", tc.name, c, err, tc.cos)
		}
		if !tc.hasCos && err == nil {
			t.Errorf("%s: cosine distance without a pair: no error", tc.name)
		}
		v, err := Vendi(tc.emb)
		if err != nil || !near(v, tc.vendi, 1e-9) {
			t.Errorf("%s: vendi = %v, %v; want %v", tc.name, v, err, tc.vendi)
		}
	}
	for _, bad := range [][][]float64{{{1, 0}, {0, 0}}, {{1, 0}, {1, 0, 0}}, {{math.NaN(), 1}, {1, 1}}} {
		if _, err := Vendi(bad); err == nil {
			t.Errorf("Vendi(%v): no error", bad)
		}
		if _, err := CosineDistance(bad); err == nil {
			t.Errorf("CosineDistance(%v): no error", bad)
		}
	}
}

func TestQuality(t *testing.T) {
	lp := []float64{math.Log(0.5), math.Log(0.25)}
	m, ok := MeanLogLik(lp)
	if !ok || !near(m, -1.5*math.Ln2, 1e-12) {
		t.Errorf("mean log-lik = %v", m)
	}
	// exp(1.5 ln 2) = 2^1.5: the geometric mean of 2 and 4.
	if p, _ := Perplexity(lp); !near(p, math.Pow(2, 1.5), 1e-12) {
		t.Errorf("perplexity = %v", p)
	}
	if _, ok := MeanLogLik(nil); ok {
		t.Error("empty: ok")
	}
}
