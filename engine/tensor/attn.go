package tensor

// Float32 vector primitives for attention over a KV cache: scores of one
// query against many keys, and the weighted sum of many values. On amd64
// with AVX2+FMA they run in assembly; each result depends only on its own
// inputs and lengths, never on how many positions a call covers, so one
// query computed alone or among many gives the same bits.

// DotF32 returns Σ a[i]·b[i] over the len(a) elements of a; b must be at
// least as long. The summation order depends only on len(a).
func DotF32(a, b []float32) float32 {
	return dotF32(a, b[:len(a)])
}

// DotsF32 computes out[p] = DotF32(q, k[p*stride:]) for every p <
// len(out), bitwise: the scores of query q against len(out) keys stored
// stride floats apart. It panics if k is too short for the last key or
// stride < len(q) while more than one key is asked for.
func DotsF32(q, k []float32, stride int, out []float32) {
	n := len(out)
	if n == 0 {
		return
	}
	if n > 1 && stride < len(q) {
		panic("tensor: DotsF32: stride shorter than the query")
	}
	_ = k[(n-1)*stride+len(q)-1]
	dotsF32(q, k, stride, out)
}

// AxpyF32 adds alpha·x[i] to y[i] for every i < len(y); x must be at least
// as long as y.
func AxpyF32(y, x []float32, alpha float32) {
	if len(y) == 0 {
		return
	}
	x = x[:len(y)]
	w := [1]float32{alpha}
	mixF32(y, w[:], x, len(y))
}

// MixF32 adds Σ_p w[p]·v[p*stride+i] to y[i] for every i < len(y), the
// positions p < len(w) taken in order: bitwise the same as calling
// AxpyF32(y, v[p*stride:], w[p]) for p = 0, 1, …. It panics if v is too
// short for the last position or stride < len(y) while more than one
// position is given.
func MixF32(y, w, v []float32, stride int) {
	n := len(w)
	if n == 0 || len(y) == 0 {
		return
	}
	if n > 1 && stride < len(y) {
		panic("tensor: MixF32: stride shorter than the output")
	}
	_ = v[(n-1)*stride+len(y)-1]
	mixF32(y, w, v, stride)
}

// dotsF32Go is the portable dotsF32.
func dotsF32Go(q, k []float32, stride int, out []float32) {
	for p := range out {
		out[p] = dotF32(q, k[p*stride:p*stride+len(q)])
	}
}

// mixF32Go is the portable mixF32: per element, the positions in order.
func mixF32Go(y, w, v []float32, stride int) {
	for p, a := range w {
		x := v[p*stride : p*stride+len(y)]
		for i := range y {
			y[i] += a * x[i]
		}
	}
}
