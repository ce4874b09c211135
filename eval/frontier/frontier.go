// Package frontier compares methods on one diversity–quality plane: each
// method is a curve of points (one per value of its sweep parameter), both
// axes are min–max normalised over every point of every method so that 1 is
// the best value seen, and each method gets a coverage (the area its points
// dominate in the unit square) and a dominance (its share of the global
// Pareto frontier). docs/eval.md states the definitions.
package frontier

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
)

// Point is one point of a method's curve in raw metric units.
type Point struct {
	// X is the diversity value, Y the quality value.
	X, Y float64
	// Param is the sweep parameter (γ or temperature) of the point.
	Param float64
	// HasParam is false for a method without a sweep.
	HasParam bool
}

// Curve is one method's points.
type Curve struct {
	// Method names the method.
	Method string
	// Points are the method's points; points with a NaN or infinite
	// coordinate are ignored.
	Points []Point
}

// Axis describes the orientation of one axis.
type Axis struct {
	// HigherIsBetter is true when larger raw values are better (more
	// diverse, higher quality); false flips the axis in normalisation.
	HigherIsBetter bool
}

// MethodResult is one method's scores on the plane.
type MethodResult struct {
	// Method names the method.
	Method string `json:"method"`
	// Points counts the method's finite points.
	Points int `json:"points"`
	// Coverage is the area of the union of the rectangles [0,x̂]×[0,ŷ] of
	// the method's normalised points, in [0,1].
	Coverage float64 `json:"coverage"`
	// RelCoverage is Coverage divided by the area the points of every
	// method cover together (0 when that area is 0).
	RelCoverage float64 `json:"rel_coverage"`
	// Dominance is the method's share of the global Pareto frontier's
	// distinct points, in [0,1]; a frontier point several methods reach
	// exactly is shared equally. The dominances of all methods sum to 1.
	Dominance float64 `json:"dominance"`
}

// FrontierPoint is one point of the global Pareto frontier.
type FrontierPoint struct {
	// X, Y are raw values.
	X float64 `json:"x"`
	Y float64 `json:"y"`
	// NX, NY are the normalised values.
	NX float64 `json:"nx"`
	NY float64 `json:"ny"`
	// Methods are the methods that have a point here.
	Methods []string `json:"methods"`
}

// Analysis is the outcome of Analyze.
type Analysis struct {
	// XMin, XMax, YMin, YMax are the raw ranges the normalisation used.
	XMin, XMax, YMin, YMax float64
	// Methods holds one result per input curve, in input order.
	Methods []MethodResult
	// Frontier is the global Pareto frontier, by increasing NX.
	Frontier []FrontierPoint
	// UnionCoverage is the area covered by all methods' points together.
	UnionCoverage float64
}

// Normalize maps v from [lo,hi] to [0,1] so that 1 is the best value: (v−lo)/(hi−lo)
// when higher is better, (hi−v)/(hi−lo) otherwise; a zero-width range maps to 1.
func Normalize(v, lo, hi float64, higherIsBetter bool) float64 {
	if hi == lo {
		return 1
	}
	if higherIsBetter {
		return (v - lo) / (hi - lo)
	}
	return (hi - v) / (hi - lo)
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// Area is the area of the union of the rectangles [0,x]×[0,y] of points
// given as (x, y) pairs with non-negative coordinates: the area under their
// staircase frontier.
func Area(pts [][2]float64) float64 {
	p := slices.Clone(pts)
	sort.Slice(p, func(i, j int) bool { return p[i][0] > p[j][0] })
	var area, maxY float64
	for i, q := range p {
		maxY = math.Max(maxY, q[1])
		next := 0.0
		if i+1 < len(p) {
			next = p[i+1][0]
		}
		area += (q[0] - next) * maxY
	}
	return area
}

// Dominates reports whether a Pareto-dominates b (both normalised, higher
// better): a is at least as good on both axes and better on one.
func Dominates(a, b [2]float64) bool {
	return a[0] >= b[0] && a[1] >= b[1] && (a[0] > b[0] || a[1] > b[1])
}

// Analyze normalises the curves on the plane and computes every method's
// coverage and dominance and the global frontier. It fails when no curve
// has a finite point.
func Analyze(curves []Curve, x, y Axis) (*Analysis, error) {
	an := &Analysis{XMin: math.Inf(1), XMax: math.Inf(-1), YMin: math.Inf(1), YMax: math.Inf(-1)}
	n := 0
	for _, c := range curves {
		for _, p := range c.Points {
			if finite(p.X) && finite(p.Y) {
				an.XMin, an.XMax = math.Min(an.XMin, p.X), math.Max(an.XMax, p.X)
				an.YMin, an.YMax = math.Min(an.YMin, p.Y), math.Max(an.YMax, p.Y)
				n++
			}
		}
	}
	if n == 0 {
		return nil, errors.New("frontier: no finite point on the plane")
	}
	type owned struct {
		p      [2]float64
		raw    [2]float64
		method int
	}
	var all []owned
	norm := make([][][2]float64, len(curves))
	for i, c := range curves {
		for _, p := range c.Points {
			if !finite(p.X) || !finite(p.Y) {
				continue
			}
			q := [2]float64{Normalize(p.X, an.XMin, an.XMax, x.HigherIsBetter), Normalize(p.Y, an.YMin, an.YMax, y.HigherIsBetter)}
			norm[i] = append(norm[i], q)
			all = append(all, owned{p: q, raw: [2]float64{p.X, p.Y}, method: i})
		}
	}
	allPts := make([][2]float64, len(all))
	for i, o := range all {
		allPts[i] = o.p
	}
	an.UnionCoverage = Area(allPts)
	// Global frontier: distinct coordinates not dominated by any point.
	type front struct {
		p, raw  [2]float64
		methods []int
	}
	var fr []front
	for _, o := range all {
		dominated := false
		for _, q := range allPts {
			if Dominates(q, o.p) {
				dominated = true
				break
			}
		}
		if dominated {
			continue
		}
		k := slices.IndexFunc(fr, func(f front) bool { return f.p == o.p })
		if k < 0 {
			fr = append(fr, front{p: o.p, raw: o.raw})
			k = len(fr) - 1
		}
		if !slices.Contains(fr[k].methods, o.method) {
			fr[k].methods = append(fr[k].methods, o.method)
		}
	}
	sort.Slice(fr, func(i, j int) bool { return fr[i].p[0] < fr[j].p[0] })
	credit := make([]float64, len(curves))
	for _, f := range fr {
		fp := FrontierPoint{X: f.raw[0], Y: f.raw[1], NX: f.p[0], NY: f.p[1]}
		for _, m := range f.methods {
			credit[m] += 1 / float64(len(f.methods))
			fp.Methods = append(fp.Methods, curves[m].Method)
		}
		an.Frontier = append(an.Frontier, fp)
	}
	for i, c := range curves {
		r := MethodResult{Method: c.Method, Points: len(norm[i])}
		if r.Points > 0 {
			r.Coverage = Area(norm[i])
			if an.UnionCoverage > 0 {
				r.RelCoverage = r.Coverage / an.UnionCoverage
			}
		}
		if len(fr) > 0 {
			r.Dominance = credit[i] / float64(len(fr))
		}
		an.Methods = append(an.Methods, r)
	}
	return an, nil
}

// Result returns the result of the method called name.
func (a *Analysis) Result(name string) (MethodResult, error) {
	for _, m := range a.Methods {
		if m.Method == name {
			return m, nil
		}
	}
	return MethodResult{}, fmt.Errorf("frontier: no method %q", name)
}
