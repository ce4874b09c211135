package oai

// Usage counts tokens: PromptTokens over every prompt (once per prompt,
// whatever n), CompletionTokens over every choice (each sampled token,
// the end-of-sequence token included).
type Usage struct {
	// PromptTokens counts the prompts' tokens.
	PromptTokens int `json:"prompt_tokens"`
	// CompletionTokens counts the generated tokens.
	CompletionTokens int `json:"completion_tokens"`
	// TotalTokens is their sum.
	TotalTokens int `json:"total_tokens"`
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
	// Router is the pipeline's router: its name with its parameters, or
	// "rule".
	Router string `json:"router"`
	// Base names the base model.
	Base string `json:"base"`
	// Aligned names the aligned model.
	Aligned string `json:"aligned"`
}

// CompletionLogprobs is the logprobs member of a /v1/completions choice.
type CompletionLogprobs struct {
	// Tokens are the tokens' texts.
	Tokens []string `json:"tokens"`
	// TokenLogprobs are their log-probabilities.
	TokenLogprobs []float64 `json:"token_logprobs"`
	// TopLogprobs map the most likely tokens' texts to their
	// log-probabilities, one map per token.
	TopLogprobs []map[string]float64 `json:"top_logprobs"`
	// TextOffset is each token's byte offset in the choice's text.
	TextOffset []int `json:"text_offset"`
}

// CompletionChoice is one choice of a /v1/completions response or chunk.
type CompletionChoice struct {
	// Index is prompt index × n + sample index.
	Index int `json:"index"`
	// Text is the generated text (of this chunk when streaming).
	Text string `json:"text"`
	// Logprobs are set when the request asked for them.
	Logprobs *CompletionLogprobs `json:"logprobs"`
	// FinishReason is "stop" or "length", null until the choice ends.
	FinishReason *string `json:"finish_reason"`
	// Baco carries the tokens' sources.
	Baco *ChoiceExtension `json:"baco,omitempty"`
}

// Completion is a /v1/completions response, or one streamed chunk of it.
type Completion struct {
	// ID identifies the completion (every chunk of a stream shares it).
	ID string `json:"id"`
	// Object is "text_completion".
	Object string `json:"object"`
	// Created is the Unix time of the request.
	Created int64 `json:"created"`
	// Model is the model id.
	Model string `json:"model"`
	// SystemFingerprint names the server ("baco").
	SystemFingerprint string `json:"system_fingerprint"`
	// Choices are the choices (of this chunk when streaming).
	Choices []CompletionChoice `json:"choices"`
	// Usage counts tokens (plain responses and the last streamed chunk).
	Usage *Usage `json:"usage,omitempty"`
	// Baco names the routing (plain responses).
	Baco *ResponseExtension `json:"baco,omitempty"`
}

// TopLogprob is one alternative of a chat logprobs entry.
type TopLogprob struct {
	// Token is the token's text.
	Token string `json:"token"`
	// Logprob is its log-probability.
	Logprob float64 `json:"logprob"`
	// Bytes are the UTF-8 bytes of Token.
	Bytes []int `json:"bytes"`
}

// TokenLogprob is one token of a chat choice's logprobs.
type TokenLogprob struct {
	// Token is the token's text.
	Token string `json:"token"`
	// Logprob is its log-probability.
	Logprob float64 `json:"logprob"`
	// Bytes are the bytes of Token.
	Bytes []int `json:"bytes"`
	// TopLogprobs are the most likely tokens at this position.
	TopLogprobs []TopLogprob `json:"top_logprobs"`
}

// ChatLogprobs is the logprobs member of a chat choice.
type ChatLogprobs struct {
	// Content has one entry per token of the message.
	Content []TokenLogprob `json:"content"`
	// Refusal is always null.
	Refusal []TokenLogprob `json:"refusal"`
}

// ChatMessage is the assistant message of a chat choice, or the delta of
// a streamed chunk.
type ChatMessage struct {
	// Role is "assistant" (in a delta, only on a choice's first chunk).
	Role string `json:"role,omitempty"`
	// Content is the text (of this chunk when streaming).
	Content *string `json:"content,omitempty"`
	// Refusal is never set.
	Refusal *string `json:"refusal,omitempty"`
}

// ChatChoice is one choice of a chat response (Message) or chunk (Delta).
type ChatChoice struct {
	// Index is the sample index.
	Index int `json:"index"`
	// Message is the reply (plain responses).
	Message *ChatMessage `json:"message,omitempty"`
	// Delta is the new part of the reply (streamed chunks).
	Delta *ChatMessage `json:"delta,omitempty"`
	// Logprobs are set when the request asked for them.
	Logprobs *ChatLogprobs `json:"logprobs"`
	// FinishReason is "stop" or "length", null until the choice ends.
	FinishReason *string `json:"finish_reason"`
	// Baco carries the tokens' sources.
	Baco *ChoiceExtension `json:"baco,omitempty"`
}

// ChatCompletion is a chat response (object "chat.completion") or one
// streamed chunk ("chat.completion.chunk").
type ChatCompletion struct {
	// ID identifies the completion (every chunk of a stream shares it).
	ID string `json:"id"`
	// Object is "chat.completion" or "chat.completion.chunk".
	Object string `json:"object"`
	// Created is the Unix time of the request.
	Created int64 `json:"created"`
	// Model is the model id.
	Model string `json:"model"`
	// SystemFingerprint names the server ("baco").
	SystemFingerprint string `json:"system_fingerprint"`
	// Choices are the choices (of this chunk when streaming).
	Choices []ChatChoice `json:"choices"`
	// Usage counts tokens (plain responses and the last streamed chunk).
	Usage *Usage `json:"usage,omitempty"`
	// Baco names the routing (plain responses).
	Baco *ResponseExtension `json:"baco,omitempty"`
}

// Model is one entry of GET /v1/models.
type Model struct {
	// ID is the model id requests name.
	ID string `json:"id"`
	// Object is "model".
	Object string `json:"object"`
	// Created is the Unix time the server started.
	Created int64 `json:"created"`
	// OwnedBy is "baco".
	OwnedBy string `json:"owned_by"`
	// Baco describes the pipeline behind the id.
	Baco *ModelExtension `json:"baco,omitempty"`
}

// ModelExtension describes a served pipeline.
type ModelExtension struct {
	// Base names the base model (the model itself for a single model).
	Base string `json:"base"`
	// Aligned names the aligned model.
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
	// Object is "list".
	Object string `json:"object"`
	// Data are the served models.
	Data []Model `json:"data"`
}
