// Package decode is the BACo decode loop: it owns the sequences of a
// generation, steps the base and aligned backends (concurrently, and only
// when their distribution is needed), asks the router which model emits each
// token, samples it, appends it to both models' contexts, applies stop rules
// and emits a per-token trace. It never knows whether a backend or router
// runs in process or behind a plugin.
package decode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/core/dist"
	"github.com/baco-go/baco/core/route"
	"github.com/baco-go/baco/core/sample"
	"github.com/baco-go/baco/core/tokenclass"
)

// Boundary is the policy that decides where a switch of model may happen.
type Boundary uint8

const (
	// BoundaryWord lets a switch of model take effect only where a word
	// starts: while the previous model's most likely next token continues
	// the current word, that model keeps emitting (the paper's rule).
	BoundaryWord Boundary = iota
	// BoundaryToken lets the router switch at every token.
	BoundaryToken
)

// String returns "word" or "token".
func (b Boundary) String() string {
	if b == BoundaryToken {
		return "token"
	}
	return "word"
}

// ParseBoundary parses "word" or "token".
func ParseBoundary(s string) (Boundary, error) {
	switch s {
	case "word", "":
		return BoundaryWord, nil
	case "token":
		return BoundaryToken, nil
	}
	return 0, fmt.Errorf("boundary %q: want \"word\" or \"token\"", s)
}

// Config is what a Decoder is built from.
type Config struct {
	// Base is the base (diverse) model.
	Base backend.Backend
	// Aligned is the aligned (high-quality) model.
	Aligned backend.Backend
	// Router decides which model emits each token.
	Router route.Router
	// Boundary is the switch policy (default BoundaryWord).
	Boundary Boundary
	// TopK is how many candidates each backend returns per step (0: 40).
	// Backends that return full distributions sample from all of them anyway.
	TopK int
	// Logger receives debug logs (nil: slog.Default()).
	Logger *slog.Logger
}

// Decoder runs BACo generations over one base/aligned pair. It is safe for
// concurrent use: each Generate call owns its own sequences.
type Decoder struct {
	cfg     Config
	base    backend.Info
	aligned backend.Info
	table   *tokenclass.Table
	log     *slog.Logger
}

// VocabMismatchError reports that the two models do not share a vocabulary.
type VocabMismatchError struct {
	// Base and Aligned name the two models.
	Base, Aligned string
	// BaseSize and AlignedSize are the vocabulary sizes.
	BaseSize, AlignedSize int
	// ID is the first id whose pieces differ (-1 when only the sizes differ).
	ID int
	// BasePiece and AlignedPiece are the pieces at ID.
	BasePiece, AlignedPiece string
}

// Error describes the mismatch with both model names and the first
// differing token.
func (e *VocabMismatchError) Error() string {
	if e.ID < 0 {
		return fmt.Sprintf("base model %q and aligned model %q do not share a vocabulary: sizes %d and %d",
			e.Base, e.Aligned, e.BaseSize, e.AlignedSize)
	}
	return fmt.Sprintf("base model %q and aligned model %q do not share a vocabulary: token %d is %q in base and %q in aligned (sizes %d and %d)",
		e.Base, e.Aligned, e.ID, e.BasePiece, e.AlignedPiece, e.BaseSize, e.AlignedSize)
}

// New checks that the two models share a vocabulary and builds the token
// class table the routers read.
func New(ctx context.Context, cfg Config) (*Decoder, error) {
	if cfg.Base == nil || cfg.Aligned == nil {
		return nil, errors.New("decode: both a base and an aligned backend are required")
	}
	if cfg.Router == nil {
		return nil, errors.New("decode: a router is required")
	}
	if cfg.TopK <= 0 {
		cfg.TopK = 40
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	bi, err := cfg.Base.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("decode: base model info: %w", err)
	}
	ai, err := cfg.Aligned.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("decode: aligned model info: %w", err)
	}
	ids := make([]int32, bi.VocabSize)
	for i := range ids {
		ids[i] = int32(i)
	}
	basePieces, err := cfg.Base.Pieces(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("decode: base model pieces: %w", err)
	}
	if err := checkVocab(ctx, bi, ai, basePieces, cfg.Aligned); err != nil {
		return nil, err
	}
	kinds := make([]tokenclass.Kind, bi.VocabSize)
	for _, id := range bi.TextIDs {
		if id >= 0 && int(id) < len(kinds) {
			kinds[id] = tokenclass.KindText
		}
	}
	for _, id := range bi.ControlIDs {
		if id >= 0 && int(id) < len(kinds) {
			kinds[id] = tokenclass.KindSpecial
		}
	}
	style := tokenclass.StyleAuto
	switch bi.Tokenizer {
	case "spm":
		style = tokenclass.StyleSPM
	case "bpe":
		style = tokenclass.StyleBPE
	}
	return &Decoder{
		cfg:     cfg,
		base:    bi,
		aligned: ai,
		table:   tokenclass.NewTableKinds(basePieces, kinds, style),
		log:     log,
	}, nil
}

