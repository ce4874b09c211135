package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestAttentionPrimitives checks DotsF32 and MixF32 against float64 sums
// (within the float32 accumulation bound (n+8)·2^-24·Σ|terms|) and against
// their one-position forms bitwise: a score or an output element must not
// depend on how many positions share the call.
func TestAttentionPrimitives(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	for _, hd := range []int{1, 8, 37, 64, 100, 128} {
		for _, n := range []int{1, 2, 17} {
			t.Run(fmt.Sprintf("hd%d/n%d", hd, n), func(t *testing.T) {
				stride := hd + 3
				q := randVec(r, hd, 1)
				k := randVec(r, (n-1)*stride+hd, 1)
				scores := make([]float32, n)
				DotsF32(q, k, stride, scores)
				for p := range n {
					kp := k[p*stride : p*stride+hd]
					if one := DotF32(q, kp); math.Float32bits(one) != math.Float32bits(scores[p]) {
						t.Fatalf("score %d: DotsF32 %v, DotF32 %v", p, scores[p], one)
					}
					var want, mag float64
					for i := range q {
						want += float64(q[i]) * float64(kp[i])
						mag += math.Abs(float64(q[i]) * float64(kp[i]))
					}
					if e := math.Abs(float64(scores[p]) - want); e > float64(hd+8)*0x1p-24*mag {
						t.Fatalf("score %d = %v, want %v (error %g)", p, scores[p], want, e)
					}
				}

				w := randVec(r, n, 1)
				y0 := randVec(r, hd, 1)
				mixed := append([]float32(nil), y0...)
				MixF32(mixed, w, k, stride)
				one := append([]float32(nil), y0...)
				for p := range n {
					AxpyF32(one, k[p*stride:], w[p])
				}
				for i := range hd {
					if math.Float32bits(one[i]) != math.Float32bits(mixed[i]) {
						t.Fatalf("element %d: MixF32 %v, AxpyF32 in turn %v", i, mixed[i], one[i])
					}
					want, mag := float64(y0[i]), math.Abs(float64(y0[i]))
					for p := range n {
						want += float64(w[p]) * float64(k[p*stride+i])
						mag += math.Abs(float64(w[p]) * float64(k[p*stride+i]))
					}
					if e := math.Abs(float64(mixed[i]) - want); e > float64(n+8)*0x1p-24*mag {
						t.Fatalf("element %d = %v, want %v (error %g)", i, mixed[i], want, e)
					}
				}
			})
		}
	}
}

// TestAttentionPrimitivesBounds: inputs too short for the positions asked
// for panic like an out-of-range slice instead of reading past the end.
func TestAttentionPrimitivesBounds(t *testing.T) {
	cases := []struct {
		name string
		f    func()
	}{
		{"DotsF32 short keys", func() { DotsF32(make([]float32, 8), make([]float32, 15), 8, make([]float32, 2)) }},
		{"DotsF32 overlapping stride", func() { DotsF32(make([]float32, 8), make([]float32, 64), 4, make([]float32, 2)) }},
		{"DotF32 short b", func() { DotF32(make([]float32, 8), make([]float32, 7)) }},
		{"MixF32 short values", func() { MixF32(make([]float32, 8), make([]float32, 2), make([]float32, 15), 8) }},
		{"MixF32 overlapping stride", func() { MixF32(make([]float32, 8), make([]float32, 2), make([]float32, 64), 4) }},
		{"AxpyF32 short x", func() { AxpyF32(make([]float32, 8), make([]float32, 7), 1) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			c.f()
		})
	}
	// Empty calls are no-ops.
	DotsF32(nil, nil, 0, nil)
	MixF32(nil, nil, nil, 0)
	AxpyF32(nil, nil, 1)
	if DotF32(nil, nil) != 0 {
		t.Fatal("empty dot is not 0")
	}
}
