package remote

import (
	"context"
	"fmt"

	"github.com/baco-go/baco/core/backend"
)

// SeqOps implements the Backend methods that only touch the client-side
// sequences — Open, Fork, Truncate, Free: no request is sent. A remote
// backend embeds it; errors are prefixed with Name.
type SeqOps struct {
	// Name prefixes errors ("llamacpp", "openai").
	Name string
	// Seqs holds the sequences.
	Seqs *Seqs
}

// Open creates an empty sequence (no request).
func (o SeqOps) Open(context.Context) (backend.SeqID, error) {
	id, err := o.Seqs.Open()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", o.Name, err)
	}
	return id, nil
}

// Fork copies a sequence's tokens (no request; a server that caches
// prompts finds the common prefix itself).
func (o SeqOps) Fork(_ context.Context, seq backend.SeqID) (backend.SeqID, error) {
	id, err := o.Seqs.Fork(seq)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", o.Name, err)
	}
	return id, nil
}

// Truncate drops every token of seq from position n on (no request).
func (o SeqOps) Truncate(_ context.Context, seq backend.SeqID, n int) error {
	if err := o.Seqs.Truncate(seq, n); err != nil {
		return fmt.Errorf("%s: %w", o.Name, err)
	}
	return nil
}

// Free releases a sequence (no request).
func (o SeqOps) Free(_ context.Context, seq backend.SeqID) error {
	if err := o.Seqs.Free(seq); err != nil {
		return fmt.Errorf("%s: %w", o.Name, err)
	}
	return nil
}
