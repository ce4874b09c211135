package frontier

import (
	"math"
	"reflect"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12 }

// The constructed plane of docs/eval.md. Raw values already span [0,1] on
// both axes, so normalisation is the identity.
//
//	A: (0.2,1.0) (0.6,0.6) (1.0,0.0)   area 0.2·1 + 0.4·0.6 + 0 = 0.44
//	B: (0.0,0.8) (0.8,0.5)             area 0.8·0.5 + 0 = 0.40
//	union: 0.2·1 + 0.4·0.6 + 0.2·0.5 = 0.54
//	frontier: A(0.2,1) A(0.6,0.6) B(0.8,0.5) A(1,0); B(0,0.8) is dominated by A(0.2,1)
//	dominance: A 3/4, B 1/4
func planeAB() []Curve {
	return []Curve{
		{Method: "A", Points: []Point{{X: 0.2, Y: 1.0}, {X: 0.6, Y: 0.6}, {X: 1.0, Y: 0.0}}},
		{Method: "B", Points: []Point{{X: 0.0, Y: 0.8}, {X: 0.8, Y: 0.5}}},
	}
}

func check(t *testing.T, an *Analysis, name string, cov, rel, dom float64) {
	t.Helper()
	r, err := an.Result(name)
	if err != nil {
		t.Fatal(err)
	}
	if !near(r.Coverage, cov) || !near(r.RelCoverage, rel) || !near(r.Dominance, dom) {
		t.Errorf("%s: coverage %v rel %v dominance %v; want %v %v %v", name, r.Coverage, r.RelCoverage, r.Dominance, cov, rel, dom)
	}
}

func TestAnalyzeConstructed(t *testing.T) {
	an, err := Analyze(planeAB(), Axis{true}, Axis{true})
	if err != nil {
		t.Fatal(err)
	}
	check(t, an, "A", 0.44, 0.44/0.54, 0.75)
	check(t, an, "B", 0.40, 0.40/0.54, 0.25)
	if !near(an.UnionCoverage, 0.54) {
		t.Errorf("union %v, want 0.54", an.UnionCoverage)
	}
	var got [][3]any
	for _, f := range an.Frontier {
		got = append(got, [3]any{f.NX, f.NY, f.Methods[0]})
	}
	want := [][3]any{{0.2, 1.0, "A"}, {0.6, 0.6, "A"}, {0.8, 0.5, "B"}, {1.0, 0.0, "A"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("frontier %v, want %v", got, want)
	}
}

// The same plane in other units, with a lower-is-better x axis:
// x_raw = 10 − 5x, y_raw = 2 + 3y. Normalisation must give the same answers.
func TestAnalyzeUnitsAndDirection(t *testing.T) {
	var cs []Curve
	for _, c := range planeAB() {
		d := Curve{Method: c.Method}
		for _, p := range c.Points {
			d.Points = append(d.Points, Point{X: 10 - 5*p.X, Y: 2 + 3*p.Y})
		}
		cs = append(cs, d)
	}
	an, err := Analyze(cs, Axis{false}, Axis{true})
	if err != nil {
		t.Fatal(err)
	}
	check(t, an, "A", 0.44, 0.44/0.54, 0.75)
	check(t, an, "B", 0.40, 0.40/0.54, 0.25)
	if an.XMin != 5 || an.XMax != 10 || an.YMin != 2 || an.YMax != 5 {
		t.Errorf("ranges %v %v %v %v", an.XMin, an.XMax, an.YMin, an.YMax)
	}
}

// A third method reaching A's point (0.2, 1) exactly shares it: the four
// distinct frontier points give A 2.5/4, B 1/4, C 0.5/4. C alone covers 0.2.
func TestAnalyzeSharedFrontierPoint(t *testing.T) {
	cs := append(planeAB(), Curve{Method: "C", Points: []Point{{X: 0.2, Y: 1.0}, {X: 0.1, Y: 0.1}, {X: math.NaN(), Y: 1}}})
	an, err := Analyze(cs, Axis{true}, Axis{true})
	if err != nil {
		t.Fatal(err)
	}
	check(t, an, "A", 0.44, 0.44/0.54, 2.5/4)
	check(t, an, "B", 0.40, 0.40/0.54, 1.0/4)
	check(t, an, "C", 0.2, 0.2/0.54, 0.5/4)
	if r, _ := an.Result("C"); r.Points != 2 {
		t.Errorf("C has %d finite points, want 2", r.Points)
	}
	sum := 0.0
	for _, m := range an.Methods {
		sum += m.Dominance
	}
	if !near(sum, 1) {
		t.Errorf("dominances sum to %v", sum)
	}
}

// One method entirely above another: it holds the whole frontier; the
// single dominated point of the other covers 0.25 of the unit square of
// the normalised plane spanned by (0,0)–(1,1).
func TestAnalyzeDominatedMethod(t *testing.T) {
	cs := []Curve{
		{Method: "good", Points: []Point{{X: 1, Y: 1}, {X: 0, Y: 0}}},
		{Method: "bad", Points: []Point{{X: 0.5, Y: 0.5}}},
		{Method: "none", Points: nil},
	}
	an, err := Analyze(cs, Axis{true}, Axis{true})
	if err != nil {
		t.Fatal(err)
	}
	check(t, an, "good", 1, 1, 1)
	check(t, an, "bad", 0.25, 0.25, 0)
	check(t, an, "none", 0, 0, 0)
}

// A zero-width range maps to 1: every point has ŷ = 1 and the coverage is
// the largest x̂.
func TestAnalyzeFlatAxis(t *testing.T) {
	cs := []Curve{
		{Method: "A", Points: []Point{{X: 2, Y: -1.5}, {X: 4, Y: -1.5}}},
		{Method: "B", Points: []Point{{X: 3, Y: -1.5}}},
	}
	an, err := Analyze(cs, Axis{true}, Axis{true})
	if err != nil {
		t.Fatal(err)
	}
	check(t, an, "A", 1, 1, 1)
	check(t, an, "B", 0.5, 0.5, 0)
}

func TestAnalyzeEmpty(t *testing.T) {
	if _, err := Analyze([]Curve{{Method: "A", Points: []Point{{X: math.NaN(), Y: 1}}}}, Axis{true}, Axis{true}); err == nil {
		t.Error("no finite point: no error")
	}
}

func TestDominatesAndArea(t *testing.T) {
	if !Dominates([2]float64{0.5, 0.7}, [2]float64{0.5, 0.5}) || Dominates([2]float64{0.5, 0.5}, [2]float64{0.5, 0.5}) {
		t.Error("Dominates")
	}
	if a := Area([][2]float64{{1, 1}}); a != 1 {
		t.Errorf("Area of the unit point = %v", a)
	}
	if a := Area(nil); a != 0 {
		t.Errorf("Area(nil) = %v", a)
	}
	// Nested rectangles count once.
	if a := Area([][2]float64{{0.5, 0.5}, {1, 1}}); a != 1 {
		t.Errorf("nested = %v", a)
	}
}
