package llama

import (
	"fmt"
	"math"
	"math/cmplx"
	"testing"

	"github.com/baco-go/baco/engine/gguf"
	"github.com/baco-go/baco/engine/tensor"
)

// refModel is a deliberately naive float64 llama/qwen2 forward pass used as
// an independent oracle: whole weight matrices dequantised to float64,
// textbook loops, complex-number rotary embedding, full softmax attention
// recomputed over the whole prefix, no batching, no caching tricks.
type refModel struct {
	layers, dim, ff, heads, kvHeads, hd, vocab int
	eps, base                                  float64
	neox                                       bool
	emb, out                                   [][]float64
	outNorm                                    []float64
	blk                                        []refLayer
}

type refLayer struct {
	attnNorm, ffnNorm []float64
	wq, wk, wv, wo    [][]float64
	bq, bk, bv        []float64
	gate, up, down    [][]float64
}

// newRefModel reads the weights straight from the file's tensors with the
// metadata keys it needs, without using ConfigFromGGUF.
func newRefModel(t *testing.T, f *gguf.File) *refModel {
	t.Helper()
	arch := f.Arch()
	geti := func(k string) int {
		v, ok := f.Int(arch + "." + k)
		if !ok {
			t.Fatalf("reference: metadata %s.%s missing", arch, k)
		}
		return int(v)
	}
	r := &refModel{
		layers: geti("block_count"), dim: geti("embedding_length"), ff: geti("feed_forward_length"),
		heads: geti("attention.head_count"), kvHeads: geti("attention.head_count_kv"),
		neox: arch == "qwen2", base: 10000, eps: 1e-5,
	}
	if v, ok := f.Float(arch + ".rope.freq_base"); ok {
		r.base = v
	}
	if v, ok := f.Float(arch + ".attention.layer_norm_rms_epsilon"); ok {
		r.eps = v
	}
	r.hd = r.dim / r.heads
	mat := func(name string) [][]float64 {
		ti, ok := f.Tensor(name)
		if !ok {
			t.Fatalf("reference: tensor %s missing", name)
		}
		cols := int(ti.Dims[0])
		rows := 1
		if len(ti.Dims) > 1 {
			rows = int(ti.Dims[1])
		}
		flat := make([]float32, rows*cols)
		if err := tensor.Dequantize(ti.Type, ti.Data, flat); err != nil {
			t.Fatalf("reference: dequantize %s: %v", name, err)
		}
		m := make([][]float64, rows)
		for i := range m {
			m[i] = make([]float64, cols)
			for j := range m[i] {
				m[i][j] = float64(flat[i*cols+j])
			}
		}
		return m
	}
	vec := func(name string) []float64 { return mat(name)[0] }
	r.emb = mat("token_embd.weight")
	r.vocab = len(r.emb)
	r.outNorm = vec("output_norm.weight")
	if _, ok := f.Tensor("output.weight"); ok {
		r.out = mat("output.weight")
	} else {
		r.out = r.emb
	}
	for i := range r.layers {
		p := fmt.Sprintf("blk.%d.", i)
		L := refLayer{
			attnNorm: vec(p + "attn_norm.weight"), ffnNorm: vec(p + "ffn_norm.weight"),
			wq: mat(p + "attn_q.weight"), wk: mat(p + "attn_k.weight"), wv: mat(p + "attn_v.weight"),
			wo: mat(p + "attn_output.weight"), gate: mat(p + "ffn_gate.weight"),
			up: mat(p + "ffn_up.weight"), down: mat(p + "ffn_down.weight"),
		}
		if r.neox {
			L.bq, L.bk, L.bv = vec(p+"attn_q.bias"), vec(p+"attn_k.bias"), vec(p+"attn_v.bias")
		}
		r.blk = append(r.blk, L)
	}
	return r
}

func refMatVec(w [][]float64, x []float64) []float64 {
	y := make([]float64, len(w))
	for i, row := range w {
		for j, v := range row {
			y[i] += v * x[j]
		}
	}
	return y
}

