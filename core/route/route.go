// Package route defines the Router contract and the built-in routers of the
// BACo paper: at every step a router looks at the base and aligned models'
// next-token distributions and decides which model emits the next token.
package route

import (
	"context"

	"github.com/baco-go/baco/core/dist"
	"github.com/baco-go/baco/core/tokenclass"
)

// Source is the model a token came from.
type Source uint8

const (
	// Aligned is the aligned (instruction-tuned) model.
	Aligned Source = iota
	// Base is the base (pre-trained) model.
	Base
	// Mixed marks a token drawn from a soft mixture of both models.
	Mixed
)

// String returns "aligned", "base" or "mixed".
func (s Source) String() string {
	switch s {
	case Base:
		return "base"
	case Aligned:
		return "aligned"
	case Mixed:
		return "mixed"
	}
	return "unknown"
}

// Needs says which distributions a router reads at every step. A model that
// is not needed by the router (nor by the sampler) is not run that step.
type Needs struct {
	// Base is true when Decide reads View.Base.
	Base bool
	// Aligned is true when Decide reads View.Aligned.
	Aligned bool
}

// Top describes the most likely next token of one model.
type Top struct {
	// ID is the token id (-1 when the distribution was not computed).
	ID int32
	// Piece is the decoded text of the token.
	Piece string
	// Class is the token's class.
	Class tokenclass.Class
	// WordStart is true when the token starts a new word.
	WordStart bool
}

// View is everything a router may read about one sequence at one step.
type View struct {
	// Sample is the sample index of the sequence within its request.
	Sample int
	// Pos is the index of the token being generated (0 for the first).
	Pos int
	// PromptLen is the number of prompt tokens of the aligned model.
	PromptLen int
	// Base is the base model's distribution, nil when not computed.
	Base *dist.Dist
	// Aligned is the aligned model's distribution, nil when not computed.
	Aligned *dist.Dist
	// BaseTop is the base model's top-1 candidate (ID -1 when Base is nil).
	BaseTop Top
	// AlignedTop is the aligned model's top-1 candidate (ID -1 when Aligned is nil).
	AlignedTop Top
	// Prev is the source of the previous token (Aligned at Pos 0).
	Prev Source
	// BaseFrac is the share of the tokens so far that came from base (0 at Pos 0).
	BaseFrac float64
	// U is a uniform draw in [0,1) from the sequence's seeded router stream,
	// drawn every step whatever the router, so runs are reproducible.
	U float64
}

// Decision is a router's answer for one sequence at one step.
type Decision struct {
	// Weight is the weight of the base model: 1 emits from base, 0 from
	// aligned, anything between samples from the mixture
	// Weight·P_base + (1−Weight)·P_aligned.
	Weight float64
}

// Source returns the hard source of the decision, or Mixed for 0<w<1.
func (d Decision) Source() Source {
	switch {
	case d.Weight >= 1:
		return Base
	case d.Weight <= 0:
		return Aligned
	}
	return Mixed
}

// Router decides, for a batch of sequences at one step, which model emits.
type Router interface {
	// Name identifies the router (with its parameters), e.g. "p-punc:0.5".
	Name() string
	// Needs says which distributions Decide reads.
	Needs() Needs
	// Decide fills out[i] for views[i]; len(out) == len(views).
	Decide(ctx context.Context, views []View, out []Decision) error
}

// EntropyReader is implemented by routers whose decisions read next-token
// entropy. Backends that return only top-k candidates estimate entropy
// (dist.Dist.EntropyEstimated), so a pipeline warns about, or in strict
// mode refuses, such a router over them.
type EntropyReader interface {
	// ReadsEntropy reports whether the router reads entropy.
	ReadsEntropy() bool
}
