package eval

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/baco-go/baco/core/policy"
	"github.com/baco-go/baco/core/route"
	"github.com/baco-go/baco/core/sample"
)

// Param names what a point's sweep value is.
const (
	ParamGamma       = "gamma"
	ParamTemperature = "temperature"
)

// Point is one method at one value of its sweep: the unit of generation.
type Point struct {
	// Method is the method's label.
	Method string
	// Param is ParamGamma, ParamTemperature or "" for a method without a
	// sweep.
	Param string
	// Value is the sweep value (γ or temperature) when Param is set.
	Value float64
	// Spec describes what generated the point ("router p-punc:0.5",
	// "rule 1a2b…{gamma:0.5}", "aligned T=0.7"); a run directory refuses to
	// mix two specs under one method and value.
	Spec string
	// Router routes the point's tokens.
	Router route.Router
	// Sampling overrides the experiment's sampling when not nil (a
	// temperature sweep).
	Sampling *sample.Params
	// Order is the index of the method in the experiment.
	Order int
}

// Gamma returns the sweep value as stored in generations.jsonl (nil for a
// method without a sweep).
func (p *Point) Gamma() *float64 {
	if p.Param == "" {
		return nil
	}
	v := p.Value
	return &v
}

// GammaKey formats a sweep value for keys: the shortest decimal that
// parses back to it, or "-" for none.
func GammaKey(g *float64) string {
	if g == nil {
		return "-"
	}
	return strconv.FormatFloat(*g, 'g', -1, 64)
}

// Label is "method" or "method@value".
func (p *Point) Label() string {
	if p.Param == "" {
		return p.Method
	}
	return p.Method + "@" + GammaKey(p.Gamma())
}

// Plan expands the methods into points, in method order and by increasing
// sweep value, building (and so checking) every router and rule. Errors
// name the method field, e.g. "methods[1].gamma[0]".
func (e *Experiment) Plan() ([]Point, error) {
	var pts []Point
	seen := map[string]int{}
	for i, m := range e.Methods {
		f := fmt.Sprintf("methods[%d]", i)
		name := m.label()
		if name == "" {
			return nil, specErr(f, "give one of router, rule, policy or temperature")
		}
		if !validName.MatchString(name) {
			return nil, specErr(f+".name", "%q: use letters, digits and . _ + - (at most 64, starting with a letter or digit)", name)
		}
		if j, dup := seen[name]; dup {
			return nil, specErr(f+".name", "%q is also the name of methods[%d]; give each method a distinct name", name, j)
		}
		seen[name] = i
		mp, err := m.points(f, e)
		if err != nil {
			return nil, err
		}
		for k := range mp {
			mp[k].Method, mp[k].Order = name, i
		}
		pts = append(pts, mp...)
	}
	return pts, nil
}

func (m Method) points(f string, e *Experiment) ([]Point, error) {
	set := 0
	for _, s := range []string{m.Router, m.Rule, m.Policy} {
		if strings.TrimSpace(s) != "" {
			set++
		}
	}
	temp := len(m.Temperature) > 0
	switch {
	case temp:
		return m.temperaturePoints(f, e)
	case set == 0:
		return nil, specErr(f, "give one of router, rule, policy or temperature")
	case set > 1:
		return nil, specErr(f, "give only one of router, rule or policy")
	case m.Router != "":
		return m.routerPoints(f)
	}
	return m.rulePoints(f)
}

func (m Method) temperaturePoints(f string, e *Experiment) ([]Point, error) {
	if m.Rule != "" || m.Policy != "" || len(m.Gamma) > 0 {
		return nil, specErr(f, "a temperature sweep is plain sampling of one model: it takes no rule, policy or gamma")
	}
	who := strings.ToLower(strings.TrimSpace(m.Router))
	if who == "" {
		who = "aligned"
	}
	if who != "aligned" && who != "base" {
		return nil, specErr(f+".router", "%q: a temperature sweep samples the aligned or the base model alone", m.Router)
	}
	grid, err := sortedGrid(f+".temperature", m.Temperature)
	if err != nil {
		return nil, err
	}
	r, _ := route.Parse(who)
	var pts []Point
	for k, t := range grid {
		p := e.Sampling.Params()
		p.Temperature = t
		if err := p.Validate(); err != nil {
			return nil, specErr(fmt.Sprintf("%s.temperature[%d]", f, k), "%v", err)
		}
		pts = append(pts, Point{Param: ParamTemperature, Value: t, Router: r, Sampling: &p,
			Spec: fmt.Sprintf("%s T=%s", who, strconv.FormatFloat(t, 'g', -1, 64))})
	}
	return pts, nil
}

