package tensor

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/baco-go/baco/engine/gguf"
	"github.com/baco-go/baco/internal/testdata"
)

// TestRealModelWeights wraps every tensor of the real stories260K model and,
// for each 2-D weight, checks MatMul in its stored type and re-quantised to
// every supported type against the float64 reference (bound as in
// refMatMul).
func TestRealModelWeights(t *testing.T) {
	f, err := gguf.Open(testdata.Path(t, "models/stories260K.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := NewPool(2)
	defer p.Close()
	r := rand.New(rand.NewPCG(9, 9))
	checked := 0
	for i := range f.Tensors {
		ti := &f.Tensors[i]
		m, err := FromTensor(ti)
		if err != nil {
			t.Fatalf("FromTensor(%s): %v", ti.Name, err)
		}
		if len(ti.Dims) != 2 {
			continue
		}
		w := make([]float32, m.Rows*m.Cols)
		if err := Dequantize(m.Type, m.Data, w); err != nil {
			t.Fatal(err)
		}
		for _, typ := range allTypes {
			if _, err := rowBytes(typ, m.Cols); err != nil {
				continue // K-quants need 256 columns
			}
			data, err := Quantize(typ, w)
			if err != nil {
				t.Fatal(err)
			}
			q := &Matrix{Type: typ, Rows: m.Rows, Cols: m.Cols, Data: data}
			const batch = 5
			x := randVec(r, batch*q.Cols, 1)
			out := make([]float32, batch*q.Rows)
			p.MatMul(q, x, batch, out)
			want, bound := refMatMul(q, x, batch)
			for k := range out {
				if e := math.Abs(float64(out[k]) - want[k]); !(e <= bound[k]) {
					t.Fatalf("%s as %v: out[%d] = %v, want %v ± %g", ti.Name, typ, k, out[k], want[k], bound[k])
				}
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no 2-D tensors checked")
	}
	t.Logf("%d tensor×type products checked", checked)
}
