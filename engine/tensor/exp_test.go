package llama

import (
	"math"
	"testing"
)

func TestExp32(t *testing.T) {
	worst := 0.0
	for x := float32(-103.9); x < 88.7; x += 0.001237 {
		want := math.Exp(float64(x))
		got := float64(exp32(x))
		if want < 1.1754944e-38 { // float32 subnormals: compare absolutely
			if math.Abs(got-want) > 2.9e-45 {
				t.Fatalf("exp32(%g) = %g, want %g", x, got, want)
			}
			continue
		}
		worst = math.Max(worst, math.Abs(got-want)/want)
	}
	if worst > 2e-7 {
		t.Errorf("exp32 max relative error %.3g, want < 2e-7", worst)
	}
	for _, tc := range []struct{ x, want float32 }{
		{0, 1}, {-200, 0}, {100, float32(math.Inf(1))}, {float32(math.Inf(-1)), 0},
	} {
		if got := exp32(tc.x); got != tc.want {
			t.Errorf("exp32(%g) = %g, want %g", tc.x, got, tc.want)
		}
	}
	if got := exp32(float32(math.NaN())); got == got {
		t.Errorf("exp32(NaN) = %g", got)
	}
}