func refRMSNorm(x, w []float64, eps float64) []float64 {
	var ss float64
	for _, v := range x {
		ss += v * v
	}
	s := 1 / math.Sqrt(ss/float64(len(x))+eps)
	y := make([]float64, len(x))
	for i := range x {
		y[i] = x[i] * s * w[i]
	}
	return y
}

// refRope rotates one head at position pos. Normal rope treats (x[2i],
// x[2i+1]) as the complex number x[2i] + i·x[2i+1]; NeoX pairs x[i] with
// x[i+d/2]. Pair i turns by pos·base^(-2i/d).
func (r *refModel) refRope(x []float64, pos int) {
	d := len(x)
	for i := 0; i < d/2; i++ {
		a, b := 2*i, 2*i+1
		if r.neox {
			a, b = i, i+d/2
		}
		angle := float64(pos) * math.Pow(r.base, -2*float64(i)/float64(d))
		z := complex(x[a], x[b]) * cmplx.Rect(1, angle)
		x[a], x[b] = real(z), imag(z)
	}
}

func addBias(x, b []float64) {
	for i := range b {
		x[i] += b[i]
	}
}

// forward returns the logits after every token of tokens (a fresh
// sequence).
func (r *refModel) forward(tokens []int32) [][]float64 {
	n := len(tokens)
	xs := make([][]float64, n)
	for p, tok := range tokens {
		xs[p] = append([]float64(nil), r.emb[tok]...)
	}
	for _, L := range r.blk {
		qs, ks, vs := make([][]float64, n), make([][]float64, n), make([][]float64, n)
		for p := range n {
			h := refRMSNorm(xs[p], L.attnNorm, r.eps)
			qs[p], ks[p], vs[p] = refMatVec(L.wq, h), refMatVec(L.wk, h), refMatVec(L.wv, h)
			if L.bq != nil {
				addBias(qs[p], L.bq)
				addBias(ks[p], L.bk)
				addBias(vs[p], L.bv)
			}
			for h := range r.heads {
				r.refRope(qs[p][h*r.hd:(h+1)*r.hd], p)
			}
			for h := range r.kvHeads {
				r.refRope(ks[p][h*r.hd:(h+1)*r.hd], p)
			}
		}
		for p := range n {
			att := make([]float64, r.heads*r.hd)
			for h := range r.heads {
				kh := h * r.kvHeads / r.heads
				q := qs[p][h*r.hd : (h+1)*r.hd]
				scores := make([]float64, p+1)
				maxv := math.Inf(-1)
				for t := 0; t <= p; t++ {
					for i := range r.hd {
						scores[t] += q[i] * ks[t][kh*r.hd+i]
					}
					scores[t] /= math.Sqrt(float64(r.hd))
					maxv = math.Max(maxv, scores[t])
				}
				var sum float64
				for t := range scores {
					scores[t] = math.Exp(scores[t] - maxv)
					sum += scores[t]
				}
				for t := range scores {
					for i := range r.hd {
						att[h*r.hd+i] += scores[t] / sum * vs[t][kh*r.hd+i]
					}
				}
			}
			o := refMatVec(L.wo, att)
			for i := range o {
				xs[p][i] += o[i]
			}
			h := refRMSNorm(xs[p], L.ffnNorm, r.eps)
			g, u := refMatVec(L.gate, h), refMatVec(L.up, h)
			for i := range g {
				g[i] = g[i] / (1 + math.Exp(-g[i])) * u[i]
			}
			d := refMatVec(L.down, g)
			for i := range d {
				xs[p][i] += d[i]
			}
		}
	}
	logits := make([][]float64, n)
	for p := range n {
		logits[p] = refMatVec(r.out, refRMSNorm(xs[p], r.outNorm, r.eps))
	}
	return logits
}

// refLogSoftmax returns the log-softmax of logits.
func refLogSoftmax(logits []float64) []float64 {
	maxv := math.Inf(-1)
	for _, v := range logits {
		maxv = math.Max(maxv, v)
	}
	var sum float64
	for _, v := range logits {
		sum += math.Exp(v - maxv)
	}
	lse := maxv + math.Log(sum)
	out := make([]float64, len(logits))
	for i, v := range logits {
		out[i] = v - lse
	}
	return out
}
