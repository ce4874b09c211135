package remote

import (
	"math"
	"strings"
	"testing"
)

func TestBuildDistTopK(t *testing.T) {
	ln := math.Log
	// Probabilities 0.5, 0.25 (and 0.125 beyond k): tail 0.25, so the
	// estimate is -(.5 ln .5 + .25 ln .25 + .25 ln .25) = 1.0397208.
	cands := []Cand{{ID: 7, LogProb: ln(0.25)}, {ID: 2, LogProb: ln(0.5)}, {ID: 9, LogProb: ln(0.125)}}
	pieces := []string{"a", "b", "▁c", "d", "e", "f", "g", "▁h", "i", "j"}
	d, err := BuildDist(cands, 2, 10, false, pieces)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Top) != 2 || d.Top[0].ID != 2 || d.Top[1].ID != 7 || d.Top[0].Piece != "▁c" || d.Top[1].Piece != "▁h" {
		t.Fatalf("top = %+v", d.Top)
	}
	if !d.EntropyEstimated || d.Full != nil {
		t.Errorf("estimated %v full %v", d.EntropyEstimated, d.Full)
	}
	if math.Abs(d.Entropy-1.0397208) > 1e-6 || math.Abs(d.TailMass-0.25) > 1e-7 {
		t.Errorf("entropy %v tail %v, want 1.0397208 and 0.25", d.Entropy, d.TailMass)
	}
}

func TestBuildDistTiesAndFloor(t *testing.T) {
	// Equal log-probabilities rank by increasing id; llama.cpp's
	// -3.4e38 for an underflowed probability reads as -Inf.
	cands := []Cand{{ID: 5, LogProb: -1}, {ID: 3, LogProb: -1}, {ID: 4, LogProb: -3.4028234663852886e38}, {ID: 1, LogProb: 1e-5}}
	d, err := BuildDist(cands, 4, 6, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	ids := []int32{1, 3, 5, 4}
	for i, c := range d.Top {
		if c.ID != ids[i] {
			t.Fatalf("order %+v, want ids %v", d.Top, ids)
		}
	}
	if d.Top[0].LogProb != 0 || !math.IsInf(float64(d.Top[3].LogProb), -1) {
		t.Errorf("clamping: %+v", d.Top)
	}
}

func TestBuildDistFull(t *testing.T) {
	ln := math.Log
	// p = .5 .25 .125 .125: H = .5ln2 + .25ln4 + 2(.125 ln8) = 1.2130076.
	cands := []Cand{{0, ln(0.125)}, {1, ln(0.5)}, {2, ln(0.125)}, {3, ln(0.25)}}
	d, err := BuildDist(cands, 2, 4, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.EntropyEstimated || len(d.Full) != 4 || math.Abs(d.Entropy-1.2130076) > 1e-6 {
		t.Fatalf("full dist: %+v", d)
	}
	if float64(d.Full[3]) != float64(float32(ln(0.25))) || len(d.Top) != 2 || d.Top[0].ID != 1 || d.Top[1].ID != 3 {
		t.Errorf("full %v top %+v", d.Full, d.Top)
	}
	if math.Abs(d.TailMass-0.25) > 1e-7 {
		t.Errorf("tail %v, want 0.25", d.TailMass)
	}
}

func TestBuildDistErrors(t *testing.T) {
	ln := math.Log
	for _, tc := range []struct {
		name  string
		cands []Cand
		k     int
		full  bool
		want  string
	}{
		{"fewer than asked", []Cand{{1, -1}, {2, -2}}, 3, false, "returned 2 candidates, asked for 3"},
		{"full needs every id", []Cand{{1, -1}, {2, -2}, {0, -3}}, 2, true, "returned 3 candidates, asked for 4"},
		{"id out of range", []Cand{{1, -1}, {4, -2}}, 2, false, "id 4 outside the vocabulary [0, 4)"},
		{"negative id", []Cand{{-1, -1}, {2, -2}}, 2, false, "id -1 outside"},
		{"duplicate", []Cand{{1, -1}, {1, -2}}, 2, false, "id 1 returned twice"},
		{"positive", []Cand{{1, 0.5}, {2, -2}}, 2, false, "log-probability 0.5 is not ≤ 0"},
		{"NaN", []Cand{{1, math.NaN()}, {2, -2}}, 2, false, "NaN"},
		{"full not normalised", []Cand{{0, ln(0.5)}, {1, ln(0.1)}, {2, ln(0.1)}, {3, ln(0.1)}}, 2, true, "sums to 0.8000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := BuildDist(tc.cands, tc.k, 4, tc.full, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestBuildDistKAboveVocab(t *testing.T) {
	// Asking for more candidates than the vocabulary holds wants them all.
	d, err := BuildDist([]Cand{{0, math.Log(0.75)}, {1, math.Log(0.25)}}, 5, 2, false, nil)
	if err != nil || len(d.Top) != 2 || d.TailMass > 1e-7 {
		t.Fatalf("d = %+v, err = %v", d, err)
	}
}
