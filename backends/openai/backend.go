// Package openai is the backend for models behind an OpenAI-compatible
// completions API — vLLM, SGLang, llama.cpp's /v1, Ollama, `bacoctl
// serve`, OpenAI itself — through github.com/sashabaranov/go-openai.
//
// Every step is one POST /v1/completions per sequence with max_tokens 1,
// logprobs k and temperature 0: the answer's top-k log-probabilities are
// the step's distribution. The whole sequence is sent each time, as token
// ids where the server accepts them (vLLM, SGLang, llama.cpp and bacoctl
// serve do) and as text otherwise (OpenAI, Ollama), where the server's
// re-tokenisation may drift from the ids the decoder holds. Only the top
// k are known, so the entropy is estimated from them and the tail mass
// (dist.EstimateEntropy) and flagged.
//
// The vocabulary (pieces, fingerprint, control ids, tokenisation) comes
// from a local GGUF with the model's vocabulary (Options.VocabFile: the
// served GGUF, or a vocabulary-only GGUF made with llama.cpp's
// convert_hf_to_gguf.py --vocab-only), or from a llama.cpp server's
// tokenizer endpoints (Options.Tokenizer "llamacpp").
package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/baco-go/baco/backends/llamacpp"
	"github.com/baco-go/baco/backends/remote"
	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/core/dist"
)

// PromptMode says how a sequence is sent.
type PromptMode string

const (
	// PromptAuto sends token ids and falls back to text when the server
	// refuses them at New.
	PromptAuto PromptMode = "auto"
	// PromptTokens sends token ids (New fails if the server refuses them).
	PromptTokens PromptMode = "tokens"
	// PromptText sends the sequence's text: the server tokenises it again,
	// and its tokens may differ from the decoder's (re-tokenisation drift).
	PromptText PromptMode = "text"
)

// DefaultMaxTopK is the top-logprobs cap assumed when Options.MaxTopK is 0:
// vLLM's default --max-logprobs, and OpenAI's and Ollama's cap.
const DefaultMaxTopK = 20

// Options configure New.
type Options struct {
	// BaseURL is the API root, e.g. "http://127.0.0.1:8000/v1".
	BaseURL string
	// APIKey is sent as a Bearer token when set.
	APIKey string
	// Organization is sent as OpenAI-Organization when set.
	Organization string
	// Model is the served model id (default: the first of /v1/models).
	Model string
	// Name is the model name Info reports (default: Model; the file name
	// when Model is a GGUF path, as llama-server lists it).
	Name string
	// MaxTopK is the most top logprobs the server returns (default
	// DefaultMaxTopK; vLLM: its --max-logprobs).
	MaxTopK int
	// TopK is the number of candidates when a StepInput asks for 0
	// (default MaxTopK). Larger requests are cut to MaxTopK, with a warning.
	TopK int
	// Prompts says how sequences are sent (default PromptAuto).
	Prompts PromptMode
	// Extra fields are set in every completions request body, e.g. vLLM's
	// {"top_k": 1} or an Ollama {"options": {...}}. The backend's own
	// fields (model, prompt, max_tokens, logprobs, temperature) win.
	Extra map[string]any
	// VocabFile is a local GGUF with the served model's vocabulary: exact
	// pieces, control ids and tokenisation, done locally.
	VocabFile string
	// Tokenizer "llamacpp" reads the vocabulary and tokenises through a
	// llama.cpp server's /tokenize and /detokenize at TokenizerURL
	// (default: BaseURL without its /v1). Ignored with VocabFile.
	Tokenizer string
	// TokenizerURL is where Tokenizer "llamacpp" is served.
	TokenizerURL string
	// ContextLen is the model's context length, when the server does not
	// say (vLLM's /v1/models does: max_model_len). 0: unknown, the server
	// refuses what does not fit.
	ContextLen int
	// Concurrency is the most requests in flight (default 8).
	Concurrency int
	// Retry is the retry policy (zero value: remote.DefaultRetry).
	Retry remote.Retry
	// HTTP is the HTTP client (default: one with a transport tuned for
	// Concurrency connections).
	HTTP *http.Client
	// Logger receives warnings (default slog.Default()).
	Logger *slog.Logger
}

