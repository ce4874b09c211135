package oai

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
)

// Limits bound what one request may ask for; zero fields take the defaults
// of DefaultLimits.
type Limits struct {
	// MaxN is the largest n (samples per prompt).
	MaxN int
	// MaxPrompts is the most prompts in one /v1/completions request.
	MaxPrompts int
	// MaxStop is the most stop strings.
	MaxStop int
	// MaxStopLen is the longest stop string in bytes.
	MaxStopLen int
	// MaxTopLogprobs is the most alternatives per token in logprobs.
	MaxTopLogprobs int
	// MaxPromptTokens is the most ids in one token-array prompt.
	MaxPromptTokens int
	// MaxMessages is the most messages in one chat request.
	MaxMessages int
}

// DefaultLimits returns the default bounds.
func DefaultLimits() Limits {
	return Limits{MaxN: 16, MaxPrompts: 16, MaxStop: 16, MaxStopLen: 256, MaxTopLogprobs: 20,
		MaxPromptTokens: 1 << 17, MaxMessages: 1024}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	for _, p := range []struct{ v, d *int }{{&l.MaxN, &d.MaxN}, {&l.MaxPrompts, &d.MaxPrompts}, {&l.MaxStop, &d.MaxStop},
		{&l.MaxStopLen, &d.MaxStopLen}, {&l.MaxTopLogprobs, &d.MaxTopLogprobs}, {&l.MaxPromptTokens, &d.MaxPromptTokens},
		{&l.MaxMessages, &d.MaxMessages}} {
		if *p.v <= 0 {
			*p.v = *p.d
		}
	}
	return l
}

// Extension is the "baco" member of a request: it overrides the pipeline's
// routing for this request.
type Extension struct {
	// Router is a built-in router, "name" or "name:γ" (e.g. "p-punc:0.3").
	Router string `json:"router"`
	// Gamma sets the router's parameter γ: it replaces the γ of Router or of
	// the pipeline's built-in router, and is vars.gamma for a rule.
	Gamma *float64 `json:"gamma"`
	// Rule is an expr routing rule (docs/policies.md).
	Rule string `json:"rule"`
	// Vars are constants visible to the rule as vars.<name>.
	Vars map[string]any `json:"vars"`
	// BaseTemperature overrides temperature for the base model.
	BaseTemperature *float64 `json:"base_temperature"`
	// AlignedTemperature overrides temperature for the aligned model.
	AlignedTemperature *float64 `json:"aligned_temperature"`
}

// StreamOptions are OpenAI's stream_options.
type StreamOptions struct {
	// IncludeUsage adds a last chunk carrying usage and no choices.
	IncludeUsage bool `json:"include_usage"`
}

// Common are the fields /v1/completions and /v1/chat/completions share.
type Common struct {
	// Model is the pipeline id.
	Model string `json:"model"`
	// MaxTokens bounds each choice's length (nil: the endpoint's default).
	MaxTokens *int `json:"max_tokens"`
	// Temperature is the sampling temperature of both models (default 1).
	Temperature *float64 `json:"temperature"`
	// TopP is the nucleus threshold (default 1).
	TopP *float64 `json:"top_p"`
	// TopK truncates to the k most likely tokens (an extension, as in vLLM
	// and llama.cpp; default off).
	TopK *int `json:"top_k"`
	// MinP is min-p truncation (an extension; default off).
	MinP *float64 `json:"min_p"`
	// N is the number of choices per prompt (default 1).
	N *int `json:"n"`
	// Stream asks for server-sent events.
	Stream bool `json:"stream"`
	// StreamOptions apply when Stream is set.
	StreamOptions *StreamOptions `json:"stream_options"`
	// Stop strings end a choice; they are not part of its text.
	Stop Stop `json:"stop"`
	// Seed makes the request reproducible (default: a random seed).
	Seed *int64 `json:"seed"`
	// PresencePenalty is not supported: absent or 0.
	PresencePenalty *float64 `json:"presence_penalty"`
	// FrequencyPenalty is not supported: absent or 0.
	FrequencyPenalty *float64 `json:"frequency_penalty"`
	// LogitBias is not supported: absent or empty.
	LogitBias map[string]float64 `json:"logit_bias"`
	// User is an end-user id (logged, otherwise ignored).
	User string `json:"user"`
	// Baco is the routing extension.
	Baco *Extension `json:"baco"`
}

// CompletionRequest is the body of POST /v1/completions.
type CompletionRequest struct {
	Common
	// Prompt is one or more prompts (text or token ids).
	Prompt Prompt `json:"prompt"`
	// Logprobs asks for the log-probability of each token and of this
	// many alternatives (nil: none).
	Logprobs *int `json:"logprobs"`
	// Echo puts the prompt before each choice's text.
	Echo bool `json:"echo"`
	// Suffix is not supported.
	Suffix *string `json:"suffix"`
	// BestOf is not supported beyond best_of == n.
	BestOf *int `json:"best_of"`
}

