// Package policy compiles routing rules written in expr
// (github.com/expr-lang/expr) once per run and evaluates them per token as a
// route.Router. A rule reads a typed environment (Env: base.p1,
// aligned.class, pos, js, vars.gamma, ...) and returns "base"/"aligned", a
// bool (true = base) or a number (the base model's weight in [0,1]).
// Mistakes are reported at compile time with line:col wherever the types
// allow: unknown names (with a did-you-mean suggestion), unknown vars, wrong
// result types.
package policy

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
	"sync"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"

	"github.com/baco-go/baco/core/route"
	"github.com/baco-go/baco/core/tokenclass"
)

// Error is a compile or run-time error of a rule, located in the rule (or,
// for LoadFile, in the policy file).
type Error struct {
	// File is the policy file, "" for a rule given inline.
	File string
	// Line and Column are 1-based; 0 when unknown.
	Line, Column int
	// Msg says what is wrong.
	Msg string
	// Snippet shows the offending line of the rule with a caret, or "".
	Snippet string
	// Err is the underlying error, if any.
	Err error
}

// Error formats as "file:line:col: msg" followed by the snippet.
func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.File != "" && e.Line > 0:
		fmt.Fprintf(&b, "%s:%d:%d: ", e.File, e.Line, e.Column)
	case e.File != "":
		b.WriteString(e.File + ": ")
	case e.Line > 0:
		fmt.Fprintf(&b, "%d:%d: ", e.Line, e.Column)
	}
	b.WriteString(e.Msg)
	b.WriteString(e.Snippet)
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Policy is a compiled rule. It implements route.Router; Decide calls are
// serialised (the policy reuses one environment and one VM).
type Policy struct {
	src     string
	vars    map[string]any
	program *vm.Program
	needs   route.Needs
	usesJS  bool
	entropy bool
	locate  locator

	mu    sync.Mutex
	vm    vm.VM
	env   Env
	u     float64 // the current view's uniform draw, for rand()
	calls uint64  // rand() calls so far in the current evaluation
}

// resultKinds are the static result kinds a rule may have; Interface means
// the type is only known at run time and is checked per evaluation.
var resultKinds = map[reflect.Kind]bool{
	reflect.String: true, reflect.Bool: true, reflect.Interface: true,
	reflect.Int: true, reflect.Int8: true, reflect.Int16: true, reflect.Int32: true, reflect.Int64: true,
	reflect.Uint: true, reflect.Uint8: true, reflect.Uint16: true, reflect.Uint32: true, reflect.Uint64: true,
	reflect.Float32: true, reflect.Float64: true,
}

// Compile compiles a rule against Env with the user constants vars (bool,
// string, integer or float values; reachable as vars.<name>). Errors are
// *Error values with the rule's line:col.
func Compile(src string, vars map[string]any) (*Policy, error) {
	return compile(src, vars, nil)
}

// locator maps a 1-based line:col in the rule to the reported file, line and
// column; exact is false when the position could not be mapped (the caller
// then also quotes the position within the rule).
type locator func(line, col int) (file string, l, c int, exact bool)

func compile(src string, vars map[string]any, locate locator) (*Policy, error) {
	if locate == nil {
		locate = func(l, c int) (string, int, int, bool) { return "", l, c, true }
	}
	p := &Policy{src: src, locate: locate}
	cv, err := cleanVars(vars)
	if err != nil {
		return nil, &Error{Msg: err.Error()}
	}
	p.vars = cv
	if strings.TrimSpace(src) == "" {
		return nil, p.errorf(nil, nil, `empty rule; write an expression such as base.p1 < vars.gamma ? "base" : "aligned"`)
	}
	tree, err := parser.Parse(src)
	if err != nil {
		return nil, p.wrap(err, "syntax error")
	}
	a := analyse(tree.Node)
	if err := p.checkNames(tree, a); err != nil {
		return nil, err
	}
	if err := p.checkLiterals(tree, tree.Node); err != nil {
		return nil, err
	}
	p.needs = a.needs
	p.entropy = a.entropy || a.usesJS
	p.usesJS = a.usesJS

	prog, err := expr.Compile(src,
		expr.Env(Env{}),
		expr.Patch(varsPatcher{vars: cv}),
		expr.DisableBuiltin("now"), // the wall clock would make runs irreproducible
		expr.Function("is_punct", func(args ...any) (any, error) {
			return tokenclass.Classify(args[0].(string)) == tokenclass.Punct, nil
		}, new(func(string) bool)),
		expr.Function("is_function", func(args ...any) (any, error) {
			return tokenclass.Classify(args[0].(string)) == tokenclass.Function, nil
		}, new(func(string) bool)),
		expr.Function("rand", func(...any) (any, error) {
			return p.rand(), nil
		}, new(func() float64)),
	)
	if err != nil {
		return nil, p.wrap(err, "")
	}
	if t := prog.Node().Type(); t == nil || !resultKinds[t.Kind()] {
		return nil, p.errorf(tree, tree.Node, `the rule returns %v; it must return "base" or "aligned", a bool (true = base) or a number (weight of base in [0,1])`, t)
	}
	p.program = prog
	p.env.Vars = cv
	return p, nil
}

