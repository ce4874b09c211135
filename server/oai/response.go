package oai

// Usage counts tokens: PromptTokens over every prompt (once per prompt,
// whatever n), CompletionTokens over every choice (each sampled token,
// the end-of-sequence token included).
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// TokenSource is one generated token in the baco extension of a choice.
type TokenSource struct {
	// ID is the token id.
	ID int32 `json:"id"`
	// Text is the token's text ("" for an end-of-sequence token).
	Text string `json:"text"`
	// Source is "base", "aligned" or "mixed".
	Source string `json:"source"`
}

// ChoiceExtension is the "baco" member of a choice (or of a streamed
// chunk's choice): the source of each token and, once the choice is
// finished, its share of base tokens.
type ChoiceExtension struct {
	// Tokens are the tokens of this choice (of this chunk when streaming),
	// in order.
	Tokens []TokenSource `json:"tokens"`
	// BaseShare is the share of the choice's tokens emitted by the base
	// model (set when the choice is finished).
	BaseShare *float64 `json:"base_share,omitempty"`
	// BaseTokens counts the choice's tokens emitted by the base model (set
	// when the choice is finished).
	BaseTokens *int `json:"base_tokens,omitempty"`
	// TotalTokens counts all of the choice's tokens (set when finished).
	TotalTokens *int `json:"total_tokens,omitempty"`
}

// ResponseExtension is the "baco" member of a response: how it was routed.
type ResponseExtension struct {
	// Router is the router's name with its parameters, or "rule".
	Router string `json:"router"`
	// Base and Aligned name the two models.
	Base    string `json:"base"`
	Aligned string `json:"aligned"`
}

// CompletionLogprobs is the logprobs member of a /v1/completions choice.
type CompletionLogprobs struct {
	Tokens        []string             `json:"tokens"`
	TokenLogprobs []float64            `json:"token_logprobs"`
	TopLogprobs   []map[string]float64 `json:"top_logprobs"`
	TextOffset    []int                `json:"text_offset"`
}

// CompletionChoice is one choice of a /v1/completions response or chunk.
type CompletionChoice struct {
	Index        int                 `json:"index"`
	Text         string              `json:"text"`
	Logprobs     *CompletionLogprobs `json:"logprobs"`
	FinishReason *string             `json:"finish_reason"`
	Baco         *ChoiceExtension    `json:"baco,omitempty"`
}

// Completion is a /v1/completions response, or one streamed chunk of it.
type Completion struct {
	ID                string             `json:"id"`
	Object            string             `json:"object"`
	Created           int64              `json:"created"`
	Model             string             `json:"model"`
	SystemFingerprint string             `json:"system_fingerprint"`
	Choices           []CompletionChoice `json:"choices"`
	Usage             *Usage             `json:"usage,omitempty"`
	Baco              *ResponseExtension `json:"baco,omitempty"`
}

// TopLogprob is one alternative of a chat logprobs entry.
type TopLogprob struct {
	Token   string  `json:"token"`
	Logprob float64 `json:"logprob"`
	Bytes   []int   `json:"bytes"`
}

// TokenLogprob is one token of a chat choice's logprobs.
type TokenLogprob struct {
	Token       string       `json:"token"`
	Logprob     float64      `json:"logprob"`
	Bytes       []int        `json:"bytes"`
	TopLogprobs []TopLogprob `json:"top_logprobs"`
}

// ChatLogprobs is the logprobs member of a chat choice.
type ChatLogprobs struct {
	Content []TokenLogprob `json:"content"`
	Refusal []TokenLogprob `json:"refusal"`
}

// ChatMessage is the assistant message of a chat choice, or the delta of
// a streamed chunk.
type ChatMessage struct {
	Role    string  `json:"role,omitempty"`
	Content *string `json:"content,omitempty"`
	Refusal *string `json:"refusal,omitempty"`
}

// ChatChoice is one choice of a chat response (Message) or chunk (Delta).
type ChatChoice struct {
	Index        int              `json:"index"`
	Message      *ChatMessage     `json:"message,omitempty"`
	Delta        *ChatMessage     `json:"delta,omitempty"`
	Logprobs     *ChatLogprobs    `json:"logprobs"`
	FinishReason *string          `json:"finish_reason"`
	Baco         *ChoiceExtension `json:"baco,omitempty"`
}

// ChatCompletion is a chat response (object "chat.completion") or one
// streamed chunk ("chat.completion.chunk").
type ChatCompletion struct {
	ID                string             `json:"id"`
	Object            string             `json:"object"`
	Created           int64              `json:"created"`
	Model             string             `json:"model"`
	SystemFingerprint string             `json:"system_fingerprint"`
	Choices           []ChatChoice       `json:"choices"`
	Usage             *Usage             `json:"usage,omitempty"`
	Baco              *ResponseExtension `json:"baco,omitempty"`
}

// Model is one entry of GET /v1/models.
type Model struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
	// Baco describes the pipeline behind the id.
	Baco *ModelExtension `json:"baco,omitempty"`
}

// ModelExtension describes a served pipeline.
type ModelExtension struct {
	// Base and Aligned name the two models (equal for a single model).
	Base    string `json:"base"`
	Aligned string `json:"aligned"`
	// Router is the default router.
	Router string `json:"router"`
	// Single is true for a single-model pipeline.
	Single bool `json:"single"`
	// ContextLength is the smaller context length of the two models.
	ContextLength int `json:"context_length"`
}

// ModelList is the body of GET /v1/models.
type ModelList struct {
	Object string  `json:"object"`
	Data   []Model `json:"data"`
}