// ChatRequest is the body of POST /v1/chat/completions.
type ChatRequest struct {
	Common
	// Messages is the conversation.
	Messages []Message `json:"messages"`
	// MaxCompletionTokens is the newer name of max_tokens.
	MaxCompletionTokens *int `json:"max_completion_tokens"`
	// Logprobs asks for each token's log-probability.
	Logprobs bool `json:"logprobs"`
	// TopLogprobs is how many alternatives per token (needs Logprobs).
	TopLogprobs *int `json:"top_logprobs"`
	// Tools are not supported: absent or null.
	Tools json.RawMessage `json:"tools"`
	// ToolChoice is not supported: absent or null.
	ToolChoice json.RawMessage `json:"tool_choice"`
	// Functions are not supported: absent or null.
	Functions json.RawMessage `json:"functions"`
	// ResponseFormat may only be {"type": "text"}.
	ResponseFormat json.RawMessage `json:"response_format"`
}

// Message is one chat message; Content accepts a string or an array of
// text parts.
type Message struct {
	// Role is system, developer (read as system), user or assistant.
	Role string `json:"role"`
	// Content is the message text.
	Content Content `json:"content"`
	// Name is accepted and ignored.
	Name string `json:"name,omitempty"`
}

// Content is a message's text: a JSON string, null, or an array of
// {"type":"text","text":...} parts (joined with no separator).
type Content string

// UnmarshalJSON accepts a string, null or an array of text parts.
func (c *Content) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*c = ""
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return &fieldError{"content", "not a valid JSON string"}
		}
		*c = Content(s)
		return nil
	case len(b) > 0 && b[0] == '[':
		var parts []struct {
			Type string  `json:"type"`
			Text *string `json:"text"`
		}
		if err := json.Unmarshal(b, &parts); err != nil {
			return &fieldError{"content", "want a string or an array of {\"type\":\"text\",\"text\":...} parts"}
		}
		var sb strings.Builder
		for i, p := range parts {
			if p.Type != "text" || p.Text == nil {
				return &fieldError{"content", fmt.Sprintf("part %d has type %q: only text parts are supported", i, p.Type)}
			}
			sb.WriteString(*p.Text)
		}
		*c = Content(sb.String())
		return nil
	}
	return &fieldError{"content", "want a string or an array of text parts"}
}

// Stop is a stop string or a list of them.
type Stop []string

// UnmarshalJSON accepts null, a string or an array of strings.
func (s *Stop) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*s = nil
		return nil
	case len(b) > 0 && b[0] == '"':
		var x string
		if err := json.Unmarshal(b, &x); err != nil {
			return &fieldError{"stop", "not a valid JSON string"}
		}
		*s = Stop{x}
		return nil
	}
	var xs []string
	if err := json.Unmarshal(b, &xs); err != nil {
		return &fieldError{"stop", "want a string or an array of strings"}
	}
	*s = xs
	return nil
}

// PromptItem is one prompt: text, or token ids when IsTokens.
type PromptItem struct {
	// Text is the prompt text.
	Text string
	// Tokens are the prompt's token ids.
	Tokens []int32
	// IsTokens tells which of Text and Tokens is set.
	IsTokens bool
}

// Prompt is the prompt member of /v1/completions: a string, an array of
// strings, an array of token ids, or an array of token-id arrays.
type Prompt []PromptItem

// UnmarshalJSON accepts the four shapes OpenAI's API accepts.
func (p *Prompt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	bad := &fieldError{"prompt", "want a string, an array of strings, an array of token ids or an array of token-id arrays"}
	switch {
	case bytes.Equal(b, []byte("null")):
		*p = nil
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return bad
		}
		*p = Prompt{{Text: s}}
		return nil
	case len(b) == 0 || b[0] != '[':
		return bad
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return bad
	}
	if len(raw) == 0 {
		*p = Prompt{}
		return nil
	}
	first := bytes.TrimSpace(raw[0])
	switch {
	case len(first) > 0 && first[0] == '"':
		out := make(Prompt, 0, len(raw))
		for i, r := range raw {
			var s string
			if err := json.Unmarshal(r, &s); err != nil {
				return &fieldError{"prompt", fmt.Sprintf("element %d: want a string like the first element", i)}
			}
			out = append(out, PromptItem{Text: s})
		}
		*p = out
	case len(first) > 0 && first[0] == '[':
		out := make(Prompt, 0, len(raw))
		for i, r := range raw {
			ids, err := tokenIDs(r)
			if err != nil {
				return &fieldError{"prompt", fmt.Sprintf("element %d: %v", i, err)}
			}
			out = append(out, PromptItem{Tokens: ids, IsTokens: true})
		}
		*p = out
	default:
		ids, err := tokenIDs(b)
		if err != nil {
			return &fieldError{"prompt", err.Error()}
		}
		*p = Prompt{{Tokens: ids, IsTokens: true}}
	}
	return nil
}

