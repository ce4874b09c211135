package dist

import (
	"math"
	"testing"
)

func TestLogSoftmaxHandComputed(t *testing.T) {
	// exp(logits) ∝ 1, 2, 3: probabilities 1/6, 2/6, 3/6.
	logits := []float32{0, float32(math.Log(2)), float32(math.Log(3)), float32(math.Inf(-1))}
	out := make([]float32, len(logits))
	h := LogSoftmax(out, logits)
	want := []float64{1.0 / 6, 2.0 / 6, 3.0 / 6}
	var wantH float64
	for i, p := range want {
		wantH -= p * math.Log(p)
		if d := math.Abs(float64(out[i]) - math.Log(p)); d > 1e-6 {
			t.Fatalf("log p[%d] = %v, want %v", i, out[i], math.Log(p))
		}
	}
	if !math.IsInf(float64(out[3]), -1) {
		t.Fatalf("a -Inf logit gave %v", out[3])
	}
	if math.Abs(h-wantH) > 1e-7 { // the logits are float32
		t.Fatalf("entropy %v, want %v (= 1.0114 nats)", h, wantH)
	}
	// Shift invariance, and a huge shift stays finite.
	big := []float32{1000, 1000 + float32(math.Log(2)), 1000 + float32(math.Log(3))}
	if h2 := LogSoftmax(make([]float32, 3), big); math.Abs(h2-wantH) > 1e-4 {
		t.Fatalf("shifted entropy %v, want %v", h2, wantH)
	}
}

func TestFromLogitsTopKAndTail(t *testing.T) {
	logits := []float32{1, 3, 3, 2, 0}
	d := FromLogits(logits, 3)
	ids := []int32{1, 2, 3} // ties by increasing id
	for i, c := range d.Top {
		if c.ID != ids[i] {
			t.Fatalf("top = %+v, want ids %v", d.Top, ids)
		}
	}
	var z, top float64
	for _, v := range logits {
		z += math.Exp(float64(v))
	}
	for _, id := range ids {
		top += math.Exp(float64(logits[id])) / z
	}
	if math.Abs(d.TailMass-(1-top)) > 1e-6 {
		t.Fatalf("tail mass %v, want %v", d.TailMass, 1-top)
	}
	if math.Abs(d.P1()-math.Exp(3)/z) > 1e-6 || d.Margin() > 1e-6 {
		t.Fatalf("p1 %v margin %v", d.P1(), d.Margin())
	}
	if lp, ok := d.LogProbOf(4); !ok || math.Abs(float64(lp)-math.Log(1/z)) > 1e-6 {
		t.Fatalf("LogProbOf(4) = %v %v", lp, ok)
	}
	if len(FromLogits(logits, 0).Top) != 5 {
		t.Fatal("k = 0 should keep every id")
	}
}

func TestEstimateEntropy(t *testing.T) {
	// Known top: 0.5 and 0.25; the tail 0.25 counts as one outcome.
	top := []Candidate{{ID: 0, LogProb: float32(math.Log(0.5))}, {ID: 1, LogProb: float32(math.Log(0.25))}}
	h, tail := EstimateEntropy(top)
	want := -(0.5*math.Log(0.5) + 0.25*math.Log(0.25) + 0.25*math.Log(0.25))
	if math.Abs(h-want) > 1e-6 || math.Abs(tail-0.25) > 1e-6 {
		t.Fatalf("h %v tail %v, want %v 0.25", h, tail, want)
	}
}