// Name is "rule".
func (p *Policy) Name() string { return "rule" }

// Source returns the rule's text.
func (p *Policy) Source() string { return p.src }

// Vars returns a copy of the rule's constants.
func (p *Policy) Vars() map[string]any {
	out := make(map[string]any, len(p.vars))
	for k, v := range p.vars {
		out[k] = v
	}
	return out
}

// Needs says which distributions the rule reads, from the names it uses:
// base.* needs the base model, aligned.* the aligned model, and agree, js
// and word_start both. pos, prev, base_frac, prompt_len, sample, vars and
// rand() need neither.
func (p *Policy) Needs() route.Needs { return p.needs }

// ReadsEntropy implements route.EntropyReader: true when the rule reads
// base.entropy or aligned.entropy.
func (p *Policy) ReadsEntropy() bool { return p.entropy }

// Decide evaluates the rule for every view.
func (p *Policy) Decide(ctx context.Context, views []route.View, out []route.Decision) error {
	if len(out) != len(views) {
		return fmt.Errorf("rule: %d views but %d decisions", len(views), len(out))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range views {
		w, err := p.eval(&views[i])
		if err != nil {
			return fmt.Errorf("rule: view %d (sample %d, pos %d): %w", i, views[i].Sample, views[i].Pos, err)
		}
		out[i] = route.Decision{Weight: w}
	}
	return nil
}

// Eval evaluates the rule for one view and returns the base model's weight.
func (p *Policy) Eval(v *route.View) (float64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.eval(v)
}

func (p *Policy) eval(v *route.View) (float64, error) {
	if p.needs.Base && v.Base == nil {
		return 0, errors.New("the rule reads the base model but its distribution was not computed")
	}
	if p.needs.Aligned && v.Aligned == nil {
		return 0, errors.New("the rule reads the aligned model but its distribution was not computed")
	}
	e := &p.env
	fillModel(&e.Base, v.Base, v.BaseTop)
	fillModel(&e.Aligned, v.Aligned, v.AlignedTop)
	e.Pos = v.Pos
	e.Prev = v.Prev.String()
	switch v.Prev {
	case route.Base:
		e.WordStart = v.BaseTop.WordStart
	case route.Aligned:
		e.WordStart = v.AlignedTop.WordStart
	default:
		e.WordStart = v.BaseTop.WordStart && v.AlignedTop.WordStart
	}
	e.BaseFrac = v.BaseFrac
	e.Agree = v.Base != nil && v.Aligned != nil && v.BaseTop.ID == v.AlignedTop.ID
	e.JS = 0
	if p.usesJS && v.Base != nil && v.Aligned != nil {
		e.JS = jsDivergence(v.Base, v.Aligned)
	}
	e.PromptLen = v.PromptLen
	e.Sample = v.Sample
	p.u, p.calls = v.U, 0

	res, err := p.vm.Run(p.program, e)
	if err != nil {
		return 0, p.wrap(err, "")
	}
	return p.weight(res)
}

// weight converts a rule's result to the base model's weight.
func (p *Policy) weight(res any) (float64, error) {
	var w float64
	switch r := res.(type) {
	case string:
		switch r {
		case "base":
			return 1, nil
		case "aligned":
			return 0, nil
		}
		return 0, p.errorf(nil, nil, `the rule returned %q; a string result must be "base" or "aligned"`, r)
	case bool:
		if r {
			return 1, nil
		}
		return 0, nil
	case int:
		w = float64(r)
	case int64:
		w = float64(r)
	case int32:
		w = float64(r)
	case uint:
		w = float64(r)
	case uint64:
		w = float64(r)
	case float64:
		w = r
	case float32:
		w = float64(r)
	case nil:
		return 0, p.errorf(nil, nil, `the rule returned nil (a missing vars entry?); want "base"/"aligned", a bool or a number`)
	default:
		return 0, p.errorf(nil, nil, `the rule returned %T; want "base"/"aligned", a bool or a number`, res)
	}
	if !(w >= 0 && w <= 1) {
		return 0, p.errorf(nil, nil, "the rule returned weight %v; a numeric result is the base model's weight and must be in [0, 1]", w)
	}
	return w, nil
}

// rand returns the rule's k-th uniform draw of this evaluation: the view's
// U for the first call, then values derived from U and k, so evaluations
// are reproducible and independent of the batch.
func (p *Policy) rand() float64 {
	k := p.calls
	p.calls++
	if k == 0 {
		return p.u
	}
	x := math.Float64bits(p.u) ^ (k * 0x9e3779b97f4a7c15)
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x>>11) / (1 << 53)
}

