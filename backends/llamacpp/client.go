package llamacpp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/baco-go/baco/backends/remote"
)

// Client speaks llama.cpp server's native API (examples/server/README.md
// of llama.cpp; recorded against commit c392e509): /health, /props,
// /v1/models, /tokenize, /detokenize and /completion. Every call retries
// transient failures (see remote.Retry). It is safe for concurrent use.
type Client struct {
	c   *remote.Client
	log *slog.Logger
}

// ClientOptions configure NewClient.
type ClientOptions struct {
	// URL is the server's base URL, e.g. "http://127.0.0.1:8080".
	URL string
	// APIKey is sent as a Bearer token when set (llama-server --api-key).
	APIKey string
	// HTTP is the client to use (default: one over remote.NewTransport).
	HTTP *http.Client
	// Conns is how many connections to keep open (default 8).
	Conns int
	// Retry is the retry policy (zero value: remote.DefaultRetry).
	Retry remote.Retry
	// MaxBody bounds one answer (0: remote.DefaultMaxBody).
	MaxBody int64
	// Logger receives warnings (default slog.Default()).
	Logger *slog.Logger
}

// NewClient checks the URL and returns a client; it sends nothing.
func NewClient(o ClientOptions) (*Client, error) {
	base, err := remote.ParseBase(o.URL)
	if err != nil {
		return nil, fmt.Errorf("llamacpp: %w", err)
	}
	hc := o.HTTP
	if hc == nil {
		conns := o.Conns
		if conns <= 0 {
			conns = 8
		}
		hc = &http.Client{Transport: remote.NewTransport(conns)}
	}
	retry := o.Retry
	if retry == (remote.Retry{}) {
		retry = remote.DefaultRetry
	}
	h := http.Header{}
	if o.APIKey != "" {
		h.Set("Authorization", "Bearer "+o.APIKey)
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Client{c: &remote.Client{HTTP: hc, Base: base, Header: h, Retry: retry, MaxBody: o.MaxBody}, log: log}, nil
}

// URL is the server's base URL.
func (c *Client) URL() string { return c.c.Base }

// Health checks that GET /health answers {"status":"ok"}. While the server
// loads its model it answers 503; Health keeps asking, every 250ms, for at
// most wait (other failures are retried by the retry policy only).
func (c *Client) Health(ctx context.Context, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		var h struct {
			Status string `json:"status"`
		}
		err := c.c.Get(ctx, "/health", &h)
		var he *remote.HTTPError
		if err != nil && errors.As(err, &he) && he.Status == http.StatusServiceUnavailable && time.Now().Before(deadline) {
			t := time.NewTimer(250 * time.Millisecond)
			select {
			case <-ctx.Done():
				t.Stop()
				return fmt.Errorf("GET /health: %w (%v)", ctx.Err(), err)
			case <-t.C:
			}
			continue
		}
		if err != nil {
			return err
		}
		if h.Status != "ok" {
			return fmt.Errorf("GET /health: status %q, want \"ok\"", h.Status)
		}
		return nil
	}
}

// Props is what GET /props says about the served model.
type Props struct {
	// DefaultGenerationSettings holds the per-slot context size.
	DefaultGenerationSettings struct {
		NCtx int `json:"n_ctx"`
	} `json:"default_generation_settings"`
	// TotalSlots is how many requests the server runs at once (-np).
	TotalSlots int `json:"total_slots"`
	// ModelPath is the served GGUF's path on the server.
	ModelPath string `json:"model_path"`
	// ChatTemplate is the template the server applies to chats.
	ChatTemplate string `json:"chat_template"`
	// BOSToken and EOSToken are the texts of BOS and EOS.
	BOSToken string `json:"bos_token"`
	EOSToken string `json:"eos_token"`
	// BuildInfo is the server's build, e.g. "b4748-c392e5094".
	BuildInfo string `json:"build_info"`
}

// Props reads GET /props.
func (c *Client) Props(ctx context.Context) (Props, error) {
	var p Props
	err := c.c.Get(ctx, "/props", &p)
	return p, err
}

