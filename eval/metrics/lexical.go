// Package metrics holds the diversity and quality measures of bacoctl eval,
// each a pure function over one prompt's samples (docs/eval.md defines every
// one of them). Lexical measures work on word tokens (Tokenize), semantic
// ones on embedding vectors, quality ones on per-token log-probabilities.
package metrics

import (
	"bytes"
	"compress/gzip"
	"math"
	"strings"
	"unicode"
)

// Tokenize splits text into lower-cased word tokens: a maximal run of
// letters, digits and combining marks is one token, every other
// non-whitespace character is a token of its own, whitespace separates.
func Tokenize(text string) []string {
	var out []string
	var word strings.Builder
	flush := func() {
		if word.Len() > 0 {
			out = append(out, word.String())
			word.Reset()
		}
	}
	for _, r := range strings.ToLower(text) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
			word.WriteRune(r)
		case unicode.IsSpace(r):
			flush()
		default:
			flush()
			out = append(out, string(r))
		}
	}
	flush()
	return out
}

// ngramKey joins n tokens with a separator that Tokenize never produces
// inside a token.
func ngramKey(toks []string) string { return strings.Join(toks, "\x00") }

// ngramCounts counts the n-grams of one token sequence.
func ngramCounts(toks []string, n int) map[string]int {
	m := map[string]int{}
	for i := 0; i+n <= len(toks); i++ {
		m[ngramKey(toks[i:i+n])]++
	}
	return m
}

// pooled counts the n-grams of every sample together (n-grams never cross
// a sample boundary) and returns the counts and their total.
func pooled(samples [][]string, n int) (map[string]int, int) {
	m := map[string]int{}
	total := 0
	for _, s := range samples {
		for i := 0; i+n <= len(s); i++ {
			m[ngramKey(s[i:i+n])]++
			total++
		}
	}
	return m, total
}

// Distinct is distinct-n: the number of unique n-grams over all samples
// divided by the total number of n-grams (Li et al. 2016). ok is false when
// the samples hold no n-gram at all.
func Distinct(samples [][]string, n int) (v float64, ok bool) {
	if n < 1 {
		return 0, false
	}
	m, total := pooled(samples, n)
	if total == 0 {
		return 0, false
	}
	return float64(len(m)) / float64(total), true
}

// NgramEntropy is the Shannon entropy in bits of the pooled n-gram
// frequency distribution of the samples (Ent-n, Zhang et al. 2018). ok is
// false when the samples hold no n-gram.
func NgramEntropy(samples [][]string, n int) (v float64, ok bool) {
	if n < 1 {
		return 0, false
	}
	m, total := pooled(samples, n)
	if total == 0 {
		return 0, false
	}
	var h float64
	for _, c := range m {
		p := float64(c) / float64(total)
		h -= p * math.Log2(p)
	}
	return h, true
}

// BLEUEpsilon is the smoothing of BLEU: a zero n-gram match count is
// replaced by this value (NLTK's SmoothingFunction().method1).
const BLEUEpsilon = 0.1

// BLEU is sentence BLEU-maxN of hyp against refs with uniform weights,
// clipped n-gram counts, the brevity penalty against the reference length
// closest to the hypothesis (the shorter one on a tie), and method-1
// smoothing (BLEUEpsilon); it is 0 when no unigram matches, when hyp is
// empty or when there is no reference.
func BLEU(hyp []string, refs [][]string, maxN int) float64 {
	if maxN < 1 {
		return 0
	}
	all := append([][]string{hyp}, refs...)
	counts := countAll(all, maxN)
	others := make([]int, len(refs))
	for i := range others {
		others[i] = i + 1
	}
	return bleu(all, counts, 0, others, maxN)
}

// countAll counts the n-grams of every sample for n = 1..maxN:
// counts[i][n-1] are sample i's n-gram counts.
func countAll(samples [][]string, maxN int) [][]map[string]int {
	out := make([][]map[string]int, len(samples))
	for i, s := range samples {
		out[i] = make([]map[string]int, maxN)
		for n := 1; n <= maxN; n++ {
			out[i][n-1] = ngramCounts(s, n)
		}
	}
	return out
}

