// Package plots draws one diversity–quality plane with gonum.org/v1/plot:
// a curve per method (its sweep points joined in sweep order, each point
// labelled with its sweep value) and the global Pareto frontier, saved as
// PNG and SVG.
package plots

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"math"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// Size of a saved plot.
const (
	Width  = 7 * vg.Inch
	Height = 5 * vg.Inch
)

// Series is one method's curve.
type Series struct {
	// Name labels the curve in the legend.
	Name string
	// X, Y are the points in sweep order (NaN points are skipped).
	X, Y []float64
	// Labels annotate the points (e.g. "0.5"); empty for none.
	Labels []string
}

// Plane is one diversity–quality plane.
type Plane struct {
	// Title, XLabel and YLabel are the texts of the plot.
	Title, XLabel, YLabel string
	// Series are the methods' curves.
	Series []Series
	// Frontier is the global Pareto frontier in raw units, drawn as a
	// dashed line (by increasing x); empty for none.
	Frontier [][2]float64
}

// New builds the plot of a plane.
func New(pl Plane) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = pl.Title
	p.X.Label.Text = pl.XLabel
	p.Y.Label.Text = pl.YLabel
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	n := 0
	for i, s := range pl.Series {
		var xys plotter.XYs
		var labels []string
		for k := range s.X {
			if k >= len(s.Y) || !finite(s.X[k]) || !finite(s.Y[k]) {
				continue
			}
			xys = append(xys, plotter.XY{X: s.X[k], Y: s.Y[k]})
			if k < len(s.Labels) {
				labels = append(labels, s.Labels[k])
			} else {
				labels = append(labels, "")
			}
		}
		if len(xys) == 0 {
			continue
		}
		n += len(xys)
		line, pts, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, fmt.Errorf("plots: series %s: %w", s.Name, err)
		}
		c := plotutil.Color(i)
		line.Color = c
		line.Width = vg.Points(1.5)
		pts.Color = c
		pts.Shape = plotutil.Shape(i)
		pts.Radius = vg.Points(3)
		p.Add(line, pts)
		p.Legend.Add(s.Name, line, pts)
		if hasText(labels) {
			lb, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
			if err != nil {
				return nil, fmt.Errorf("plots: labels of %s: %w", s.Name, err)
			}
			for k := range lb.TextStyle {
				lb.TextStyle[k].Color = c
				lb.TextStyle[k].Font.Size = vg.Points(7)
			}
			lb.Offset = vg.Point{X: vg.Points(4), Y: vg.Points(3)}
			p.Add(lb)
		}
	}
	if n == 0 {
		return nil, errors.New("plots: no finite point to draw")
	}
	if len(pl.Frontier) > 0 {
		xys := make(plotter.XYs, len(pl.Frontier))
		for i, f := range pl.Frontier {
			xys[i] = plotter.XY{X: f[0], Y: f[1]}
		}
		fl, err := plotter.NewLine(xys)
		if err != nil {
			return nil, fmt.Errorf("plots: frontier: %w", err)
		}
		fl.Color = color.Gray{Y: 120}
		fl.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		fl.Width = vg.Points(1)
		p.Add(fl)
		p.Legend.Add("Pareto frontier", fl)
	}
	padRange(&p.X.Min, &p.X.Max)
	padRange(&p.Y.Min, &p.Y.Max)
	return p, nil
}

// padRange widens a zero-width or tight axis by 5% on each side (at least
// ±0.5 around a single value) so points are not drawn on the border.
func padRange(lo, hi *float64) {
	w := *hi - *lo
	if w == 0 {
		w = math.Max(math.Abs(*lo), 1) * 0.5
		*lo, *hi = *lo-w, *hi+w
		return
	}
	*lo -= 0.05 * w
	*hi += 0.05 * w
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func hasText(ss []string) bool {
	for _, s := range ss {
		if s != "" {
			return true
		}
	}
	return false
}

// Encode renders the plane in format "png" or "svg".
func Encode(pl Plane, format string) ([]byte, error) {
	p, err := New(pl)
	if err != nil {
		return nil, err
	}
	w, err := p.WriterTo(Width, Height, format)
	if err != nil {
		return nil, fmt.Errorf("plots: %s: %w", format, err)
	}
	var b bytes.Buffer
	if _, err := w.WriteTo(&b); err != nil {
		return nil, fmt.Errorf("plots: render %s: %w", format, err)
	}
	return b.Bytes(), nil
}

// Save writes base+".png" and base+".svg" and returns the SVG bytes.
func Save(pl Plane, base string) ([]byte, error) {
	var svg []byte
	for _, f := range []string{"png", "svg"} {
		b, err := Encode(pl, f)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(base+"."+f, b, 0o644); err != nil {
			return nil, fmt.Errorf("plots: %w", err)
		}
		if f == "svg" {
			svg = b
		}
	}
	return svg, nil
}
