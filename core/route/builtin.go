package route

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/baco-go/baco/core/tokenclass"
)

// kind is the rule of a built-in router.
type kind uint8

const (
	kindBase kind = iota
	kindAligned
	kindRand
	kindP
	kindH
	kindPunc
	kindFC
	kindPPunc
	kindHPunc
	kindPFC
	kindHFC
	kindNudging
)

// Info describes one built-in router for help texts, sweeps and Parse.
type Info struct {
	// Name is the router's name as Parse accepts it, e.g. "p-punc".
	Name string
	// Gamma is true when the router takes the parameter γ ("name:γ").
	Gamma bool
	// Min and Max bound γ (Max is +Inf for an unbounded range).
	Min, Max float64
	// Unit says what γ measures: "probability" or "nats" ("" without γ).
	Unit string
	// Needs is what the router's Decide reads.
	Needs Needs
	// Rule is a one-line statement of the rule.
	Rule string

	kind kind
}

var (
	needNone = Needs{}
	needBase = Needs{Base: true}
)

// builtins lists every built-in router, in the order Names returns them.
var builtins = [...]Info{
	{Name: "base", Needs: needNone, Rule: "always the base model", kind: kindBase},
	{Name: "aligned", Needs: needNone, Rule: "always the aligned model", kind: kindAligned},
	{Name: "rand", Gamma: true, Min: 0, Max: 1, Unit: "probability", Needs: needNone,
		Rule: "base with probability γ (base iff the step's uniform draw U < γ)", kind: kindRand},
	{Name: "p", Gamma: true, Min: 0, Max: 1, Unit: "probability", Needs: needBase,
		Rule: "base iff the base model's top-1 probability < γ, else aligned", kind: kindP},
	{Name: "h", Gamma: true, Min: 0, Max: math.Inf(1), Unit: "nats", Needs: needBase,
		Rule: "base iff the base model's next-token entropy > γ nats, else aligned", kind: kindH},
	{Name: "punc", Needs: needBase,
		Rule: "aligned iff the base model's top-1 token is punctuation, whitespace/newline or a control token, else base", kind: kindPunc},
	{Name: "fc", Needs: needBase,
		Rule: "aligned iff the base model's top-1 token is a function word, else base", kind: kindFC},
	{Name: "p-punc", Gamma: true, Min: 0, Max: 1, Unit: "probability", Needs: needBase,
		Rule: "punc first (punctuation → aligned), otherwise p", kind: kindPPunc},
	{Name: "h-punc", Gamma: true, Min: 0, Max: math.Inf(1), Unit: "nats", Needs: needBase,
		Rule: "punc first (punctuation → aligned), otherwise h", kind: kindHPunc},
	{Name: "p-fc", Gamma: true, Min: 0, Max: 1, Unit: "probability", Needs: needBase,
		Rule: "fc first (function word → aligned), otherwise p", kind: kindPFC},
	{Name: "h-fc", Gamma: true, Min: 0, Max: math.Inf(1), Unit: "nats", Needs: needBase,
		Rule: "fc first (function word → aligned), otherwise h", kind: kindHFC},
	{Name: "nudging", Gamma: true, Min: 0, Max: 1, Unit: "probability", Needs: needBase,
		Rule: "Nudging (Fei et al. 2025): base iff the base model's top-1 probability ≥ γ, else aligned; with word boundaries the base model takes over at the next word where it is confident and writes until it is not", kind: kindNudging},
}

// Names returns the names of the built-in routers.
func Names() []string {
	out := make([]string, len(builtins))
	for i := range builtins {
		out[i] = builtins[i].Name
	}
	return out
}

// Lookup returns the description of the built-in router called name.
func Lookup(name string) (Info, bool) {
	for _, b := range builtins {
		if b.Name == name {
			return b, true
		}
	}
	return Info{}, false
}

// Parse builds a built-in router from a spec "name" or "name:γ", e.g. "base",
// "rand:0.3", "p-punc:0.5", "h:2.0". γ is a probability in [0,1] for rand, p,
// the p-* routers and nudging, and a finite entropy in nats ≥ 0 for h and the h-*
// routers. Errors list the valid names, name the allowed range, or give an
// example where γ is missing.
func Parse(spec string) (Router, error) {
	s := strings.TrimSpace(spec)
	name, arg, hasArg := strings.Cut(s, ":")
	name = strings.ToLower(strings.TrimSpace(name))
	info, ok := Lookup(name)
	if !ok {
		return nil, fmt.Errorf("router %q: unknown name %q; valid routers: %s", spec, name, strings.Join(Names(), ", "))
	}
	if !info.Gamma {
		if hasArg {
			return nil, fmt.Errorf("router %q: %s takes no parameter; write %q", spec, name, name)
		}
		return newBuiltin(info, 0), nil
	}
	if !hasArg || strings.TrimSpace(arg) == "" {
		return nil, fmt.Errorf("router %q: %s needs γ (%s), e.g. %q", spec, name, rangeText(info), name+":"+exampleGamma(info))
	}
	g, err := strconv.ParseFloat(strings.TrimSpace(arg), 64)
	if err != nil {
		return nil, fmt.Errorf("router %q: γ %q is not a number; %s needs γ %s, e.g. %q", spec, arg, name, rangeText(info), name+":"+exampleGamma(info))
	}
	return New(name, g)
}

