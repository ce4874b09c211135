// Package backend defines the contract every model backend implements, in
// process (the embedded GGUF engine) or out of process (a go-plugin binary,
// a llama.cpp server, an OpenAI-compatible server). The decoder only ever
// talks to this interface.
package backend

import (
	"context"

	"github.com/baco-go/baco/core/dist"
)

// SeqID names one sequence (one KV cache) inside a backend.
type SeqID uint64

// Info describes a loaded model.
type Info struct {
	// Name is a human-readable model name (file name or served model id).
	Name string
	// Arch is the architecture, e.g. "llama", "qwen2".
	Arch string
	// VocabSize is the number of token ids.
	VocabSize int
	// Fingerprint is a hash of every token piece in id order; two models with
	// the same fingerprint share a vocabulary.
	Fingerprint string
	// BOS is the beginning-of-sequence id, or -1.
	BOS int32
	// EOS is the end-of-sequence id, or -1.
	EOS int32
	// StopIDs are every id that ends generation for this model (EOS, EOT, ...).
	StopIDs []int32
	// AddBOS tells whether Tokenize(text, addSpecial=true) prepends BOS.
	AddBOS bool
	// ContextLen is the largest number of tokens one sequence may hold.
	ContextLen int
	// ChatTemplate is the model's chat template source, or "".
	ChatTemplate string
	// Tokenizer is the vocabulary style: "spm" (SentencePiece, ▁ for
	// spaces), "bpe" (byte-level BPE, Ġ for spaces) or "" when unknown.
	Tokenizer string
	// ControlIDs are the ids of control tokens (BOS, EOS, chat markers).
	ControlIDs []int32
	// TextIDs are the ids of user-defined tokens whose piece is stored as
	// plain text rather than in the vocabulary's encoding (GGUF token type 4).
	TextIDs []int32
	// Caps are the backend's capabilities.
	Caps Caps
}

// Caps are what a backend can do.
type Caps struct {
	// FullDist is true when Step returns the full vocabulary distribution
	// (Dist.Full set) and the exact entropy.
	FullDist bool
	// MaxTopK is the largest top-k the backend can return (0: unlimited).
	MaxTopK int
	// MaxBatch is the most sequences one Step call may carry (0: unlimited).
	MaxBatch int
	// TokenPrompts is true when prompts are passed as token ids (no
	// re-tokenisation drift).
	TokenPrompts bool
	// AllPositions is true when Step can return a distribution for every
	// appended position (needed for speculative verification).
	AllPositions bool
}

// StepInput asks a backend to append tokens to one sequence and return the
// next-token distribution(s).
type StepInput struct {
	// Seq is the sequence to extend.
	Seq SeqID
	// Tokens are appended in order. May be empty only when the sequence
	// already holds tokens, to re-read the last distribution.
	Tokens []int32
	// TopK is how many candidates Dist.Top should hold (0: backend default).
	TopK int
	// AllPositions asks for one Dist per appended token instead of only the
	// one after the last token.
	AllPositions bool
}

// StepOutput is the result for one StepInput.
type StepOutput struct {
	// Dists holds the distribution after the last appended token, or, with
	// AllPositions, one per appended token in order.
	Dists []dist.Dist
}

// Backend is one loaded model. Implementations must be safe for concurrent
// use by one decoder: calls for different sequences may overlap.
type Backend interface {
	// Info describes the model.
	Info(ctx context.Context) (Info, error)
	// Tokenize turns text into ids; addSpecial adds BOS/EOS as the model's
	// metadata says, parseSpecial recognises control-token text like "<s>".
	Tokenize(ctx context.Context, text string, addSpecial, parseSpecial bool) ([]int32, error)
	// Detokenize turns ids back into text.
	Detokenize(ctx context.Context, ids []int32) (string, error)
	// Pieces returns the vocabulary piece of each id (raw, e.g. "▁the" or "Ġthe").
	Pieces(ctx context.Context, ids []int32) ([]string, error)
	// Open creates an empty sequence.
	Open(ctx context.Context) (SeqID, error)
	// Step extends a batch of sequences in one call; outputs are in input order.
	Step(ctx context.Context, in []StepInput) ([]StepOutput, error)
	// Fork copies a sequence (its cache included) into a new one.
	Fork(ctx context.Context, seq SeqID) (SeqID, error)
	// Truncate drops every token of seq from position n on.
	Truncate(ctx context.Context, seq SeqID, n int) error
	// Free releases a sequence.
	Free(ctx context.Context, seq SeqID) error
	// Close releases the model.
	Close() error
}
