package policy

import (
	"math"

	"github.com/baco-go/baco/core/dist"
	"github.com/baco-go/baco/core/route"
)

// Model is what a rule sees of one model at one step (base.* and aligned.*).
type Model struct {
	// P1 is the probability of the model's most likely next token.
	P1 float64 `expr:"p1"`
	// Entropy is the next-token entropy in nats.
	Entropy float64 `expr:"entropy"`
	// Margin is the top-1 probability minus the top-2 probability.
	Margin float64 `expr:"margin"`
	// Top is the decoded text of the most likely next token.
	Top string `expr:"top"`
	// Class is the top-1 token's class: "content", "function", "punct",
	// "number", "space" or "special".
	Class string `expr:"class"`
	// WordStart is true when the top-1 token starts a new word.
	WordStart bool `expr:"word_start"`
	// ID is the top-1 token id (-1 when the distribution was not computed).
	ID int `expr:"id"`
}

// Env is the typed environment a rule is compiled against and evaluated in.
// Field tags give the names rules use.
type Env struct {
	// Base is the base model's view.
	Base Model `expr:"base"`
	// Aligned is the aligned model's view.
	Aligned Model `expr:"aligned"`
	// Pos is the index of the token being generated (0 for the first).
	Pos int `expr:"pos"`
	// WordStart tells whether the next token starts a word, judged from the
	// top-1 candidate of the model that wrote the previous token (the aligned
	// model at pos 0); after a mixed token, both top-1 candidates must start
	// a word.
	WordStart bool `expr:"word_start"`
	// Prev is the source of the previous token: "base", "aligned" or
	// "mixed" ("aligned" at pos 0).
	Prev string `expr:"prev"`
	// BaseFrac is the share of the tokens so far that came from base.
	BaseFrac float64 `expr:"base_frac"`
	// Agree is true when both models' top-1 tokens are the same id.
	Agree bool `expr:"agree"`
	// JS is the Jensen–Shannon divergence between the two next-token
	// distributions in nats (see jsDivergence).
	JS float64 `expr:"js"`
	// PromptLen is the number of prompt tokens of the aligned model.
	PromptLen int `expr:"prompt_len"`
	// Sample is the sample index of the sequence within its request.
	Sample int `expr:"sample"`
	// Vars holds the user constants (vars.<name>).
	Vars map[string]any `expr:"vars"`
}

// modelFields are the field names of Model as rules spell them.
var modelFields = []string{"p1", "entropy", "margin", "top", "class", "word_start", "id"}

// topLevel are the environment's top-level names as rules spell them.
var topLevel = []string{"base", "aligned", "pos", "word_start", "prev", "base_frac", "agree", "js", "prompt_len", "sample", "vars"}

// funcNames are the functions baco adds.
var funcNames = []string{"is_punct", "is_function", "rand"}

// fillModel copies one model's signals into m.
func fillModel(m *Model, d *dist.Dist, top route.Top) {
	if d == nil {
		*m = Model{ID: -1}
		return
	}
	m.P1 = d.P1()
	m.Entropy = d.Entropy
	m.Margin = d.Margin()
	m.Top = top.Piece
	m.Class = top.Class.String()
	m.WordStart = top.WordStart
	m.ID = int(top.ID)
}

// jsDivergence is the Jensen–Shannon divergence in nats between two
// next-token distributions, computed over the union of both Top lists plus
// one "everything else" outcome holding each model's remaining mass. A
// probability missing from one model's Top is read from its Full
// distribution when present, else counted in its remainder. Merging the
// remainder into one outcome can only lower the divergence, so the value is
// a lower bound of the full-vocabulary JS, exact when the lists cover both
// supports; it lies in [0, ln 2]. It costs O(k²) for lists of k candidates.
func jsDivergence(a, b *dist.Dist) float64 {
	var js, sa, sb float64
	term := func(p, q float64) float64 {
		m := (p + q) / 2
		var t float64
		if p > 0 {
			t += p * math.Log(p/m)
		}
		if q > 0 {
			t += q * math.Log(q/m)
		}
		return t / 2
	}
	prob := func(d *dist.Dist, id int32) float64 {
		if lp, ok := d.LogProbOf(id); ok {
			return math.Exp(float64(lp))
		}
		return 0
	}
	for _, c := range a.Top {
		p := math.Exp(float64(c.LogProb))
		q := prob(b, c.ID)
		sa += p
		sb += q
		js += term(p, q)
	}
	for _, c := range b.Top {
		if inTop(a, c.ID) {
			continue
		}
		q := math.Exp(float64(c.LogProb))
		p := prob(a, c.ID)
		sa += p
		sb += q
		js += term(p, q)
	}
	js += term(math.Max(0, 1-sa), math.Max(0, 1-sb))
	return math.Max(0, js)
}

func inTop(d *dist.Dist, id int32) bool {
	for _, c := range d.Top {
		if c.ID == id {
			return true
		}
	}
	return false
}