// tokenIDs parses an array of non-negative integer token ids.
func tokenIDs(b []byte) ([]int32, error) {
	var nums []json.Number
	if err := json.Unmarshal(b, &nums); err != nil {
		return nil, fmt.Errorf("want an array of token ids (integers)")
	}
	ids := make([]int32, len(nums))
	for i, n := range nums {
		v, err := n.Int64()
		if err != nil || v < 0 || v > math.MaxInt32 {
			return nil, fmt.Errorf("token %d is %s: want an integer id ≥ 0", i, n)
		}
		ids[i] = int32(v)
	}
	return ids, nil
}

// decodeJSON unmarshals data into v: one JSON object, nothing after it.
func decodeJSON(data []byte, v any) *Error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if dec.More() {
		return Invalid("", "malformed JSON: more than one value in the body").WithCode("invalid_json")
	}
	if _, err := dec.Token(); err == nil {
		return Invalid("", "malformed JSON: trailing data after the object").WithCode("invalid_json")
	}
	return nil
}

// DecodeCompletionRequest parses and validates a /v1/completions body.
func DecodeCompletionRequest(data []byte, lim Limits) (*CompletionRequest, *Error) {
	lim = lim.withDefaults()
	var r CompletionRequest
	if e := decodeJSON(data, &r); e != nil {
		return nil, e
	}
	if e := r.Common.validate(lim); e != nil {
		return nil, e
	}
	switch {
	case r.Prompt == nil:
		return nil, Invalid("prompt", "prompt: required")
	case len(r.Prompt) == 0:
		return nil, Invalid("prompt", "prompt: the array is empty")
	case len(r.Prompt) > lim.MaxPrompts:
		return nil, Invalid("prompt", "prompt: %d prompts, at most %d per request", len(r.Prompt), lim.MaxPrompts)
	}
	for i, it := range r.Prompt {
		if it.IsTokens && len(it.Tokens) > lim.MaxPromptTokens {
			return nil, Invalid("prompt", "prompt %d: %d tokens, at most %d", i, len(it.Tokens), lim.MaxPromptTokens)
		}
	}
	if r.Logprobs != nil && (*r.Logprobs < 0 || *r.Logprobs > lim.MaxTopLogprobs) {
		return nil, Invalid("logprobs", "logprobs %d: want 0..%d", *r.Logprobs, lim.MaxTopLogprobs)
	}
	if r.Echo && r.Logprobs != nil {
		return nil, Invalid("echo", "echo with logprobs is not supported (prompt log-probabilities are not computed)")
	}
	if r.Suffix != nil && *r.Suffix != "" {
		return nil, Invalid("suffix", "suffix is not supported")
	}
	if r.BestOf != nil && *r.BestOf != r.NOrDefault() {
		return nil, Invalid("best_of", "best_of %d: only best_of == n is supported", *r.BestOf)
	}
	return &r, nil
}

// DecodeChatRequest parses and validates a /v1/chat/completions body.
func DecodeChatRequest(data []byte, lim Limits) (*ChatRequest, *Error) {
	lim = lim.withDefaults()
	var r ChatRequest
	if e := decodeJSON(data, &r); e != nil {
		return nil, e
	}
	if r.MaxCompletionTokens != nil {
		if r.MaxTokens != nil && *r.MaxTokens != *r.MaxCompletionTokens {
			return nil, Invalid("max_completion_tokens", "max_tokens %d and max_completion_tokens %d disagree: give one", *r.MaxTokens, *r.MaxCompletionTokens)
		}
		r.MaxTokens = r.MaxCompletionTokens
	}
	if e := r.Common.validate(lim); e != nil {
		return nil, e
	}
	switch {
	case r.Messages == nil:
		return nil, Invalid("messages", "messages: required")
	case len(r.Messages) == 0:
		return nil, Invalid("messages", "messages: the array is empty")
	case len(r.Messages) > lim.MaxMessages:
		return nil, Invalid("messages", "messages: %d messages, at most %d", len(r.Messages), lim.MaxMessages)
	}
	for i := range r.Messages {
		m := &r.Messages[i]
		switch m.Role {
		case "system", "user", "assistant":
		case "developer":
			m.Role = "system"
		default:
			return nil, Invalid(fmt.Sprintf("messages[%d].role", i), "messages[%d].role %q: want system, developer, user or assistant", i, m.Role)
		}
	}
	if r.TopLogprobs != nil {
		switch {
		case *r.TopLogprobs < 0 || *r.TopLogprobs > lim.MaxTopLogprobs:
			return nil, Invalid("top_logprobs", "top_logprobs %d: want 0..%d", *r.TopLogprobs, lim.MaxTopLogprobs)
		case !r.Logprobs && *r.TopLogprobs > 0:
			return nil, Invalid("top_logprobs", "top_logprobs needs logprobs: true")
		}
	}
	for _, f := range []struct {
		name string
		raw  json.RawMessage
	}{{"tools", r.Tools}, {"tool_choice", r.ToolChoice}, {"functions", r.Functions}} {
		if !isNull(f.raw) {
			return nil, Invalid(f.name, "%s: tool calls are not supported", f.name)
		}
	}
	if !isNull(r.ResponseFormat) {
		var rf struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(r.ResponseFormat, &rf); err != nil || rf.Type != "text" {
			return nil, Invalid("response_format", "response_format: only {\"type\": \"text\"} is supported")
		}
	}
	return &r, nil
}