// Backend is a model behind an OpenAI-compatible server. It implements
// backend.Backend and is safe for concurrent use.
type Backend struct {
	cli   *goopenai.Client
	hc    *http.Client
	base  string
	model string
	retry remote.Retry
	extra map[string]any
	log   *slog.Logger

	info   backend.Info
	vocab  *remote.Vocab
	encode func(ctx context.Context, text string, addSpecial, parseSpecial bool) ([]int32, error)
	decode func(ids []int32) string
	closer func() error

	remote.SeqOps
	seqs     *remote.Seqs
	topK     int
	maxTopK  int
	conc     int
	tokens   bool // prompts as ids
	idsField bool // send return_tokens_as_token_ids
	keys     keyKind
	clampLog sync.Once
}

var _ backend.Backend = (*Backend)(nil)

// New connects and negotiates: it loads the vocabulary, finds the model
// in /v1/models, and sends one completion to learn whether the server
// takes token-id prompts, names candidates by id or by text, and returns
// MaxTopK of them.
func New(ctx context.Context, o Options) (*Backend, error) {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	base, err := remote.ParseBase(o.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("openai: %w", err)
	}
	switch {
	case o.MaxTopK < 0 || o.TopK < 0 || o.Concurrency < 0 || o.ContextLen < 0:
		return nil, fmt.Errorf("openai: negative MaxTopK, TopK, Concurrency or ContextLen")
	case o.Prompts != "" && o.Prompts != PromptAuto && o.Prompts != PromptTokens && o.Prompts != PromptText:
		return nil, fmt.Errorf("openai: prompts %q: want auto, tokens or text", o.Prompts)
	case o.VocabFile == "" && o.Tokenizer != "llamacpp":
		if o.Tokenizer != "" {
			return nil, fmt.Errorf("openai: tokenizer %q: want \"llamacpp\" (or give a vocabulary file)", o.Tokenizer)
		}
		return nil, errors.New("openai: no vocabulary: set a vocabulary file (a GGUF with the model's vocabulary) or tokenizer \"llamacpp\"")
	}
	b := &Backend{base: base, model: o.Model, extra: o.Extra, log: log, seqs: remote.NewSeqs(),
		maxTopK: o.MaxTopK, conc: o.Concurrency, retry: o.Retry}
	b.SeqOps = remote.SeqOps{Name: "openai", Seqs: b.seqs}
	if b.maxTopK == 0 {
		b.maxTopK = DefaultMaxTopK
	}
	if b.conc == 0 {
		b.conc = 8
	}
	if b.retry == (remote.Retry{}) {
		b.retry = remote.DefaultRetry
	}
	b.hc = o.HTTP
	if b.hc == nil {
		b.hc = &http.Client{Transport: remote.NewTransport(b.conc)}
	}
	cfg := goopenai.DefaultConfig(o.APIKey)
	cfg.BaseURL = base
	cfg.OrgID = o.Organization
	cfg.HTTPClient = &doer{hc: b.hc}
	b.cli = goopenai.NewClientWithConfig(cfg)

	fail := func(what string, err error) (*Backend, error) {
		if b.closer != nil {
			b.closer()
		}
		return nil, fmt.Errorf("openai: %s: %s: %w", base, what, err)
	}
	info, err := b.loadVocab(ctx, o)
	if err != nil {
		return fail("vocabulary", err)
	}
	ctxLen, err := b.findModel(ctx)
	if err != nil {
		return fail("models", err)
	}
	if o.ContextLen > 0 {
		ctxLen = o.ContextLen
	}
	if info.ContextLen == 0 || (ctxLen > 0 && ctxLen < info.ContextLen) {
		info.ContextLen = ctxLen
	}
	b.info = info
	if err := b.negotiate(ctx, o.Prompts); err != nil {
		return fail("negotiation", err)
	}
	b.topK = min(o.TopK, b.maxTopK)
	if b.topK == 0 {
		b.topK = b.maxTopK
	}
	info.Name = o.Name
	if info.Name == "" {
		info.Name = b.model
		if strings.HasSuffix(b.model, ".gguf") { // llama-server lists the file's path
			info.Name = path.Base(strings.ReplaceAll(b.model, "\\", "/"))
		}
	}
	info.Caps = backend.Caps{MaxTopK: b.maxTopK, TokenPrompts: b.tokens}
	b.info = info
	if !b.tokens {
		log.Warn("openai: the server takes text prompts only: each step re-tokenises the sequence's text, and the server's tokens may differ from the decoder's (re-tokenisation drift)",
			"url", base, "model", b.model)
	}
	if b.keys == keysText {
		log.Warn("openai: the server names candidates by text; they are mapped back to ids through the vocabulary, and ids that read the same text are merged",
			"url", base, "model", b.model)
	}
	log.Info("openai: connected", "url", base, "model", b.model, "vocab", info.VocabSize, "context", info.ContextLen,
		"token_prompts", b.tokens, "candidates_by", b.keys.String(), "max_top_k", b.maxTopK, "concurrency", b.conc)
	return b, nil
}