// checkVocab compares fingerprints and, on a mismatch, finds the first
// differing piece so the error can name it.
func checkVocab(ctx context.Context, bi, ai backend.Info, basePieces []string, aligned backend.Backend) error {
	if bi.VocabSize == ai.VocabSize && bi.Fingerprint != "" && bi.Fingerprint == ai.Fingerprint {
		return nil
	}
	n := min(bi.VocabSize, ai.VocabSize)
	ids := make([]int32, ai.VocabSize)
	for i := range ids {
		ids[i] = int32(i)
	}
	alignedPieces, err := aligned.Pieces(ctx, ids)
	if err != nil {
		return fmt.Errorf("decode: aligned model pieces: %w", err)
	}
	mm := &VocabMismatchError{Base: bi.Name, Aligned: ai.Name, BaseSize: bi.VocabSize, AlignedSize: ai.VocabSize, ID: -1}
	for i := 0; i < n && i < len(basePieces) && i < len(alignedPieces); i++ {
		if basePieces[i] != alignedPieces[i] {
			mm.ID, mm.BasePiece, mm.AlignedPiece = i, basePieces[i], alignedPieces[i]
			return mm
		}
	}
	if bi.VocabSize != ai.VocabSize {
		return mm
	}
	// Same pieces but different (or missing) fingerprints: the backends
	// hash differently; the pieces are what matters.
	return nil
}

// BaseInfo describes the base model.
func (d *Decoder) BaseInfo() backend.Info { return d.base }

// AlignedInfo describes the aligned model.
func (d *Decoder) AlignedInfo() backend.Info { return d.aligned }

// Table is the token class table of the shared vocabulary.
func (d *Decoder) Table() *tokenclass.Table { return d.table }

// Router is the decoder's router.
func (d *Decoder) Router() route.Router { return d.cfg.Router }

// Request is one generation: a prompt per model, n samples sharing it.
type Request struct {
	// BasePrompt is the base model's prompt tokens (BOS included if wanted).
	BasePrompt []int32
	// AlignedPrompt is the aligned model's prompt tokens.
	AlignedPrompt []int32
	// N is the number of samples (default 1).
	N int
	// Seed makes sampling and routing reproducible.
	Seed uint64
	// MaxTokens bounds each sample's length (0: until a stop or the context is full).
	MaxTokens int
	// Stop strings end a sample when its text contains one; the stop string
	// is not part of the returned text.
	Stop []string
	// BaseSampling and AlignedSampling are each model's sampling parameters.
	// The zero value is greedy decoding (TopP 0 is read as 1, no top-p).
	BaseSampling, AlignedSampling sample.Params
	// Router overrides the decoder's router for this request when not nil.
	Router route.Router
	// TopLogprobs is how many most likely alternatives each Event records
	// in Top (0: none). Event.LogProb is recorded whatever its value.
	TopLogprobs int
	// OnToken, when set, is called for every emitted token, in order, from
	// the goroutine running Generate.
	OnToken func(Event)
}

// Signal is what the trace records of one model's distribution at a step.
type Signal struct {
	// P1 is the top-1 probability.
	P1 float64 `json:"p1"`
	// Entropy is the entropy in nats.
	Entropy float64 `json:"entropy"`
	// Estimated is true when Entropy was estimated from top-k.
	Estimated bool `json:"estimated,omitempty"`
	// Top is the most likely token id.
	Top int32 `json:"top"`
}

// Event is the trace of one emitted token.
type Event struct {
	// Sample is the sample index.
	Sample int `json:"sample"`
	// Pos is the token's index in the sample's output.
	Pos int `json:"pos"`
	// ID is the token id.
	ID int32 `json:"id"`
	// Text is the token's text.
	Text string `json:"text"`
	// Source is the model that emitted it ("base", "aligned" or "mixed").
	Source route.Source `json:"-"`
	// Weight is the router's base weight (after word-boundary gating).
	Weight float64 `json:"weight"`
	// Gated is true when word-boundary gating kept the previous model.
	Gated bool `json:"gated,omitempty"`
	// Special is true for control tokens (EOS, chat markers).
	Special bool `json:"special,omitempty"`
	// LogProb is the token's log-probability under the distribution it was
	// drawn from (before temperature and truncation): the emitting model's,
	// or the mixture's. A token outside a top-k distribution gets
	// FloorLogProb.
	LogProb float64 `json:"logprob"`
	// Top are the Request.TopLogprobs most likely tokens of that same
	// distribution (nil when not asked for).
	Top []dist.Candidate `json:"top_logprobs,omitempty"`
	// Base and Aligned are the signals of the models run at this step (nil
	// for a model that was not run).
	Base    *Signal `json:"base,omitempty"`
	Aligned *Signal `json:"aligned,omitempty"`
}

// Finish reasons of a sample.
const (
	FinishStop   = "stop"   // EOS/EOT of the emitting model or a stop string
	FinishLength = "length" // max tokens or the context length
)

// Sample is one finished sample.
type Sample struct {
	// Index is the sample index.
	Index int
	// Text is the generated text (stop string excluded).
	Text string
	// IDs are the generated token ids (the stop token excluded).
	IDs []int32
	// Trace is one event per generated token (stop token included).
	Trace []Event
	// Finish is FinishStop or FinishLength.
	Finish string
	// BaseTokens counts tokens emitted by the base model.
	BaseTokens int
	// Steps counts the Step calls each model received for this sample.
	BaseSteps, AlignedSteps int
}

// BaseShare is the share of emitted tokens that came from base.
func (s *Sample) BaseShare() float64 {
	if len(s.Trace) == 0 {
		return 0
	}
	return float64(s.BaseTokens) / float64(len(s.Trace))
}

// Result is the outcome of a generation.
type Result struct {
	// Samples are in index order.
	Samples []Sample
	// PromptTokens are the prompt lengths of base and aligned.
	BasePromptTokens, AlignedPromptTokens int
}