// ModelMeta is the "meta" member of a GET /v1/models entry.
type ModelMeta struct {
	// VocabType is llama.cpp's enum: 1 SPM, 2 BPE, 3 WPM, 4 UGM, 5 RWKV.
	VocabType int `json:"vocab_type"`
	// NVocab is the vocabulary size.
	NVocab int `json:"n_vocab"`
	// NCtxTrain is the training context length.
	NCtxTrain int `json:"n_ctx_train"`
}

// Model is one entry of GET /v1/models.
type Model struct {
	// ID is the model id (the file path or --alias).
	ID string `json:"id"`
	// Meta describes the vocabulary; nil when the server does not say.
	Meta *ModelMeta `json:"meta"`
}

// Models reads GET /v1/models.
func (c *Client) Models(ctx context.Context) ([]Model, error) {
	var r struct {
		Data []Model `json:"data"`
	}
	if err := c.c.Get(ctx, "/v1/models", &r); err != nil {
		return nil, err
	}
	return r.Data, nil
}

// Style maps llama.cpp's vocab_type to a backend.Info tokenizer style.
func Style(vocabType int) string {
	switch vocabType {
	case 1:
		return "spm"
	case 2:
		return "bpe"
	}
	return ""
}

// Tokenize asks POST /tokenize for the ids of text. The server always
// recognises control-token text such as "<s>".
func (c *Client) Tokenize(ctx context.Context, text string, addSpecial bool) ([]int32, error) {
	var r struct {
		Tokens []int32 `json:"tokens"`
	}
	in := map[string]any{"content": text, "add_special": addSpecial}
	if err := c.c.Post(ctx, "/tokenize", in, &r); err != nil {
		return nil, err
	}
	if r.Tokens == nil {
		r.Tokens = []int32{}
	}
	return r.Tokens, nil
}

// Detokenize asks POST /detokenize for the text of ids (each id's text,
// control tokens included, concatenated).
func (c *Client) Detokenize(ctx context.Context, ids []int32) (string, error) {
	var r struct {
		Content *string `json:"content"`
	}
	if err := c.c.Post(ctx, "/detokenize", map[string]any{"tokens": ids}, &r); err != nil {
		return "", err
	}
	if r.Content == nil {
		return "", errors.New("POST /detokenize: answer has no \"content\"")
	}
	return *r.Content, nil
}

// piece is a /tokenize with_pieces entry: the piece is a string, or its
// bytes when it is not valid UTF-8.
type piece struct {
	ID    int32           `json:"id"`
	Piece json.RawMessage `json:"piece"`
}

func (p piece) text() (string, error) {
	var s string
	if err := json.Unmarshal(p.Piece, &s); err == nil {
		return s, nil
	}
	var bs []int
	if err := json.Unmarshal(p.Piece, &bs); err != nil {
		return "", fmt.Errorf("id %d: piece %s is neither a string nor a byte list", p.ID, p.Piece)
	}
	b := make([]byte, len(bs))
	for i, v := range bs {
		if v < 0 || v > 255 {
			return "", fmt.Errorf("id %d: piece byte %d out of range", p.ID, v)
		}
		b[i] = byte(v)
	}
	return string(b), nil
}

// TokenTexts returns what each id reads as (token_to_piece with
// special=true: " the" for "▁the", "\n" for "<0x0A>", "<s>" for BOS) in one
// POST /tokenize of the ids with pieces. The server answers 500 for an id
// outside its vocabulary; check ids first.
func (c *Client) TokenTexts(ctx context.Context, ids []int32) ([]string, error) {
	var r struct {
		Tokens []piece `json:"tokens"`
	}
	in := map[string]any{"content": ids, "with_pieces": true}
	if err := c.c.Post(ctx, "/tokenize", in, &r); err != nil {
		return nil, err
	}
	if len(r.Tokens) != len(ids) {
		return nil, fmt.Errorf("POST /tokenize with pieces: %d pieces for %d ids", len(r.Tokens), len(ids))
	}
	out := make([]string, len(ids))
	for i, p := range r.Tokens {
		if p.ID != ids[i] {
			return nil, fmt.Errorf("POST /tokenize with pieces: entry %d is id %d, want %d", i, p.ID, ids[i])
		}
		s, err := p.text()
		if err != nil {
			return nil, fmt.Errorf("POST /tokenize with pieces: %w", err)
		}
		out[i] = s
	}
	return out, nil
}