// bleu scores samples[h] against the samples listed in refs.
func bleu(samples [][]string, counts [][]map[string]int, h int, refs []int, maxN int) float64 {
	hyp := samples[h]
	if len(hyp) == 0 || len(refs) == 0 {
		return 0
	}
	var logSum float64
	for n := 1; n <= maxN; n++ {
		match, total := 0, 0
		for g, c := range counts[h][n-1] {
			best := 0
			for _, r := range refs {
				best = max(best, counts[r][n-1][g])
			}
			match += min(c, best)
			total += c
		}
		total = max(total, 1)
		if match == 0 && n == 1 {
			return 0
		}
		p := float64(match) / float64(total)
		if match == 0 {
			p = BLEUEpsilon / float64(total)
		}
		logSum += math.Log(p) / float64(maxN)
	}
	c := len(hyp)
	r := len(samples[refs[0]])
	for _, k := range refs[1:] {
		l := len(samples[k])
		d, best := abs(l-c), abs(r-c)
		if d < best || (d == best && l < r) {
			r = l
		}
	}
	bp := 1.0
	if c <= r {
		bp = math.Exp(1 - float64(r)/float64(c))
	}
	return bp * math.Exp(logSum)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// SelfBLEU is the mean over samples of the BLEU-maxN of each sample against
// all the others as references (Zhu et al. 2018). The diversity measure is
// 1 − SelfBLEU. ok is false with fewer than two samples.
func SelfBLEU(samples [][]string, maxN int) (v float64, ok bool) {
	if len(samples) < 2 || maxN < 1 {
		return 0, false
	}
	counts := countAll(samples, maxN)
	var sum float64
	refs := make([]int, 0, len(samples)-1)
	for i := range samples {
		refs = refs[:0]
		for j := range samples {
			if j != i {
				refs = append(refs, j)
			}
		}
		sum += bleu(samples, counts, i, refs, maxN)
	}
	return sum / float64(len(samples)), true
}

// CompressionRatio is the size of the samples' texts joined by newlines
// divided by the size of their gzip compression at the best level
// (compress/gzip, no name or time in the header) (Shaib et al. 2024). Higher
// means more redundant, i.e. less diverse. ok is false for empty text.
func CompressionRatio(texts []string) (v float64, ok bool) {
	raw := strings.Join(texts, "\n")
	if raw == "" {
		return 0, false
	}
	var b bytes.Buffer
	w, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return 0, false
	}
	if _, err := w.Write([]byte(raw)); err != nil {
		return 0, false
	}
	if err := w.Close(); err != nil {
		return 0, false
	}
	return float64(len(raw)) / float64(b.Len()), true
}

// LCS is the length of the longest common subsequence of two token
// sequences (two-row dynamic programme, O(len(a)·len(b)) time).
func LCS(a, b []string) int {
	if len(a) < len(b) {
		a, b = b, a
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for i := range a {
		for j := range b {
			switch {
			case a[i] == b[j]:
				cur[j+1] = prev[j] + 1
			case prev[j+1] >= cur[j]:
				cur[j+1] = prev[j+1]
			default:
				cur[j+1] = cur[j]
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// RougeL is the ROUGE-L F1 of two token sequences, 2·LCS/(|a|+|b|) (β = 1,
// so it is symmetric): 1 when both are empty, 0 when only one is.
func RougeL(a, b []string) float64 {
	if len(a)+len(b) == 0 {
		return 1
	}
	return 2 * float64(LCS(a, b)) / float64(len(a)+len(b))
}

// RougeLDistance is the mean over unordered pairs of samples of 1 − ROUGE-L
// F1. ok is false with fewer than two samples.
func RougeLDistance(samples [][]string) (v float64, ok bool) {
	if len(samples) < 2 {
		return 0, false
	}
	var sum float64
	pairs := 0
	for i := range samples {
		for j := i + 1; j < len(samples); j++ {
			sum += 1 - RougeL(samples[i], samples[j])
			pairs++
		}
	}
	return sum / float64(pairs), true
}
