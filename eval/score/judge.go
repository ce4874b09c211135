package score

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

// DefaultJudgePrompt is the judge's instruction; {{prompt}} and
// {{response}} are replaced by the request and the response.
const DefaultJudgePrompt = `Rate the quality of the response to the request below on a scale from 1 (useless) to 10 (excellent), considering helpfulness, coherence and fluency. Reply with the number only.

[Request]
{{prompt}}

[Response]
{{response}}`

// Judge scores responses with an LLM behind an OpenAI-compatible chat
// completions endpoint (or a reward model served behind one).
type Judge struct {
	client   *openai.Client
	model    string
	url      string
	template string
	// Attempts is how many times a failing call is tried (default 3).
	Attempts int
}

// NewJudge returns a judge for the API at baseURL (e.g.
// "http://localhost:8000/v1") and model; template "" uses
// DefaultJudgePrompt and must otherwise contain {{response}}.
func NewJudge(baseURL, model, apiKey, template string) (*Judge, error) {
	if baseURL == "" || model == "" {
		return nil, errors.New("score: a judge needs both a URL and a model")
	}
	if template == "" {
		template = DefaultJudgePrompt
	}
	if !strings.Contains(template, "{{response}}") {
		return nil, errors.New("score: the judge prompt must contain {{response}}")
	}
	cfg := openai.DefaultConfig(apiKey)
	cfg.BaseURL = baseURL
	cfg.HTTPClient = &http.Client{Timeout: 5 * time.Minute}
	return &Judge{client: openai.NewClientWithConfig(cfg), model: model, url: baseURL, template: template, Attempts: 3}, nil
}

// Name is "judge:<model>@<url>".
func (j *Judge) Name() string { return "judge:" + j.model + "@" + j.url }

var number = regexp.MustCompile(`-?\d+(?:\.\d+)?`)

// ParseScore reads the first number of a judge's reply.
func ParseScore(reply string) (float64, error) {
	m := number.FindString(reply)
	if m == "" {
		if len(reply) > 80 {
			reply = reply[:80] + "…"
		}
		return 0, fmt.Errorf("score: the judge's reply %q holds no number", reply)
	}
	return strconv.ParseFloat(m, 64)
}

// Score asks the judge to rate response to prompt.
func (j *Judge) Score(ctx context.Context, prompt, response string) (float64, error) {
	msg := strings.ReplaceAll(strings.ReplaceAll(j.template, "{{prompt}}", prompt), "{{response}}", response)
	req := openai.ChatCompletionRequest{
		Model:       j.model,
		Messages:    []openai.ChatCompletionMessage{{Role: openai.ChatMessageRoleUser, Content: msg}},
		Temperature: 0,
		MaxTokens:   32,
	}
	var last error
	for a := 0; a < max(1, j.Attempts); a++ {
		if a > 0 {
			select {
			case <-ctx.Done():
				return 0, ctx.Err()
			case <-time.After(time.Duration(a) * time.Second):
			}
		}
		res, err := j.client.CreateChatCompletion(ctx, req)
		if err != nil {
			last = err
			continue
		}
		if len(res.Choices) == 0 {
			last = errors.New("no choices in the reply")
			continue
		}
		return ParseScore(res.Choices[0].Message.Content)
	}
	return 0, fmt.Errorf("score: judge %s (model %s): %w", j.url, j.model, last)
}
