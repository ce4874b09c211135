// Package chat turns an OpenAI-style conversation into the prompt text a chat
// model expects, following the model's chat template.
//
// A model's template is Jinja source (GGUF key tokenizer.chat_template, or
// the chat_template field of a llama.cpp server's /props). This package does
// not interpret Jinja. Like llama.cpp's built-in formatter
// (llm_chat_detect_template and llm_chat_apply_template in
// src/llama-chat.cpp), it recognises the template's family by signature
// strings ("<|im_start|>", "<|start_header_id|>", "[INST]", ...) and renders
// the conversation with a Go renderer written for that family. Its output is
// byte-identical to llama.cpp's built-in (non-Jinja) formatter for every
// family llama.cpp knows; see docs/chat-templates.md for the list, the
// detection rules and what to do when a template is not recognised.
//
// The rendered text never begins with a BOS token: tokenize it with the
// model's add-special setting so the tokenizer adds BOS where the model wants
// one, and with special-token parsing enabled so markers such as
// <|im_start|> become control tokens.
package chat

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Message is one turn of a conversation.
type Message struct {
	// Role is "system", "user" or "assistant".
	Role string
	// Content is the text of the turn.
	Content string
}

// Roles a Message may carry.
const (
	RoleSystem    = "system"
	RoleUser      = "user"
	RoleAssistant = "assistant"
)

// ErrUnknownTemplate is wrapped by Parse and FamilyByName when no built-in
// family matches.
var ErrUnknownTemplate = errors.New("chat: unknown chat template")

// ErrNoMessages is returned by Render for an empty conversation.
var ErrNoMessages = errors.New("chat: conversation has no messages")

// ErrUnknownRole is wrapped by Render when a message's role is not system,
// user or assistant.
var ErrUnknownRole = errors.New("chat: unknown message role")

// Template is a recognised chat template: a family and its renderer. It is
// immutable and safe for concurrent use.
type Template struct {
	fam *family
}

// Parse recognises the family of a chat template from its Jinja source. src
// may also be a family name (as llama.cpp accepts). An empty or unrecognised
// source gives an error wrapping ErrUnknownTemplate that says how to proceed.
func Parse(src string) (*Template, error) {
	if strings.TrimSpace(src) == "" {
		return nil, fmt.Errorf("%w: the model has no chat template; %s", ErrUnknownTemplate, remedy())
	}
	if f := byName(src); f != nil {
		return &Template{fam: f}, nil
	}
	if f := detect(src); f != nil {
		return &Template{fam: f}, nil
	}
	return nil, fmt.Errorf("%w: no built-in family matches the template (%d bytes, starting %q); %s",
		ErrUnknownTemplate, len(src), head(src, 60), remedy())
}

// FamilyByName returns the built-in template of a family, e.g. "chatml",
// "llama3", "llama2-sys", "mistral-v7". The alias "mistral" names the
// pre-v1 Mistral format, which is llama.cpp's "llama2". An unknown name gives
// an error wrapping ErrUnknownTemplate that lists the known families.
func FamilyByName(name string) (*Template, error) {
	if f := byName(name); f != nil {
		return &Template{fam: f}, nil
	}
	return nil, fmt.Errorf("%w: no family named %q; known families: %s",
		ErrUnknownTemplate, name, strings.Join(Families(), ", "))
}

// Families returns the names of every built-in family, sorted.
func Families() []string {
	names := make([]string, 0, len(families))
	for i := range families {
		names = append(names, families[i].name)
	}
	slices.Sort(names)
	return names
}

// Family returns the family name, e.g. "chatml" or "llama3".
func (t *Template) Family() string { return t.fam.name }

// Render formats msgs as the prompt text of the template's family. With
// addGenerationPrompt the text ends with the header of an assistant turn, so
// the model's continuation is the assistant's reply; families whose format
// has no such header (Llama 2, Mistral, ...) always end where the reply
// begins. bos and eos are the model's BOS and EOS token pieces, written where
// the family puts them inside the conversation (for example "</s>" after
// each assistant turn of Llama 2 and Mistral); "" selects the family's usual
// piece ("<s>" and "</s>" for most). Render fails for an empty conversation
// and for a role other than system, user or assistant.
func (t *Template) Render(msgs []Message, addGenerationPrompt bool, bos, eos string) (string, error) {
	if len(msgs) == 0 {
		return "", ErrNoMessages
	}
	for i, m := range msgs {
		switch m.Role {
		case RoleSystem, RoleUser, RoleAssistant:
		default:
			return "", fmt.Errorf("%w %q in message %d (want system, user or assistant)", ErrUnknownRole, m.Role, i)
		}
	}
	if bos == "" {
		bos = t.fam.bos
	}
	if eos == "" {
		eos = t.fam.eos
	}
	var b strings.Builder
	t.fam.render(&b, msgs, addGenerationPrompt, bos, eos)
	return b.String(), nil
}

// remedy tells a user what to do when no family matches.
func remedy() string {
	return "pass --chat-template <family> to choose one (" + strings.Join(Families(), ", ") +
		"), or --raw to send the prompt as plain text without a chat template"
}

// head returns at most n bytes of s, cut at a rune boundary.
func head(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