func isNull(b json.RawMessage) bool {
	b = bytes.TrimSpace(b)
	return len(b) == 0 || bytes.Equal(b, []byte("null"))
}

// NOrDefault is n, or 1 when absent.
func (c *Common) NOrDefault() int {
	if c.N == nil {
		return 1
	}
	return *c.N
}

// validate checks what does not depend on the model.
func (c *Common) validate(lim Limits) *Error {
	if strings.TrimSpace(c.Model) == "" {
		return Invalid("model", "model: required (GET /v1/models lists the served pipelines)")
	}
	if c.MaxTokens != nil && *c.MaxTokens < 0 {
		return Invalid("max_tokens", "max_tokens %d: must be ≥ 0", *c.MaxTokens)
	}
	if c.Temperature != nil && !(*c.Temperature >= 0 && *c.Temperature <= 2) {
		return Invalid("temperature", "temperature %v: want a number in [0, 2] (0 is greedy)", *c.Temperature)
	}
	if c.TopP != nil && !(*c.TopP > 0 && *c.TopP <= 1) {
		return Invalid("top_p", "top_p %v: want a number in (0, 1]", *c.TopP)
	}
	if c.TopK != nil && *c.TopK < 0 {
		return Invalid("top_k", "top_k %d: must be ≥ 0 (0 turns it off)", *c.TopK)
	}
	if c.MinP != nil && !(*c.MinP >= 0 && *c.MinP < 1) {
		return Invalid("min_p", "min_p %v: want a number in [0, 1)", *c.MinP)
	}
	if c.N != nil && (*c.N < 1 || *c.N > lim.MaxN) {
		return Invalid("n", "n %d: want 1..%d", *c.N, lim.MaxN)
	}
	if len(c.Stop) > lim.MaxStop {
		return Invalid("stop", "stop: %d strings, at most %d", len(c.Stop), lim.MaxStop)
	}
	for i, s := range c.Stop {
		if s == "" || len(s) > lim.MaxStopLen {
			return Invalid("stop", "stop[%d]: want a non-empty string of at most %d bytes", i, lim.MaxStopLen)
		}
	}
	if c.StreamOptions != nil && !c.Stream {
		return Invalid("stream_options", "stream_options needs stream: true")
	}
	for _, p := range []struct {
		name string
		v    *float64
	}{{"presence_penalty", c.PresencePenalty}, {"frequency_penalty", c.FrequencyPenalty}} {
		if p.v != nil && *p.v != 0 {
			return Invalid(p.name, "%s is not supported (send 0 or leave it out)", p.name)
		}
	}
	if len(c.LogitBias) > 0 {
		return Invalid("logit_bias", "logit_bias is not supported")
	}
	if x := c.Baco; x != nil {
		if x.Router != "" && x.Rule != "" {
			return Invalid("baco", "baco: give router or rule, not both")
		}
		if x.Gamma != nil && (math.IsNaN(*x.Gamma) || math.IsInf(*x.Gamma, 0)) {
			return Invalid("baco.gamma", "baco.gamma must be a finite number")
		}
		for _, t := range []struct {
			name string
			v    *float64
		}{{"baco.base_temperature", x.BaseTemperature}, {"baco.aligned_temperature", x.AlignedTemperature}} {
			if t.v != nil && !(*t.v >= 0 && *t.v <= 2) {
				return Invalid(t.name, "%s %v: want a number in [0, 2]", t.name, *t.v)
			}
		}
	}
	return nil
}