// CompletionRequest is the body of POST /completion as the backend sends
// it: one next-token distribution after a token prompt, no generation
// beyond one token, sampling reduced to a greedy pick (the backend samples
// on its own side; the returned probabilities are the model's, before any
// sampler).
type CompletionRequest struct {
	// Prompt is the token ids.
	Prompt []int32 `json:"prompt"`
	// NPredict is 1.
	NPredict int `json:"n_predict"`
	// NProbs is how many candidates to return.
	NProbs int `json:"n_probs"`
	// CachePrompt lets the server reuse the KV cache of a common prefix.
	CachePrompt bool `json:"cache_prompt"`
	// Temperature 0 and no samplers: the cheapest pick.
	Temperature float64  `json:"temperature"`
	Samplers    []string `json:"samplers"`
	// PostSamplingProbs false: probabilities before sampling.
	PostSamplingProbs bool `json:"post_sampling_probs"`
	// IDSlot pins the request to a slot (-1: the server chooses).
	IDSlot int `json:"id_slot"`
}

// Prob is one candidate of a /completion answer.
type Prob struct {
	// ID is the token id.
	ID int32 `json:"id"`
	// Token is its text (special=false: "" for control tokens), cut to
	// valid UTF-8.
	Token string `json:"token"`
	// Bytes are the text's bytes.
	Bytes []int `json:"bytes"`
	// LogProb is the natural-log probability (-3.4e38 for 0).
	LogProb *float64 `json:"logprob"`
}

// CompletionResponse is the part of a /completion answer the backend reads.
type CompletionResponse struct {
	// Truncated is true when the server cut the prompt to fit its context.
	Truncated bool `json:"truncated"`
	// TokensEvaluated is how many prompt tokens the server read.
	TokensEvaluated int `json:"tokens_evaluated"`
	// TokensCached is how many tokens the slot's cache holds afterwards.
	TokensCached int `json:"tokens_cached"`
	// Probs has one entry per generated token.
	Probs []struct {
		Prob
		TopLogprobs []Prob `json:"top_logprobs"`
	} `json:"completion_probabilities"`
	// Timings are the server's own measurements.
	Timings struct {
		PromptN     int     `json:"prompt_n"`
		PromptMS    float64 `json:"prompt_ms"`
		PredictedN  int     `json:"predicted_n"`
		PredictedMS float64 `json:"predicted_ms"`
	} `json:"timings"`
}

