//go:build !purego

package tensor

//go:noescape
func dotsF32AVX2(q *float32, k *float32, stride int, n int, count int, out *float32)

//go:noescape
func mixF32AVX2(y *float32, w *float32, v *float32, stride int, n int, count int)

// dotsF32 computes out[p] = dotF32(q, k[p*stride:]) for p < len(out)
// (bounds checked by the caller): the multiple-of-8 prefix of every key in
// one assembly call, then each tail in order, as dotF32AVX2Go does.
func dotsF32(q, k []float32, stride int, out []float32) {
	n8 := len(q) &^ 7
	if !haveSIMD || n8 == 0 {
		dotsF32Go(q, k, stride, out)
		return
	}
	dotsF32AVX2(&q[0], &k[0], stride*4, n8, len(out), &out[0])
	if n8 == len(q) {
		return
	}
	for p := range out {
		s := out[p]
		kp := k[p*stride : p*stride+len(q)]
		for i := n8; i < len(q); i++ {
			s += float32(q[i] * kp[i])
		}
		out[p] = s
	}
}

// mixF32 adds Σ_p w[p]·v[p*stride:] to y (bounds checked by the caller):
// fused multiply-adds over the multiple-of-8 prefix, then the tail
// elements with separate multiply and add, positions in order throughout.
func mixF32(y, w, v []float32, stride int) {
	n8 := len(y) &^ 7
	if !haveSIMD || n8 == 0 {
		mixF32Go(y, w, v, stride)
		return
	}
	mixF32AVX2(&y[0], &w[0], &v[0], stride*4, n8, len(w))
	if n8 == len(y) {
		return
	}
	for p, a := range w {
		x := v[p*stride : p*stride+len(y)]
		for i := n8; i < len(y); i++ {
			y[i] += a * x[i]
		}
	}
}