// loadVocab reads the vocabulary from the file or the tokenizer server.
func (b *Backend) loadVocab(ctx context.Context, o Options) (backend.Info, error) {
	if o.VocabFile != "" {
		lv, err := remote.ReadGGUFVocab(o.VocabFile)
		if err != nil {
			return backend.Info{}, err
		}
		b.vocab, b.decode = lv.Vocab, lv.Decode
		enc := lv.Encode
		b.encode = func(_ context.Context, text string, addSpecial, parseSpecial bool) ([]int32, error) {
			return enc(text, addSpecial, parseSpecial), nil
		}
		return backend.Info{
			VocabSize: lv.Size(), Fingerprint: lv.Fingerprint(), BOS: lv.BOS, EOS: lv.EOS, StopIDs: lv.Stop,
			AddBOS: lv.AddBOS, ChatTemplate: lv.ChatTemplate, Tokenizer: lv.Style,
			ControlIDs: lv.ControlIDs(), TextIDs: lv.TextIDs,
		}, nil
	}
	url := o.TokenizerURL
	if url == "" {
		url = strings.TrimSuffix(b.base, "/v1")
	}
	tb, err := llamacpp.New(ctx, llamacpp.Options{URL: url, APIKey: o.APIKey, HTTP: b.hc, Retry: b.retry, Logger: b.log})
	if err != nil {
		return backend.Info{}, err
	}
	b.closer = tb.Close
	b.vocab = tb.Vocab()
	b.decode = func(ids []int32) string { s, _ := tb.Detokenize(context.Background(), ids); return s }
	b.encode = tb.Tokenize
	info, _ := tb.Info(ctx)
	info.Name, info.Caps = "", backend.Caps{}
	return info, nil
}