// Completion sends one POST /completion.
func (c *Client) Completion(ctx context.Context, req CompletionRequest) (*CompletionResponse, error) {
	var r CompletionResponse
	if err := c.c.Post(ctx, "/completion", req, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// NextToken returns the candidates for the token after prompt: the top n
// of the model's distribution (before any sampler), in the server's order.
func (c *Client) NextToken(ctx context.Context, prompt []int32, n int) ([]Prob, error) {
	r, err := c.Completion(ctx, CompletionRequest{
		Prompt: prompt, NPredict: 1, NProbs: n, CachePrompt: true,
		Temperature: 0, Samplers: []string{}, IDSlot: -1,
	})
	if err != nil {
		return nil, err
	}
	if r.Truncated {
		return nil, fmt.Errorf("POST /completion: the server truncated the %d-token prompt to fit its context", len(prompt))
	}
	if len(r.Probs) == 0 {
		return nil, errors.New("POST /completion: answer has no completion_probabilities (does this server support n_probs?)")
	}
	top := r.Probs[0].TopLogprobs
	for i, p := range top {
		if p.LogProb == nil {
			return nil, fmt.Errorf("POST /completion: candidate %d (id %d) has no logprob (a server older than b4500 sends \"probs\")", i, p.ID)
		}
	}
	return top, nil
}

// specialText matches texts that look like control tokens: "<s>",
// "</s>", "<|im_end|>", "<｜begin▁of▁sentence｜>", "[INST]".
var specialText = regexp.MustCompile(`^(<[^<>\s]+>|<\|[^\s]*\|>|<｜[^\s]*｜>|\[/?[A-Z_]+\])$`)

// Vocabulary reads the served vocabulary of n ids and rebuilds its raw
// pieces (remote.RebuildVocab) with style ("spm", "bpe").
//
// Texts come from /tokenize with pieces over the ids, batch ids per
// request; a server that refuses id lists (4xx) is asked /detokenize per
// id instead (concurrently, conns at a time). Control tokens are those
// whose text is empty with special=false, read from one /completion with
// n_probs = n (one answer covering the whole vocabulary); where the server
// will not list every id, a token counts as control when its text looks
// like one ("<s>", "<|im_end|>") and that is logged as a warning.
func (c *Client) Vocabulary(ctx context.Context, n int, style string, batch, conns int) (*remote.Vocab, error) {
	if n <= 0 {
		return nil, fmt.Errorf("vocabulary of %d ids", n)
	}
	if batch <= 0 {
		batch = 4096
	}
	texts := make([]string, n)
	useDetok := false
	for lo := 0; lo < n; lo += batch {
		hi := min(lo+batch, n)
		ids := make([]int32, hi-lo)
		for i := range ids {
			ids[i] = int32(lo + i)
		}
		t, err := c.TokenTexts(ctx, ids)
		var he *remote.HTTPError
		if err != nil && errors.As(err, &he) && he.Status/100 == 4 && lo == 0 {
			c.log.Warn("llamacpp: server will not tokenize id lists; reading the vocabulary one /detokenize per id",
				"url", c.URL(), "ids", n, "error", he.Message)
			useDetok = true
			break
		}
		if err != nil {
			return nil, fmt.Errorf("vocabulary ids %d..%d: %w", lo, hi-1, err)
		}
		copy(texts[lo:], t)
	}
	if useDetok {
		err := remote.Each(ctx, n, max(conns, 1), func(ctx context.Context, i int) error {
			s, err := c.Detokenize(ctx, []int32{int32(i)})
			if err != nil {
				return fmt.Errorf("vocabulary id %d: %w", i, err)
			}
			texts[i] = s
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	control, err := c.controlFlags(ctx, texts)
	if err != nil {
		return nil, err
	}
	return remote.RebuildVocab(style, texts, control)
}

// controlFlags marks the ids that read as "" with special=false but not
// with special=true, from one /completion listing every id.
func (c *Client) controlFlags(ctx context.Context, texts []string) ([]bool, error) {
	n := len(texts)
	control := make([]bool, n)
	probs, err := c.NextToken(ctx, []int32{0}, n)
	var he *remote.HTTPError
	if err != nil && !(errors.As(err, &he) && he.Status/100 == 4) {
		return nil, fmt.Errorf("vocabulary control tokens: %w", err)
	}
	if err == nil && len(probs) == n {
		for _, p := range probs {
			if p.ID < 0 || int(p.ID) >= n {
				return nil, fmt.Errorf("vocabulary control tokens: id %d outside [0, %d)", p.ID, n)
			}
			if !control[p.ID] && len(p.Bytes) == 0 && texts[p.ID] != "" {
				control[p.ID] = true
			}
		}
		for i := range control {
			if control[i] {
				return control, nil
			}
		}
		// No empty text at all: a server started with --special renders
		// control tokens as text; fall through to the text rule.
	}
	c.log.Warn("llamacpp: the server does not list the whole vocabulary in one answer; control tokens are guessed from their text",
		"url", c.URL(), "ids", n)
	for i, t := range texts {
		control[i] = specialText.MatchString(t) && !strings.HasPrefix(t, "<0x")
	}
	return control, nil
}
