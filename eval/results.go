package eval

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/baco-go/baco/eval/frontier"
	"github.com/baco-go/baco/eval/metrics"
	"github.com/baco-go/baco/eval/plots"
	"github.com/baco-go/baco/eval/report"
	"github.com/baco-go/baco/eval/rundir"
)

// Results is metrics.json: every point's measures averaged over prompts,
// and every plane's coverage, dominance and frontier.
type Results struct {
	// Experiment is the experiment that produced the run.
	Experiment *Experiment `json:"experiment"`
	// Scorer is the scoring configuration.
	Scorer string `json:"scorer"`
	// Measures describes every measure.
	Measures []metrics.Info `json:"measures"`
	// Points holds one entry per method point, in plan order.
	Points []PointResult `json:"points"`
	// Planes holds one entry per diversity × quality pair with data.
	Planes []PlaneResult `json:"planes"`
	// Summary holds each method's mean coverage and dominance over the
	// lexical, the semantic and all planes.
	Summary []MethodSummary `json:"summary"`
}

// PointResult is one point's measures.
type PointResult struct {
	Method string   `json:"method"`
	Param  string   `json:"param,omitempty"`
	Gamma  *float64 `json:"gamma"`
	Spec   string   `json:"spec"`
	// Values are means over the prompts where the measure is defined.
	Values map[string]float64 `json:"values"`
	// Prompts counts, per measure, the prompts it is defined for.
	Prompts map[string]int `json:"prompts"`
}

// PlaneResult is one diversity–quality plane.
type PlaneResult struct {
	// X is the diversity measure, Y the quality measure.
	X string `json:"x"`
	Y string `json:"y"`
	// Group is the diversity measure's group (lexical or semantic).
	Group string `json:"group"`
	// XRange and YRange are the raw ranges of the normalisation.
	XRange [2]float64 `json:"x_range"`
	YRange [2]float64 `json:"y_range"`
	// Methods are coverage and dominance per method.
	Methods []frontier.MethodResult `json:"methods"`
	// Frontier is the global Pareto frontier.
	Frontier []frontier.FrontierPoint `json:"frontier"`
	// Plot is the plot's file name without extension, under plots/.
	Plot string `json:"plot"`
}

// MethodSummary is a method's mean coverage and dominance over planes.
type MethodSummary struct {
	Method string `json:"method"`
	// Coverage and Dominance map "lexical", "semantic" and "all" to the
	// mean over those planes (absent when there is no such plane).
	Coverage  map[string]float64 `json:"coverage"`
	Dominance map[string]float64 `json:"dominance"`
}

// aggregate averages the scores of the planned points over prompts and
// analyses every plane.
func (r *runner) aggregate(scores *rundir.Journal[Score]) (*Results, error) {
	id := r.e.scorerID()
	res := &Results{Experiment: r.e, Scorer: id, Measures: metrics.All()}
	for i := range r.points {
		pt := &r.points[i]
		pr := PointResult{Method: pt.Method, Param: pt.Param, Gamma: pt.Gamma(), Spec: pt.Spec,
			Values: map[string]float64{}, Prompts: map[string]int{}}
		sums := map[string]float64{}
		for _, p := range r.ps.Prompts {
			s, ok := scores.Get(scoreKey(&Score{Method: pt.Method, Gamma: pt.Gamma(), Prompt: p.ID, Scorer: id}))
			if !ok {
				return nil, fmt.Errorf("eval: no score for %s prompt %q", pt.Label(), p.ID)
			}
			for k, v := range s.Values {
				sums[k] += v
				pr.Prompts[k]++
			}
		}
		for k, v := range sums {
			pr.Values[k] = v / float64(pr.Prompts[k])
		}
		res.Points = append(res.Points, pr)
	}
	methods := r.e.MethodNames()
	type acc struct{ cov, dom map[string][]float64 }
	per := map[string]*acc{}
	for _, m := range methods {
		per[m] = &acc{cov: map[string][]float64{}, dom: map[string][]float64{}}
	}
	for _, x := range metrics.All() {
		if x.Kind != metrics.Diversity {
			continue
		}
		for _, y := range metrics.All() {
			if y.Kind != metrics.Quality || !y.Plane {
				continue
			}
			curves := make([]frontier.Curve, len(methods))
			found := false
			for i, m := range methods {
				curves[i].Method = m
				for _, p := range res.Points {
					if p.Method != m {
						continue
					}
					xv, okx := p.Values[x.Name]
					yv, oky := p.Values[y.Name]
					if !okx || !oky {
						continue
					}
					fp := frontier.Point{X: xv, Y: yv}
					if p.Gamma != nil {
						fp.Param, fp.HasParam = *p.Gamma, true
					}
					curves[i].Points = append(curves[i].Points, fp)
					found = true
				}
			}
			if !found {
				continue
			}
			an, err := frontier.Analyze(curves, frontier.Axis{HigherIsBetter: x.HigherIsBetter}, frontier.Axis{HigherIsBetter: y.HigherIsBetter})
			if err != nil {
				return nil, fmt.Errorf("eval: plane %s × %s: %w", x.Name, y.Name, err)
			}
			pl := PlaneResult{X: x.Name, Y: y.Name, Group: x.Group, XRange: [2]float64{an.XMin, an.XMax}, YRange: [2]float64{an.YMin, an.YMax},
				Methods: an.Methods, Frontier: an.Frontier, Plot: x.Name + "__" + y.Name}
			res.Planes = append(res.Planes, pl)
			for _, m := range an.Methods {
				a := per[m.Method]
				for _, g := range []string{x.Group, "all"} {
					a.cov[g] = append(a.cov[g], m.Coverage)
					a.dom[g] = append(a.dom[g], m.Dominance)
				}
			}
		}
	}
	for _, m := range methods {
		s := MethodSummary{Method: m, Coverage: map[string]float64{}, Dominance: map[string]float64{}}
		for g, v := range per[m].cov {
			s.Coverage[g] = mean(v)
			s.Dominance[g] = mean(per[m].dom[g])
		}
		res.Summary = append(res.Summary, s)
	}
	return res, nil
}

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

