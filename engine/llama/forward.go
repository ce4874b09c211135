package llama

import (
	"context"
	"fmt"
	"math"

	"github.com/baco-go/baco/engine/tensor"
)

// Batch is one sequence's share of a Forward call: the tokens to append to
// its cache.
type Batch struct {
	// Cache is the sequence's KV cache (from this model's NewCache).
	Cache *Cache
	// Tokens are appended in order; at least one.
	Tokens []int32
	// AllLogits asks for the logits after every appended token instead of
	// only after the last one.
	AllLogits bool
	// Embed asks for the mean over the appended tokens of the final
	// (output-normed) hidden state instead of logits: out[i] gets Dim
	// floats. The output head is not run for this sequence.
	Embed bool
}

// logitsRows is the most output rows one output-head product computes, to
// bound the logits scratch (vocab × logitsRows floats).
const logitsRows = 64

// Forward appends the tokens of every batch to its cache in one pass over
// the weights per chunk of at most the chunk size (DefaultChunk) token rows,
// and writes logits into out[i] (len(out) must equal len(seqs)): VocabSize
// floats for the last token of seqs[i], or len(Tokens) × VocabSize floats
// (token-major) with AllLogits. out[i] is reused when its capacity allows
// and reallocated otherwise.
//
// Every batch is validated before anything runs (token ids in range, cache
// of this model, no cache twice, context length not exceeded), so an error
// leaves every cache untouched. When ctx is cancelled between chunks the
// caches are rolled back to their lengths on entry and ctx's error is
// returned.
func (m *Model) Forward(ctx context.Context, seqs []Batch, out [][]float32) error {
	if len(out) != len(seqs) {
		return fmt.Errorf("llama: forward: %d output slots for %d sequences", len(out), len(seqs))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	total := 0
	for i, b := range seqs {
		if err := m.validate(i, b, seqs[:i]); err != nil {
			return err
		}
		total += len(b.Tokens)
	}
	if total == 0 {
		return nil
	}
	V := m.cfg.VocabSize
	s := &m.s
	s.seqs = seqs
	s.orig = s.orig[:0]
	for i, b := range seqs {
		need := V
		switch {
		case b.Embed:
			need = m.cfg.Dim
		case b.AllLogits:
			need = V * len(b.Tokens)
		}
		if cap(out[i]) >= need {
			out[i] = out[i][:need]
		} else {
			out[i] = make([]float32, need)
		}
		if b.Embed {
			clear(out[i])
		}
		s.orig = append(s.orig, b.Cache.n)
		b.Cache.reserve(b.Cache.n + len(b.Tokens))
	}
	s.out = out
	defer func() { s.seqs, s.out = nil, nil }()

	bi, ti := 0, 0 // cursor: batch, token within batch
	for bi < len(seqs) {
		if err := ctx.Err(); err != nil {
			for i, b := range seqs {
				b.Cache.n = s.orig[i]
			}
			return fmt.Errorf("llama: forward: %w", err)
		}
		s.reset()
		for bi < len(seqs) && len(s.rowB) < m.chunk {
			b := seqs[bi]
			s.rowB = append(s.rowB, int32(bi))
			s.rowT = append(s.rowT, int32(ti))
			s.rowPos = append(s.rowPos, int32(s.orig[bi]+ti))
			ti++
			if ti == len(b.Tokens) {
				bi, ti = bi+1, 0
			}
		}
		m.chunkForward()
		// Positions of this chunk are now in the caches.
		for r := range s.rowB {
			c := seqs[s.rowB[r]].Cache
			if p := int(s.rowPos[r]) + 1; p > c.n {
				c.n = p
			}
		}
	}
	for i, b := range seqs {
		if b.Embed {
			inv := 1 / float32(len(b.Tokens))
			for j := range out[i] {
				out[i][j] *= inv
			}
		}
	}
	return nil
}

// validate checks batch i against the model and the batches before it.
func (m *Model) validate(i int, b Batch, prev []Batch) error {
	if b.Cache == nil {
		return fmt.Errorf("llama: forward: sequence %d: nil cache", i)
	}
	if b.Cache.model != m {
		return fmt.Errorf("llama: forward: sequence %d: cache belongs to another model", i)
	}
	if len(b.Tokens) == 0 {
		return fmt.Errorf("llama: forward: sequence %d: no tokens to append", i)
	}
	for j, p := range prev {
		if p.Cache == b.Cache {
			return fmt.Errorf("llama: forward: sequences %d and %d share one cache", j, i)
		}
	}
	for j, t := range b.Tokens {
		if t < 0 || int(t) >= m.cfg.VocabSize {
			return fmt.Errorf("llama: forward: sequence %d token %d: id %d out of range [0, %d)", i, j, t, m.cfg.VocabSize)
		}
	}
	if n := b.Cache.n + len(b.Tokens); n > m.cfg.ContextLen {
		return fmt.Errorf("llama: forward: sequence %d: %d cached + %d new tokens exceed the context length %d: %w",
			i, b.Cache.n, len(b.Tokens), m.cfg.ContextLen, ErrContextOverflow)
	}
	return nil
}

// chunkForward runs the rows in m.s through every layer and writes the
// requested logits.
func (m *Model) chunkForward() {
	s := &m.s
	cfg := &m.cfg
	T := len(s.rowB)
	s.ensure(m, T)
	dim, qDim, kvDim, ff := cfg.Dim, cfg.QDim(), cfg.KVDim(), cfg.FFDim
	x, xb, xb2 := s.x[:T*dim], s.xb[:T*dim], s.xb2[:T*dim]
	q, k, v, att := s.q[:T*qDim], s.k[:T*kvDim], s.v[:T*kvDim], s.att[:T*qDim]
	gate, up := s.gate[:T*ff], s.up[:T*ff]

	for r := range T {
		b := s.seqs[s.rowB[r]]
		m.tokEmbd.RowF32(int(b.Tokens[s.rowT[r]]), x[r*dim:(r+1)*dim])
	}
	m.ropeTables(T)
	pool := m.pool
	for l := range m.layers {
		L := &m.layers[l]
		s.layer = l
		m.rmsNormRows(xb, x, L.attnNorm, T)
		qkv := [3][]float32{q, k, v}
		pool.MatMuls(L.qkv[:], xb, T, qkv[:])
		m.rows(T, qDim+2*kvDim, m.fnRopeStore)
		m.attention(T)
		pool.MatMul(L.wo, att, T, xb2)
		addInto(x, xb2)
		m.rmsNormRows(xb, x, L.ffnNorm, T)
		gateUp := [2][]float32{gate, up}
		pool.MatMuls(L.gateUp[:], xb, T, gateUp[:])
		m.rows(T, ff, m.fnSwiGLU)
		pool.MatMul(L.wDown, gate, T, xb2)
		addInto(x, xb2)
	}
	m.logits(T)
}

// logits normalises the rows that need logits and runs the output head on
// them, logitsRows at a time, copying each row's logits to its slot.
func (m *Model) logits(T int) {
	s := &m.s
	dim, V := m.cfg.Dim, m.cfg.VocabSize
	sel := s.sel[:0]
	for r := range T {
		b := s.seqs[s.rowB[r]]
		switch {
		case b.Embed:
			// Sum the final hidden states; Forward divides at the end.
			h := s.xsel[:dim]
			rmsNorm(h, s.x[r*dim:(r+1)*dim], m.outNorm, m.cfg.NormEps)
			addInto(s.out[s.rowB[r]], h)
		case b.AllLogits || int(s.rowT[r]) == len(b.Tokens)-1:
			sel = append(sel, int32(r))
		}
	}
	s.sel = sel
	for lo := 0; lo < len(sel); lo += logitsRows {
		hi := min(lo+logitsRows, len(sel))
		n := hi - lo
		xs := s.xsel[:n*dim]
		for i, r := range sel[lo:hi] {
			rmsNorm(xs[i*dim:(i+1)*dim], s.x[int(r)*dim:(int(r)+1)*dim], m.outNorm, m.cfg.NormEps)
		}
		lg := s.logitsBuf[:n*V]
		m.pool.MatMul(m.output, xs, n, lg)
		for i, r := range sel[lo:hi] {
			bi := s.rowB[r]
			off := 0
			if s.seqs[bi].AllLogits {
				off = int(s.rowT[r]) * V
			}
			copy(s.out[bi][off:off+V], lg[i*V:(i+1)*V])
		}
	}
}

// minParallelWork is the least work (elements touched, or multiply-adds)
// worth splitting across the pool; below it the hand-off costs more than
// it saves.
const minParallelWork = 1 << 15

// rows runs fn over [0, T) rows of perRow elements each, in parallel when
// there is enough work to pay for the hand-off.
func (m *Model) rows(T, perRow int, fn func(lo, hi int)) {
	if T < 2 || T*perRow < minParallelWork {
		fn(0, T)
		return
	}
	m.pool.Parallel(T, fn)
}

// rmsNormRows writes RMSNorm(src row) ⊙ w into dst for T rows.
func (m *Model) rmsNormRows(dst, src, w []float32, T int) {
	s := &m.s
	s.normDst, s.normSrc, s.normW = dst, src, w
	m.rows(T, m.cfg.Dim, m.fnRMSNorm)
}

func (m *Model) rmsNormRange(lo, hi int) {
	s := &m.s
	dim := m.cfg.Dim
	for r := lo; r < hi; r++ {
		rmsNorm(s.normDst[r*dim:(r+1)*dim], s.normSrc[r*dim:(r+1)*dim], s.normW, m.cfg.NormEps)
	}
}

// rmsNorm writes x / sqrt(mean(x²) + eps) ⊙ w into dst.
func rmsNorm(dst, x, w []float32, eps float32) {
	var ss float64
	for _, v := range x {
		ss += float64(v) * float64(v)
	}
	scale := float32(1 / math.Sqrt(ss/float64(len(x))+float64(eps)))
	w = w[:len(x)]
	dst = dst[:len(x)]
	for i, v := range x {
		dst[i] = w[i] * (scale * v)
	}
}

// addInto adds src to dst element-wise.
func addInto(dst, src []float32) {
	src = src[:len(dst)]
	for i := range dst {
		dst[i] += src[i]
	}
}

// swiGLURange computes gate = silu(gate) ⊙ up for rows [lo, hi).
func (m *Model) swiGLURange(lo, hi int) {
	ff := m.cfg.FFDim
	g := m.s.gate[lo*ff : hi*ff]
	u := m.s.up[lo*ff : hi*ff]
	tensor.SwiGLUF32(g, u)
}

// ropeTables fills the cos/sin tables of every row's position.
func (m *Model) ropeTables(T int) {
	s := &m.s
	r := &m.cfg.Rope
	half := r.Dims / 2
	for row := range T {
		pos := float64(s.rowPos[row])
		cs := s.cos[row*half : (row+1)*half]
		sn := s.sin[row*half : (row+1)*half]
		for i := range half {
			extrap := pos * m.invFreq[i]
			theta := r.FreqScale * extrap
			mscale := r.AttnFactor
			if r.ExtFactor != 0 {
				ramp := yarnRamp(m.corrLo, m.corrHi, i) * r.ExtFactor
				theta = theta*(1-ramp) + extrap*ramp
				mscale *= 1 + 0.1*math.Log(1/r.FreqScale)
			}
			sin, cos := math.Sincos(theta)
			cs[i] = float32(cos * mscale)
			sn[i] = float32(sin * mscale)
		}
	}
}

// yarnRamp is ggml's rope_yarn_ramp for rotated pair i.
func yarnRamp(low, high float64, i int) float64 {
	y := (float64(i) - low) / math.Max(0.001, high-low)
	return 1 - math.Min(1, math.Max(0, y))
}

// yarnCorrDims is ggml_rope_yarn_corr_dims.
func yarnCorrDims(nDims, nCtxOrig int, base, betaFast, betaSlow float64) (lo, hi float64) {
	corr := func(nRot float64) float64 {
		return float64(nDims) * math.Log(float64(nCtxOrig)/(nRot*2*math.Pi)) / (2 * math.Log(base))
	}
	lo = math.Max(0, math.Floor(corr(betaFast)))
	hi = math.Min(float64(nDims-1), math.Ceil(corr(betaSlow)))
	return lo, hi
}

// ropeStoreRange adds the q/k/v biases, rotates q and k of rows [lo, hi)
// and stores their keys and values in the caches.
func (m *Model) ropeStoreRange(lo, hi int) {
	s := &m.s
	cfg := &m.cfg
	L := &m.layers[s.layer]
	qDim, kvDim, hd := cfg.QDim(), cfg.KVDim(), cfg.HeadDim
	half := cfg.Rope.Dims / 2
	for r := lo; r < hi; r++ {
		q := s.q[r*qDim : (r+1)*qDim]
		k := s.k[r*kvDim : (r+1)*kvDim]
		v := s.v[r*kvDim : (r+1)*kvDim]
		if L.bq != nil {
			addInto(q, L.bq)
			addInto(k, L.bk)
			addInto(v, L.bv)
		}
		cs := s.cos[r*half : (r+1)*half]
		sn := s.sin[r*half : (r+1)*half]
		for h := 0; h < qDim; h += hd {
			rope(q[h:h+hd], cs, sn, cfg.Rope.NeoX)
		}
		for h := 0; h < kvDim; h += hd {
			rope(k[h:h+hd], cs, sn, cfg.Rope.NeoX)
		}
		c := s.seqs[s.rowB[r]].Cache
		off := int(s.rowPos[r]) * kvDim
		copy(c.k[s.layer][off:off+kvDim], k)
		copy(c.v[s.layer][off:off+kvDim], v)
	}
}

// rope rotates one head in place: pairs (x[2i], x[2i+1]) (normal) or
// (x[i], x[i+len(cs)]) (NeoX) by the angles whose cos/sin are cs/sn.
func rope(x, cs, sn []float32, neox bool) {
	half := len(cs)
	if neox {
		a, b := x[:half], x[half:2*half]
		for i := range half {
			x0, x1 := a[i], b[i]
			a[i] = x0*cs[i] - x1*sn[i]
			b[i] = x0*sn[i] + x1*cs[i]
		}
		return
	}
	x = x[:2*half]
	for i := range half {
		x0, x1 := x[2*i], x[2*i+1]
		x[2*i] = x0*cs[i] - x1*sn[i]
		x[2*i+1] = x0*sn[i] + x1*cs[i]
	}
}

// attention computes, for every row and query head, softmax(q·K/√d)·V over
// the row's sequence up to and including the row's position. A task is one
// row and one key/value head: the query heads sharing that KV head (GQA)
// are processed together, so their keys and values are read from cache
// after the first head. Scores and value sums run in the tensor package's
// vector kernels, whose results do not depend on the number of positions
// of a call, so a row gives the same bits in a prefill and alone. Tasks are
// numbered KV-head-major and dealt round-robin to slots, each with its own
// score buffer; the pool runs contiguous ranges of slots.
func (m *Model) attention(T int) {
	s := &m.s
	tasks := T * m.cfg.KVHeads
	slots := min(tasks, len(s.scores))
	work := 0
	for _, p := range s.rowPos {
		work += int(p) + 1
	}
	work *= 2 * m.cfg.Heads * m.cfg.HeadDim // scores and value sums
	if work < minParallelWork {
		slots = 1
	}
	s.attTasks, s.attSlots = tasks, slots
	if slots == 1 {
		m.attentionRange(0, 1)
		return
	}
	m.pool.Parallel(slots, m.fnAttention)
}

func (m *Model) attentionRange(lo, hi int) {
	s := &m.s
	cfg := &m.cfg
	qDim, kvDim, hd := cfg.QDim(), cfg.KVDim(), cfg.HeadDim
	group := cfg.Heads / cfg.KVHeads
	scale := float32(1 / math.Sqrt(float64(hd)))
	T := len(s.rowB)
	for slot := lo; slot < hi; slot++ {
		scores := s.scores[slot]
		// Strided, so each slot gets early (cheap) and late (expensive)
		// positions alike.
		for t := slot; t < s.attTasks; t += s.attSlots {
			g, r := t/T, t%T
			c := s.seqs[s.rowB[r]].Cache
			n := int(s.rowPos[r]) + 1
			K := c.k[s.layer][g*hd : (n-1)*kvDim+(g+1)*hd]
			V := c.v[s.layer][g*hd : (n-1)*kvDim+(g+1)*hd]
			qs := s.q[r*qDim+g*group*hd : r*qDim+(g+1)*group*hd]
			os := s.att[r*qDim+g*group*hd : r*qDim+(g+1)*group*hd]
			sc := scores[:group*n]
			for j := range group {
				scj := sc[j*n : (j+1)*n]
				tensor.DotsF32(qs[j*hd:(j+1)*hd], K, kvDim, scj)
				tensor.SoftmaxF32(scj, scale)
			}
			clear(os)
			for j := range group {
				tensor.MixF32(os[j*hd:(j+1)*hd], sc[j*n:(j+1)*n], V, kvDim)
			}
		}
	}
}