// New builds the built-in router called name with parameter gamma (ignored by
// routers without γ). It fails for an unknown name or γ outside its range.
func New(name string, gamma float64) (Router, error) {
	info, ok := Lookup(name)
	if !ok {
		return nil, fmt.Errorf("router: unknown name %q; valid routers: %s", name, strings.Join(Names(), ", "))
	}
	if !info.Gamma {
		return newBuiltin(info, 0), nil
	}
	if math.IsNaN(gamma) || math.IsInf(gamma, 0) || gamma < info.Min || gamma > info.Max {
		return nil, fmt.Errorf("router %s: γ = %v out of range: want %s", name, gamma, rangeText(info))
	}
	return newBuiltin(info, gamma), nil
}

func rangeText(info Info) string {
	if math.IsInf(info.Max, 1) {
		return fmt.Sprintf("a finite %s value in [%g, +inf)", info.Unit, info.Min)
	}
	return fmt.Sprintf("a %s in [%g, %g]", info.Unit, info.Min, info.Max)
}

func exampleGamma(info Info) string {
	if info.Unit == "nats" {
		return "2.0"
	}
	return "0.5"
}

// builtin is the Router of every built-in rule.
type builtin struct {
	kind  kind
	gamma float64
	name  string
	needs Needs
}

func newBuiltin(info Info, gamma float64) *builtin {
	name := info.Name
	if info.Gamma {
		name += ":" + strconv.FormatFloat(gamma, 'g', -1, 64)
	}
	return &builtin{kind: info.kind, gamma: gamma, name: name, needs: info.Needs}
}

// Name returns the spec that Parse turns back into this router.
func (b *builtin) Name() string { return b.name }

// Needs returns what Decide reads: nothing for base, aligned and rand, the
// base distribution for every other built-in.
func (b *builtin) Needs() Needs { return b.needs }

// ReadsEntropy implements EntropyReader: the h-family routers read it.
func (b *builtin) ReadsEntropy() bool {
	return b.kind == kindH || b.kind == kindHPunc || b.kind == kindHFC
}

// Decide applies the rule to every view.
func (b *builtin) Decide(_ context.Context, views []View, out []Decision) error {
	if len(out) != len(views) {
		return fmt.Errorf("router %s: %d views but %d decisions", b.name, len(views), len(out))
	}
	for i := range views {
		w, err := b.decide(&views[i])
		if err != nil {
			return fmt.Errorf("router %s: view %d (sample %d, pos %d): %w", b.name, i, views[i].Sample, views[i].Pos, err)
		}
		out[i] = Decision{Weight: w}
	}
	return nil
}

// weights of the two hard decisions.
const (
	toBase    = 1.0
	toAligned = 0.0
)

func (b *builtin) decide(v *View) (float64, error) {
	switch b.kind {
	case kindBase:
		return toBase, nil
	case kindAligned:
		return toAligned, nil
	case kindRand:
		if v.U < b.gamma {
			return toBase, nil
		}
		return toAligned, nil
	}
	// Every other rule reads the base model.
	if v.Base == nil {
		return 0, errMissingBase
	}
	switch b.kind {
	case kindP:
		return pRule(v, b.gamma), nil
	case kindH:
		return hRule(v, b.gamma), nil
	case kindPunc:
		if isPuncClass(v.BaseTop.Class) {
			return toAligned, nil
		}
		return toBase, nil
	case kindFC:
		if v.BaseTop.Class == tokenclass.Function {
			return toAligned, nil
		}
		return toBase, nil
	case kindPPunc:
		if isPuncClass(v.BaseTop.Class) {
			return toAligned, nil
		}
		return pRule(v, b.gamma), nil
	case kindHPunc:
		if isPuncClass(v.BaseTop.Class) {
			return toAligned, nil
		}
		return hRule(v, b.gamma), nil
	case kindPFC:
		if v.BaseTop.Class == tokenclass.Function {
			return toAligned, nil
		}
		return pRule(v, b.gamma), nil
	case kindHFC:
		if v.BaseTop.Class == tokenclass.Function {
			return toAligned, nil
		}
		return hRule(v, b.gamma), nil
	case kindNudging:
		return nudgingRule(v, b.gamma), nil
	}
	return 0, fmt.Errorf("unknown rule %d", b.kind)
}

// errMissingBase is returned when a router that needs the base distribution
// is given a view without it (a decoder bug, not a user error).
var errMissingBase = errors.New("base distribution not computed although the router needs it")

// pRule: base iff p1 < γ; exactly γ goes to aligned.
func pRule(v *View, gamma float64) float64 {
	if v.Base.P1() < gamma {
		return toBase
	}
	return toAligned
}

// hRule: base iff entropy > γ; exactly γ goes to aligned.
func hRule(v *View, gamma float64) float64 {
	if v.Base.Entropy > gamma {
		return toBase
	}
	return toAligned
}

// isPuncClass is the punc rule's notion of a formatting token: punctuation
// and symbols, whitespace/newlines, and control tokens (so the aligned model
// decides where a response ends and how it is laid out).
func isPuncClass(c tokenclass.Class) bool {
	return c == tokenclass.Punct || c == tokenclass.Space || c == tokenclass.Special
}