func fmtNum(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }

// write saves metrics.json, metrics.csv, planes.csv, the plots and the
// report (each replaced atomically).
func (r *runner) write(res *Results) error {
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return fmt.Errorf("eval: encode %s: %w", MetricsFile, err)
	}
	if err := rundir.WriteFileAtomic(filepath.Join(r.dir, MetricsFile), append(b, '\n')); err != nil {
		return err
	}
	measures := metrics.All()
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	head := []string{"method", "param", "gamma"}
	for _, m := range measures {
		head = append(head, m.Name)
	}
	w.Write(head)
	for _, p := range res.Points {
		row := []string{p.Method, p.Param, gammaText(p.Gamma)}
		for _, m := range measures {
			if v, ok := p.Values[m.Name]; ok {
				row = append(row, fmtNum(v))
			} else {
				row = append(row, "")
			}
		}
		w.Write(row)
	}
	w.Flush()
	if err := rundir.WriteFileAtomic(filepath.Join(r.dir, MetricsCSV), buf.Bytes()); err != nil {
		return err
	}
	buf.Reset()
	w = csv.NewWriter(&buf)
	w.Write([]string{"x", "y", "method", "points", "coverage", "rel_coverage", "dominance"})
	for _, pl := range res.Planes {
		for _, m := range pl.Methods {
			w.Write([]string{pl.X, pl.Y, m.Method, strconv.Itoa(m.Points), fmtNum(m.Coverage), fmtNum(m.RelCoverage), fmtNum(m.Dominance)})
		}
	}
	w.Flush()
	if err := rundir.WriteFileAtomic(filepath.Join(r.dir, PlanesCSV), buf.Bytes()); err != nil {
		return err
	}
	svgs := map[string][]byte{}
	for _, pl := range res.Planes {
		svg, err := plots.Save(r.plane(res, pl), filepath.Join(r.dir, PlotsDir, pl.Plot))
		if err != nil {
			return fmt.Errorf("eval: plot %s: %w", pl.Plot, err)
		}
		svgs[pl.Plot] = svg
	}
	var page bytes.Buffer
	if err := report.Render(&page, r.reportData(res, svgs)); err != nil {
		return err
	}
	return rundir.WriteFileAtomic(filepath.Join(r.dir, ReportFile), page.Bytes())
}

func gammaText(g *float64) string {
	if g == nil {
		return ""
	}
	return GammaKey(g)
}

func axisLabel(name string) string {
	info, _ := metrics.Lookup(name)
	dir := "higher is better"
	if info.Kind == metrics.Diversity {
		dir = "higher is more diverse"
		if !info.HigherIsBetter {
			dir = "lower is more diverse"
		}
	} else if !info.HigherIsBetter {
		dir = "lower is better"
	}
	return name + " (" + dir + ")"
}