// findModel checks the model against /v1/models (or picks the first) and
// returns the context length the listing gives (vLLM's max_model_len),
// or 0.
func (b *Backend) findModel(ctx context.Context) (int, error) {
	c := &call{}
	var list goopenai.ModelsList
	err := b.retry.Do(ctx, "", func(ctx context.Context) error {
		var err error
		list, err = b.cli.ListModels(withCall(ctx, c))
		return classify(http.MethodGet, b.base+"/models", err)
	})
	var he *remote.HTTPError
	if err != nil && errors.As(err, &he) && he.Status == http.StatusNotFound && b.model != "" {
		b.log.Warn("openai: the server has no /v1/models; using the configured model", "model", b.model)
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var ids []string
	for _, m := range list.Models {
		ids = append(ids, m.ID)
	}
	if len(ids) == 0 {
		return 0, errors.New("GET /models lists no model")
	}
	if b.model == "" {
		b.model = ids[0]
	} else if !slices.Contains(ids, b.model) {
		return 0, fmt.Errorf("model %q is not served; the server has %s", b.model, strings.Join(ids, ", "))
	}
	var raw struct {
		Data []struct {
			ID          string `json:"id"`
			MaxModelLen int    `json:"max_model_len"`
		} `json:"data"`
	}
	if json.Unmarshal(c.raw, &raw) == nil {
		for _, m := range raw.Data {
			if m.ID == b.model {
				return max(m.MaxModelLen, 0), nil
			}
		}
	}
	return 0, nil
}

// negotiate sends one completion per prompt style until the server
// accepts one: token ids with vLLM's return_tokens_as_token_ids, token
// ids alone, then text (as mode allows). A 4xx moves to the next style;
// anything else fails.
func (b *Backend) negotiate(ctx context.Context, mode PromptMode) error {
	type try struct{ tokens, idsField bool }
	var tries []try
	if mode != PromptText {
		tries = append(tries, try{true, true}, try{true, false})
	}
	if mode == "" || mode == PromptAuto || mode == PromptText {
		tries = append(tries, try{false, true}, try{false, false})
	}
	probe := []int32{b.firstToken()}
	var last error
	for _, t := range tries {
		b.tokens, b.idsField = t.tokens, t.idsField
		k := min(b.maxTopK, b.vocab.Size())
		cands, texts, kind, collapsed, err := b.complete(ctx, probe, k)
		var he *remote.HTTPError
		if err != nil && errors.As(err, &he) && he.Status/100 == 4 {
			last = err
			b.log.Debug("openai: negotiation try refused", "token_prompts", t.tokens, "token_ids", t.idsField, "error", err)
			continue
		}
		if err != nil {
			return err
		}
		if len(cands) < k && !collapsed {
			return fmt.Errorf("asked for %d top logprobs, the server returned %d: set max_top_k to the server's cap", k, len(cands))
		}
		if err := b.checkTexts(cands, texts); err != nil {
			return err
		}
		b.keys = kind
		if kind == keysIDs {
			b.idsField = t.idsField
		} else {
			b.idsField = false // the server ignored it
		}
		return nil
	}
	return fmt.Errorf("the server refused every prompt style: %w", last)
}

// checkTexts compares the texts a server gave for candidate ids with the
// vocabulary's (a vocabulary file that is not the served model's).
func (b *Backend) checkTexts(cands []remote.Cand, texts []string) error {
	for i, t := range texts {
		id := cands[i].ID
		if id < 0 || int(id) >= b.vocab.Size() {
			return fmt.Errorf("the server's token %d (%q) is outside the vocabulary of %d tokens: the vocabulary is not the served model's", id, t, b.vocab.Size())
		}
		want := b.vocab.Texts[id]
		if t == want || t == "" || !utf8.ValidString(want) {
			continue // control and unknown tokens read as "" there; invalid UTF-8 is cut
		}
		return fmt.Errorf("the vocabulary does not match the served model's: token %d reads %q on the server, %q here", id, t, want)
	}
	return nil
}

// firstToken is the probe prompt: the first normal token (it reads as
// text too).
func (b *Backend) firstToken() int32 {
	for i, c := range b.vocab.Control {
		if !c && b.vocab.Texts[i] != "" && b.vocab.Pieces[i] != "<unk>" && !strings.HasPrefix(b.vocab.Pieces[i], "<0x") {
			return int32(i)
		}
	}
	return 0
}

// complete sends one completion for the token list and returns the
// candidates of the next token.
func (b *Backend) complete(ctx context.Context, toks []int32, k int) (cands []remote.Cand, texts []string, kind keyKind, collapsed bool, err error) {
	set := make(map[string]any, len(b.extra)+4)
	for key, v := range b.extra {
		set[key] = v
	}
	if b.tokens {
		set["prompt"] = toks
	} else {
		set["prompt"] = b.decode(toks)
	}
	set["temperature"] = 0
	set["logprobs"] = k
	if b.idsField {
		set["return_tokens_as_token_ids"] = true
	}
	req := goopenai.CompletionRequest{Model: b.model, Prompt: "", MaxTokens: 1, LogProbs: k}
	c := &call{set: set}
	err = b.retry.Do(ctx, "", func(ctx context.Context) error {
		_, err := b.cli.CreateCompletion(withCall(ctx, c), req)
		return classify(http.MethodPost, b.base+"/completions", err)
	})
	if err != nil {
		return nil, nil, 0, false, err
	}
	cands, texts, kind, collapsed, err = parseAnswer(c.raw, b.vocab.ByText)
	if err != nil {
		return nil, nil, 0, false, fmt.Errorf("POST %s/completions: %w", b.base, err)
	}
	return cands, texts, kind, collapsed, nil
}

// Info describes the served model.
func (b *Backend) Info(ctx context.Context) (backend.Info, error) {
	info := b.info
	info.StopIDs = slices.Clone(info.StopIDs)
	info.ControlIDs = slices.Clone(info.ControlIDs)
	info.TextIDs = slices.Clone(info.TextIDs)
	return info, nil
}

// Tokenize tokenises locally (vocabulary file) or on the tokenizer server.
func (b *Backend) Tokenize(ctx context.Context, text string, addSpecial, parseSpecial bool) ([]int32, error) {
	ids, err := b.encode(ctx, text, addSpecial, parseSpecial)
	if err != nil {
		return nil, fmt.Errorf("openai: tokenize: %w", err)
	}
	return ids, nil
}

// Detokenize turns ids into text (llama.cpp's llama_detokenize without
// special tokens).
func (b *Backend) Detokenize(ctx context.Context, ids []int32) (string, error) {
	if err := b.checkIDs(ids); err != nil {
		return "", fmt.Errorf("openai: detokenize: %w", err)
	}
	return b.decode(ids), nil
}

// Pieces returns raw pieces from the vocabulary (no request).
func (b *Backend) Pieces(ctx context.Context, ids []int32) ([]string, error) {
	if err := b.checkIDs(ids); err != nil {
		return nil, fmt.Errorf("openai: pieces: %w", err)
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = b.vocab.Pieces[id]
	}
	return out, nil
}

func (b *Backend) checkIDs(ids []int32) error {
	n := b.vocab.Size()
	for i, id := range ids {
		if id < 0 || int(id) >= n {
			return fmt.Errorf("token %d: id %d outside the vocabulary [0, %d)", i, id, n)
		}
	}
	return nil
}

// Close forgets every sequence and closes idle connections.
func (b *Backend) Close() error {
	if b.seqs.Close() {
		b.hc.CloseIdleConnections()
		if b.closer != nil {
			return b.closer()
		}
	}
	return nil
}

// Step sends one completion per input, Concurrency at a time, and commits
// the inputs' tokens only when all succeed.
func (b *Backend) Step(ctx context.Context, in []backend.StepInput) ([]backend.StepOutput, error) {
	lim := remote.Limits{Vocab: b.info.VocabSize, ContextLen: b.info.ContextLen}
	out, err := remote.StepBatch(ctx, b.seqs, in, lim, b.conc, b.stepTopK, b.query)
	if err != nil {
		return nil, fmt.Errorf("openai: %w", err)
	}
	return out, nil
}

func (b *Backend) stepTopK(k int) int {
	if k == 0 {
		k = b.topK
	}
	if k > b.maxTopK {
		b.clampLog.Do(func() {
			b.log.Warn("openai: more candidates asked than the server returns; cutting to its cap",
				"asked", k, "max_top_k", b.maxTopK, "model", b.model)
		})
		k = b.maxTopK
	}
	return min(k, b.info.VocabSize)
}

func (b *Backend) query(ctx context.Context, q remote.Query) (dist.Dist, error) {
	cands, _, _, collapsed, err := b.complete(ctx, q.Tokens, q.TopK)
	if err != nil {
		return dist.Dist{}, err
	}
	k := q.TopK
	if collapsed {
		k = min(k, len(cands)) // texts shared by several ids came back once
	}
	d, err := remote.BuildDist(cands, k, b.info.VocabSize, false, b.vocab.Pieces)
	if err != nil {
		return dist.Dist{}, fmt.Errorf("POST %s/completions: %w", b.base, err)
	}
	return d, nil
}