// wrap converts an expr error into *Error located in the rule.
func (p *Policy) wrap(err error, prefix string) error {
	var fe *file.Error
	if !errors.As(err, &fe) {
		return &Error{Msg: err.Error(), Err: err}
	}
	msg := fe.Message
	if prefix != "" {
		msg = prefix + ": " + msg
	}
	e := &Error{Msg: msg, Snippet: fe.Snippet, Err: err}
	if fe.Line > 0 {
		p.place(e, fe.Line, fe.Column+1)
	} else {
		e.File, _, _, _ = p.locate(0, 0)
	}
	return e
}

// errorf builds an *Error at node (or without a position when node is nil).
func (p *Policy) errorf(tree *parser.Tree, node ast.Node, format string, args ...any) error {
	e := &Error{Msg: fmt.Sprintf(format, args...)}
	if tree != nil && node != nil {
		fe := (&file.Error{Location: node.Location(), Message: e.Msg}).Bind(tree.Source)
		p.place(e, fe.Line, fe.Column+1)
		e.Snippet = fe.Snippet
	} else {
		e.File, _, _, _ = p.locate(0, 0)
	}
	return e
}

// place sets e's position from a 1-based line:col in the rule.
func (p *Policy) place(e *Error, line, col int) {
	var exact bool
	e.File, e.Line, e.Column, exact = p.locate(line, col)
	if !exact {
		e.Msg += fmt.Sprintf(" (at %d:%d within the rule)", line, col)
	}
}

// cleanVars checks and normalises the user constants: integers become int,
// floats float64.
func cleanVars(vars map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(vars))
	for k, v := range vars {
		switch x := v.(type) {
		case bool, string, int, float64:
			out[k] = x
		case int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
			i := reflect.ValueOf(x)
			if i.CanInt() {
				out[k] = int(i.Int())
			} else {
				u := i.Uint()
				if u > math.MaxInt64 {
					return nil, fmt.Errorf("vars.%s = %d is too large", k, u)
				}
				out[k] = int(u)
			}
		case float32:
			out[k] = float64(x)
		default:
			return nil, fmt.Errorf("vars.%s has type %T; vars must be bool, string, integer or float", k, v)
		}
	}
	return out, nil
}

// varsPatcher replaces vars.<name> (and vars["name"]) by the constant, so the
// checker knows its type and evaluation needs no map lookup.
type varsPatcher struct{ vars map[string]any }

// Visit implements ast.Visitor.
func (vp varsPatcher) Visit(node *ast.Node) {
	m, ok := (*node).(*ast.MemberNode)
	if !ok {
		return
	}
	id, ok := m.Node.(*ast.IdentifierNode)
	if !ok || id.Value != "vars" {
		return
	}
	name, ok := m.Property.(*ast.StringNode)
	if !ok {
		return
	}
	v, ok := vp.vars[name.Value]
	if !ok {
		return
	}
	var n ast.Node
	switch x := v.(type) {
	case bool:
		n = &ast.BoolNode{Value: x}
	case string:
		n = &ast.StringNode{Value: x}
	case int:
		n = &ast.IntegerNode{Value: x}
	case float64:
		n = &ast.FloatNode{Value: x}
	default:
		return
	}
	ast.Patch(node, n)
}

// analysis is what a walk of the rule's syntax tree found.
type analysis struct {
	needs   route.Needs
	usesJS  bool
	entropy bool // reads base.entropy or aligned.entropy
	letVars map[string]bool
	callees map[*ast.IdentifierNode]bool
	idents  []*ast.IdentifierNode
	members []*ast.MemberNode
	clock   *ast.BuiltinNode // a call of now(), if any
}

type walker struct{ a *analysis }

// Visit implements ast.Visitor.
func (w walker) Visit(node *ast.Node) {
	a := w.a
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		a.idents = append(a.idents, n)
	case *ast.MemberNode:
		a.members = append(a.members, n)
	case *ast.CallNode:
		if id, ok := n.Callee.(*ast.IdentifierNode); ok {
			a.callees[id] = true
		}
	case *ast.VariableDeclaratorNode:
		a.letVars[n.Name] = true
	case *ast.BuiltinNode:
		if n.Name == "now" {
			a.clock = n
		}
	}
}

// analyse walks the tree once and derives what the rule reads.
func analyse(root ast.Node) *analysis {
	a := &analysis{letVars: map[string]bool{}, callees: map[*ast.IdentifierNode]bool{}}
	ast.Walk(&root, walker{a})
	for _, id := range a.idents {
		if a.callees[id] || a.letVars[id.Value] {
			continue
		}
		switch id.Value {
		case "base":
			a.needs.Base = true
		case "aligned":
			a.needs.Aligned = true
		case "agree", "word_start":
			a.needs.Base, a.needs.Aligned = true, true
		case "js":
			a.needs.Base, a.needs.Aligned = true, true
			a.usesJS = true
		}
	}
	for _, m := range a.members {
		if p, ok := m.Property.(*ast.StringNode); ok && p.Value == "entropy" {
			a.entropy = true
		}
	}
	return a
}