// plane converts a plane to the plot's input.
func (r *runner) plane(res *Results, pl PlaneResult) plots.Plane {
	out := plots.Plane{Title: pl.X + " × " + pl.Y, XLabel: axisLabel(pl.X), YLabel: axisLabel(pl.Y)}
	for _, m := range r.e.MethodNames() {
		s := plots.Series{Name: m}
		for _, p := range res.Points {
			if p.Method != m {
				continue
			}
			x, okx := p.Values[pl.X]
			y, oky := p.Values[pl.Y]
			if !okx || !oky {
				continue
			}
			s.X, s.Y = append(s.X, x), append(s.Y, y)
			s.Labels = append(s.Labels, gammaText(p.Gamma))
		}
		out.Series = append(out.Series, s)
	}
	for _, f := range pl.Frontier {
		out.Frontier = append(out.Frontier, [2]float64{f.X, f.Y})
	}
	slices.SortFunc(out.Frontier, func(a, b [2]float64) int {
		switch {
		case a[0] < b[0]:
			return -1
		case a[0] > b[0]:
			return 1
		}
		return 0
	})
	return out
}

// reportData assembles the report's tables.
func (r *runner) reportData(res *Results, svgs map[string][]byte) *report.Data {
	e := r.e
	d := &report.Data{
		Title:     "bacoctl eval: " + filepath.Base(filepath.Clean(r.dir)),
		Generated: time.Now().UTC().Format(time.RFC3339),
		Setup: [][2]string{
			{"base model", e.Base}, {"aligned model", e.Aligned}, {"prompts", fmt.Sprintf("%s (%d)", e.Prompts, len(r.ps.Prompts))},
			{"samples per prompt", strconv.Itoa(e.Samples)}, {"seed", strconv.FormatUint(e.Seed, 10)},
			{"max tokens", strconv.Itoa(e.MaxTokens)}, {"sampling", fmt.Sprintf("%+v", e.Sampling.Params())},
			{"boundary", e.Boundary}, {"points", strconv.Itoa(len(r.points))}, {"scorer", res.Scorer},
		},
	}
	groups := []string{"lexical", "semantic", "all"}
	d.SummaryColumns = []string{"method"}
	for _, g := range groups {
		d.SummaryColumns = append(d.SummaryColumns, "coverage ("+g+")")
	}
	for _, g := range groups {
		d.SummaryColumns = append(d.SummaryColumns, "dominance ("+g+")")
	}
	for _, s := range res.Summary {
		row := []string{s.Method}
		for _, m := range []map[string]float64{s.Coverage, s.Dominance} {
			for _, g := range groups {
				if v, ok := m[g]; ok {
					row = append(row, strconv.FormatFloat(v, 'f', 3, 64))
				} else {
					row = append(row, "–")
				}
			}
		}
		d.Summary = append(d.Summary, row)
	}
	for _, pl := range res.Planes {
		p := report.Plane{ID: pl.Plot, Title: pl.X + " × " + pl.Y, SVG: report.InlineSVG(svgs[pl.Plot]),
			Columns: []string{"method", "points", "coverage", "relative coverage", "dominance"}}
		for _, m := range pl.Methods {
			p.Rows = append(p.Rows, []string{m.Method, strconv.Itoa(m.Points), strconv.FormatFloat(m.Coverage, 'f', 3, 64),
				strconv.FormatFloat(m.RelCoverage, 'f', 3, 64), strconv.FormatFloat(m.Dominance, 'f', 3, 64)})
		}
		d.Planes = append(d.Planes, p)
	}
	measures := metrics.All()
	d.PointColumns = []string{"point"}
	for _, m := range measures {
		d.PointColumns = append(d.PointColumns, m.Name)
	}
	notes := map[string]bool{}
	for i, p := range res.Points {
		row := []string{r.points[i].Label()}
		for _, m := range measures {
			if v, ok := p.Values[m.Name]; ok {
				row = append(row, fmtNum(v))
			} else {
				row = append(row, "–")
				notes[m.Name] = true
			}
		}
		d.Points = append(d.Points, row)
	}
	for _, m := range measures {
		if notes[m.Name] {
			d.Notes = append(d.Notes, fmt.Sprintf("%s is missing for some points (see the notes in %s)", m.Name, ScoresFile))
		}
	}
	// One sample per point, of the first prompt.
	if len(r.ps.Prompts) > 0 {
		pr := r.ps.Prompts[0]
		for i := range r.points {
			pt := &r.points[i]
			if g, ok := r.gens.Get(GenKey(pt.Method, pt.Gamma(), pr.ID, 0)); ok {
				d.Samples = append(d.Samples, report.Sample{Point: pt.Label(), Prompt: pr.Text, Text: g.Text})
			}
		}
	}
	return d
}
