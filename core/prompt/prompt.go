// Package prompt turns a user's text or chat messages into each model's
// prompt tokens: the aligned model usually gets its chat template, the base
// model plain text (DESIGN §1).
package prompt

import (
	"context"
	"fmt"
	"strings"

	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/core/chat"
)

// Mode says how a model's prompt is built.
type Mode uint8

const (
	// Raw tokenizes the text as it is (with BOS when the model adds it).
	Raw Mode = iota
	// Chat renders the messages with the model's chat template.
	Chat
	// Auto is Chat when the model has a chat template (or one is forced
	// with Spec.Template), Raw otherwise.
	Auto
)

// Spec describes one model's prompt.
type Spec struct {
	// Mode is Raw or Chat.
	Mode Mode
	// Template forces a chat template family (e.g. "chatml") instead of the
	// model's own template; "" uses the model's.
	Template string
}

// Input is what the user asked.
type Input struct {
	// Messages is a chat conversation (used by Chat; for Raw, the contents
	// are joined with blank lines).
	Messages []chat.Message
}

// Text returns the Input of a single user message.
func Text(s string) Input { return Input{Messages: []chat.Message{{Role: "user", Content: s}}} }

// Build tokenizes in for one model according to spec.
func Build(ctx context.Context, be backend.Backend, info backend.Info, spec Spec, in Input) ([]int32, error) {
	if len(in.Messages) == 0 {
		return nil, fmt.Errorf("prompt: no messages")
	}
	mode := spec.Mode
	if mode == Auto {
		mode = Raw
		if info.ChatTemplate != "" || spec.Template != "" {
			mode = Chat
		}
	}
	switch mode {
	case Raw:
		parts := make([]string, 0, len(in.Messages))
		for _, m := range in.Messages {
			parts = append(parts, m.Content)
		}
		ids, err := be.Tokenize(ctx, strings.Join(parts, "\n\n"), true, false)
		if err != nil {
			return nil, fmt.Errorf("prompt: tokenize for %q: %w", info.Name, err)
		}
		return ids, nil
	case Chat:
		var (
			t   *chat.Template
			err error
		)
		if spec.Template != "" {
			t, err = chat.FamilyByName(spec.Template)
		} else {
			if info.ChatTemplate == "" {
				return nil, fmt.Errorf("prompt: model %q has no chat template; use --raw for a plain prompt or --chat-template FAMILY (one of %s)",
					info.Name, strings.Join(chat.Families(), ", "))
			}
			t, err = chat.Parse(info.ChatTemplate)
		}
		if err != nil {
			return nil, fmt.Errorf("prompt: model %q: %w", info.Name, err)
		}
		bos, eos, err := specialText(ctx, be, info)
		if err != nil {
			return nil, err
		}
		text, err := t.Render(in.Messages, true, bos, eos)
		if err != nil {
			return nil, fmt.Errorf("prompt: render the %s chat template of %q: %w", t.Family(), info.Name, err)
		}
		// The rendered text holds the control tokens as text (BOS included
		// when the template writes it), so parse them and add nothing.
		ids, err := be.Tokenize(ctx, text, false, true)
		if err != nil {
			return nil, fmt.Errorf("prompt: tokenize the chat prompt for %q: %w", info.Name, err)
		}
		return ids, nil
	}
	return nil, fmt.Errorf("prompt: unknown mode %d", spec.Mode)
}

func specialText(ctx context.Context, be backend.Backend, info backend.Info) (bos, eos string, err error) {
	var ids []int32
	if info.BOS >= 0 {
		ids = append(ids, info.BOS)
	}
	if info.EOS >= 0 {
		ids = append(ids, info.EOS)
	}
	if len(ids) == 0 {
		return "", "", nil
	}
	ps, err := be.Pieces(ctx, ids)
	if err != nil {
		return "", "", fmt.Errorf("prompt: pieces of BOS/EOS of %q: %w", info.Name, err)
	}
	if info.BOS >= 0 {
		bos, ps = ps[0], ps[1:]
	}
	if info.EOS >= 0 {
		eos = ps[0]
	}
	return bos, eos, nil
}