// checkNames reports unknown identifiers, functions, model fields and vars
// with suggestions.
func (p *Policy) checkNames(tree *parser.Tree, a *analysis) error {
	if a.clock != nil {
		return p.errorf(tree, a.clock, "now() is not available: a rule must give the same decision for the same view, so it cannot read the clock")
	}
	for _, id := range a.idents {
		name := id.Value
		if a.callees[id] {
			if !contains(funcNames, name) {
				return p.errorf(tree, id, "unknown function %s()%s; functions: %s (and expr's built-ins)",
					name, suggest(name, funcNames), strings.Join(funcNames, ", "))
			}
			continue
		}
		if a.letVars[name] || contains(topLevel, name) {
			continue
		}
		valid := append(append([]string{}, topLevel...), sortedKeys(a.letVars)...)
		return p.errorf(tree, id, "unknown name %q%s; valid names: %s",
			name, suggest(name, append(valid, funcNames...)), strings.Join(valid, ", "))
	}
	for _, m := range a.members {
		id, ok := m.Node.(*ast.IdentifierNode)
		if !ok || a.letVars[id.Value] {
			continue
		}
		prop, ok := m.Property.(*ast.StringNode)
		if !ok {
			continue
		}
		switch id.Value {
		case "base", "aligned":
			if !contains(modelFields, prop.Value) {
				return p.errorf(tree, m, "unknown field %q of %s%s; fields: %s",
					prop.Value, id.Value, suggest(prop.Value, modelFields), strings.Join(modelFields, ", "))
			}
		case "vars":
			if _, ok := p.vars[prop.Value]; !ok {
				names := sortedKeys(p.vars)
				defined := "no vars are defined"
				if len(names) > 0 {
					defined = "defined: " + strings.Join(names, ", ")
				}
				return p.errorf(tree, m, "unknown variable vars.%s%s; %s", prop.Value, suggest(prop.Value, names), defined)
			}
		default:
			if contains(topLevel, id.Value) {
				return p.errorf(tree, m, "%s has no fields (only base, aligned and vars do)", id.Value)
			}
		}
	}
	return nil
}

// checkLiterals rejects literals in result position (the branches of
// conditionals, the body of let, the last expression of a sequence) that
// cannot be a decision: strings other than "base" and "aligned", numbers
// outside [0,1], and nil.
func (p *Policy) checkLiterals(tree *parser.Tree, n ast.Node) error {
	switch x := n.(type) {
	case *ast.StringNode:
		if x.Value != "base" && x.Value != "aligned" {
			return p.errorf(tree, x, `the rule can return %q; a string result must be "base" or "aligned"%s`, x.Value, suggest(x.Value, []string{"base", "aligned"}))
		}
	case *ast.IntegerNode:
		if x.Value < 0 || x.Value > 1 {
			return p.errorf(tree, x, "the rule can return %d; a numeric result is the base model's weight and must be in [0, 1]", x.Value)
		}
	case *ast.FloatNode:
		if !(x.Value >= 0 && x.Value <= 1) {
			return p.errorf(tree, x, "the rule can return %v; a numeric result is the base model's weight and must be in [0, 1]", x.Value)
		}
	case *ast.NilNode:
		return p.errorf(tree, x, `the rule can return nil; it must return "base" or "aligned", a bool or a number`)
	case *ast.ConditionalNode:
		if err := p.checkLiterals(tree, x.Exp1); err != nil {
			return err
		}
		return p.checkLiterals(tree, x.Exp2)
	case *ast.VariableDeclaratorNode:
		return p.checkLiterals(tree, x.Expr)
	case *ast.SequenceNode:
		if len(x.Nodes) > 0 {
			return p.checkLiterals(tree, x.Nodes[len(x.Nodes)-1])
		}
	case *ast.BinaryNode:
		if x.Operator == "??" {
			if err := p.checkLiterals(tree, x.Left); err != nil {
				return err
			}
			return p.checkLiterals(tree, x.Right)
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// suggest returns ` (did you mean "x"?)` for the closest candidate within an
// edit distance of max(1, len(name)/3) (at most 3), or "".
func suggest(name string, candidates []string) string {
	best, bestD := "", 1<<30
	limit := min(max(1, len([]rune(name))/3), 3)
	for _, c := range candidates {
		if d := editDistance(name, c); d < bestD || (d == bestD && c < best) {
			best, bestD = c, d
		}
	}
	if best == "" || bestD > limit {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance between a and b in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