func (m Method) routerPoints(f string) ([]Point, error) {
	name := strings.ToLower(strings.TrimSpace(m.Router))
	info, ok := route.Lookup(name)
	if !ok {
		return nil, specErr(f+".router", "unknown router %q; valid routers: %s (or use rule: for an expr rule)", m.Router, routerNames())
	}
	if len(m.Vars) > 0 {
		return nil, specErr(f+".vars", "vars are for rules and policies; router %q takes only gamma", name)
	}
	if !info.Gamma {
		if len(m.Gamma) > 0 {
			return nil, specErr(f+".gamma", "router %q takes no γ; remove gamma", name)
		}
		r, err := route.New(name, 0)
		if err != nil {
			return nil, specErr(f+".router", "%v", err)
		}
		return []Point{{Router: r, Spec: "router " + r.Name()}}, nil
	}
	if len(m.Gamma) == 0 {
		return nil, specErr(f+".gamma", "router %q needs a γ grid, e.g. gamma: [0.3, 0.5, 0.7]", name)
	}
	grid, err := sortedGrid(f+".gamma", m.Gamma)
	if err != nil {
		return nil, err
	}
	var pts []Point
	for _, g := range grid {
		r, err := route.New(name, g)
		if err != nil {
			k := slices.Index(m.Gamma, g)
			return nil, specErr(fmt.Sprintf("%s.gamma[%d]", f, k), "%v", err)
		}
		pts = append(pts, Point{Param: ParamGamma, Value: g, Router: r, Spec: "router " + r.Name()})
	}
	return pts, nil
}

func (m Method) rulePoints(f string) ([]Point, error) {
	src, field := m.Rule, f+".rule"
	vars := map[string]any{}
	if m.Policy != "" {
		field = f + ".policy"
		p, err := policy.LoadFile(m.Policy)
		if err != nil {
			return nil, specErr(field, "%v", err)
		}
		src = p.Source()
		maps.Copy(vars, p.Vars())
	}
	maps.Copy(vars, m.Vars)
	grid := []float64{}
	if len(m.Gamma) > 0 {
		if _, clash := m.Vars["gamma"]; clash {
			return nil, specErr(f+".vars.gamma", "the gamma grid sets vars.gamma; remove it from vars")
		}
		var err error
		if grid, err = sortedGrid(f+".gamma", m.Gamma); err != nil {
			return nil, err
		}
	}
	sum := sha256.Sum256([]byte(src))
	id := hex.EncodeToString(sum[:6])
	build := func(v map[string]any) (Point, error) {
		r, err := policy.Compile(src, v)
		if err != nil {
			return Point{}, specErr(field, "%v", err)
		}
		vj, _ := json.Marshal(v) // map keys are sorted
		return Point{Router: r, Spec: "rule " + id + " vars " + string(vj)}, nil
	}
	if len(grid) == 0 {
		p, err := build(vars)
		if err != nil {
			return nil, err
		}
		return []Point{p}, nil
	}
	var pts []Point
	for _, g := range grid {
		v := maps.Clone(vars)
		v["gamma"] = g
		p, err := build(v)
		if err != nil {
			return nil, err
		}
		p.Param, p.Value = ParamGamma, g
		pts = append(pts, p)
	}
	return pts, nil
}

// ParseMethod reads a method from its flag form: "NAME", "NAME:γ1,γ2,…"
// for a built-in router (nudging included), "temperature:T1,T2,…" for a
// temperature sweep of the aligned model ("base-temperature:…" for the
// base model), optionally prefixed by a label: "label=p-punc:0.3,0.5".
func ParseMethod(s string) (Method, error) {
	orig := s
	var m Method
	if label, rest, ok := strings.Cut(s, "="); ok {
		m.Name, s = strings.TrimSpace(label), rest
	}
	name, grid, hasGrid := strings.Cut(strings.TrimSpace(s), ":")
	name = strings.ToLower(strings.TrimSpace(name))
	var vals Floats
	if hasGrid {
		for _, part := range strings.Split(grid, ",") {
			v, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
			if err != nil {
				return Method{}, fmt.Errorf("%w: --method %q: %q is not a number; write NAME:v1,v2,…", ErrExperiment, orig, part)
			}
			vals = append(vals, v)
		}
		if len(vals) > MaxGridPoints {
			return Method{}, fmt.Errorf("%w: --method %q: more than %d values", ErrExperiment, orig, MaxGridPoints)
		}
	}
	switch name {
	case "temperature", "aligned-temperature":
		m.Temperature = vals
	case "base-temperature":
		m.Router, m.Temperature = "base", vals
	default:
		m.Router, m.Gamma = name, vals
	}
	if (name == "temperature" || name == "aligned-temperature" || name == "base-temperature") && len(vals) == 0 {
		return Method{}, fmt.Errorf("%w: --method %q: a temperature sweep needs values, e.g. temperature:0.7,1.0,1.3", ErrExperiment, orig)
	}
	return m, nil
}
