// Package llamacpp is the backend for models served by llama.cpp's HTTP
// server (llama-server): every step is one POST /completion per sequence
// with the sequence's whole token list as the prompt, n_predict 1, n_probs
// candidates and cache_prompt, so the server re-reads only what its slot's
// KV cache does not already hold. Sequences live on the client (the server
// keeps no per-client state), Fork copies a token list, Truncate cuts it.
//
// The vocabulary the core checks (raw pieces, fingerprint, control ids) is
// read from the server once at New and cached, or from a local GGUF file
// with the same vocabulary when Options.VocabFile names one.
package llamacpp

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/baco-go/baco/backends/remote"
	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/core/dist"
)

// MaxVocab bounds the vocabulary size a server may claim (the largest
// real vocabularies hold about 262k tokens): the backend allocates per id.
const MaxVocab = 1 << 21

// DefaultTopK is how many candidates a step returns when its StepInput
// asks for 0.
const DefaultTopK = 40

// Options configure New.
type Options struct {
	// URL is llama-server's base URL, e.g. "http://127.0.0.1:8080".
	URL string
	// APIKey is sent as a Bearer token when set (llama-server --api-key).
	APIKey string
	// Name is the model name Info reports (default: the file name of the
	// served model).
	Name string
	// TopK is the number of candidates when a StepInput asks for 0
	// (default DefaultTopK).
	TopK int
	// FullDist asks for every id of the vocabulary at every step: Step
	// then returns Dist.Full and the exact entropy, at the cost of an
	// answer the size of the vocabulary (fine for small vocabularies,
	// about 15 MB a step for 150k tokens).
	FullDist bool
	// Concurrency is the most requests in flight (default: the server's
	// slot count, between 1 and 64). Run llama-server with -np at least
	// the batch size so each sequence keeps a slot, and its KV cache.
	Concurrency int
	// VocabFile is an optional local GGUF with the served model's
	// vocabulary (the served file, or a vocabulary-only GGUF). It gives
	// exact pieces, control and user-defined ids without reading the
	// vocabulary over HTTP; New checks it against the server.
	VocabFile string
	// Retry is the retry policy (zero value: remote.DefaultRetry).
	Retry remote.Retry
	// LoadWait is how long New waits for a server that is still loading
	// its model (HTTP 503 on /health; default 2 minutes).
	LoadWait time.Duration
	// HTTP is the HTTP client (default: one with a transport tuned for
	// Concurrency connections).
	HTTP *http.Client
	// Logger receives warnings (default slog.Default()).
	Logger *slog.Logger
}

// Backend is a model served by llama-server. It implements
// backend.Backend and is safe for concurrent use.
type Backend struct {
	c      *Client
	info   backend.Info
	vocab  *remote.Vocab
	decode func([]int32) string
	remote.SeqOps
	seqs *remote.Seqs
	topK int
	full bool
	conc int
	log  *slog.Logger
}

var _ backend.Backend = (*Backend)(nil)

// New connects to the server and negotiates: it waits for /health, reads
// /props (context size, slots, chat template, BOS/EOS texts) and
// /v1/models (vocabulary size and type), then the vocabulary. Any failure
// is returned; nothing is retried beyond the retry policy.
func New(ctx context.Context, o Options) (*Backend, error) {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	if o.TopK < 0 || o.Concurrency < 0 {
		return nil, fmt.Errorf("llamacpp: negative TopK %d or Concurrency %d", o.TopK, o.Concurrency)
	}
	conc := o.Concurrency
	c, err := NewClient(ClientOptions{URL: o.URL, APIKey: o.APIKey, HTTP: o.HTTP, Conns: max(conc, 8), Retry: o.Retry, Logger: log})
	if err != nil {
		return nil, err
	}
	fail := func(what string, err error) (*Backend, error) {
		return nil, fmt.Errorf("llamacpp: %s: %s: %w", c.URL(), what, err)
	}
	wait := o.LoadWait
	if wait <= 0 {
		wait = 2 * time.Minute
	}
	if err := c.Health(ctx, wait); err != nil {
		return fail("health", err)
	}
	props, err := c.Props(ctx)
	if err != nil {
		return fail("props", err)
	}
	models, err := c.Models(ctx)
	if err != nil {
		return fail("models", err)
	}
	if len(models) == 0 || models[0].Meta == nil || models[0].Meta.NVocab <= 0 {
		return fail("models", fmt.Errorf("GET /v1/models gives no vocabulary size (meta.n_vocab); is this a llama.cpp server?"))
	}
	meta := models[0].Meta
	if meta.NVocab > MaxVocab {
		return fail("models", fmt.Errorf("the server claims %d tokens, more than the %d baco accepts", meta.NVocab, MaxVocab))
	}
	nctx := props.DefaultGenerationSettings.NCtx
	if nctx < 2 {
		return fail("props", fmt.Errorf("context size %d per slot", nctx))
	}
	if conc == 0 {
		conc = min(max(props.TotalSlots, 1), 64)
	}
	b := &Backend{c: c, seqs: remote.NewSeqs(), topK: o.TopK, full: o.FullDist, conc: conc, log: log}
	b.SeqOps = remote.SeqOps{Name: "llamacpp", Seqs: b.seqs}
	if b.topK == 0 {
		b.topK = DefaultTopK
	}
	style := Style(meta.VocabType)
	info := backend.Info{
		Name:         o.Name,
		Arch:         "",
		VocabSize:    meta.NVocab,
		ChatTemplate: props.ChatTemplate,
		Tokenizer:    style,
		// The server must keep room to sample one token: it refuses (or,
		// with context shift, silently truncates) a prompt of n_ctx tokens.
		ContextLen: nctx - 1,
		Caps: backend.Caps{
			FullDist:     o.FullDist,
			MaxTopK:      meta.NVocab,
			TokenPrompts: true,
		},
	}
	if info.Name == "" {
		info.Name = path.Base(strings.ReplaceAll(models[0].ID, "\\", "/"))
	}
	if o.VocabFile != "" {
		lv, err := remote.ReadGGUFVocab(o.VocabFile)
		if err != nil {
			return fail("vocabulary", err)
		}
		if err := b.checkLocal(ctx, lv, meta.NVocab); err != nil {
			return fail("vocabulary", err)
		}
		b.vocab, b.decode = lv.Vocab, lv.Decode
		info.BOS, info.EOS, info.AddBOS, info.StopIDs, info.TextIDs = lv.BOS, lv.EOS, lv.AddBOS, lv.Stop, lv.TextIDs
		info.Tokenizer = lv.Style
	} else {
		v, err := c.Vocabulary(ctx, meta.NVocab, style, 4096, conc)
		if err != nil {
			return fail("vocabulary", err)
		}
		b.vocab, b.decode = v, v.Decode
		info.BOS = v.FindText(props.BOSToken)
		info.EOS = v.FindText(props.EOSToken)
		info.StopIDs = v.StopIDs(info.EOS)
		bos, err := c.Tokenize(ctx, "", true)
		if err != nil {
			return fail("tokenize", err)
		}
		info.AddBOS = len(bos) == 1 && bos[0] == info.BOS && info.BOS >= 0
	}
	if isFallbackTemplate(info.ChatTemplate) && b.vocab.Find("<|im_start|>") < 0 {
		// llama-server reports its built-in ChatML template for a model
		// that has none; a vocabulary without ChatML's markers cannot
		// be meant for it.
		info.ChatTemplate = ""
	}
	info.ControlIDs = b.vocab.ControlIDs()
	info.Fingerprint = b.vocab.Fingerprint()
	b.info = info
	log.Info("llamacpp: connected", "url", c.URL(), "model", info.Name, "vocab", info.VocabSize,
		"tokenizer", info.Tokenizer, "context", info.ContextLen, "slots", props.TotalSlots,
		"concurrency", conc, "full_dist", o.FullDist, "build", props.BuildInfo)
	return b, nil
}

// checkLocal compares a local vocabulary with the server's: same size, and
// the same text for up to 1024 ids spread over the vocabulary.
func (b *Backend) checkLocal(ctx context.Context, lv *remote.LocalVocab, n int) error {
	if lv.Size() != n {
		return fmt.Errorf("%s has %d tokens, the server's model %d", lv.Path, lv.Size(), n)
	}
	ids := remote.Spread(n, 1024)
	texts, err := b.c.TokenTexts(ctx, ids)
	if err != nil {
		return fmt.Errorf("checking %s against the server: %w", lv.Path, err)
	}
	for i, id := range ids {
		if texts[i] != lv.Texts[id] {
			return fmt.Errorf("%s does not match the server's vocabulary: id %d reads %q there, %q in the file",
				lv.Path, id, texts[i], lv.Texts[id])
		}
	}
	return nil
}

// Client returns the underlying API client.
func (b *Backend) Client() *Client { return b.c }

// Vocab returns the cached vocabulary (must not be modified).
func (b *Backend) Vocab() *remote.Vocab { return b.vocab }

// Info describes the served model.
func (b *Backend) Info(ctx context.Context) (backend.Info, error) {
	info := b.info
	info.StopIDs = append([]int32(nil), info.StopIDs...)
	info.ControlIDs = append([]int32(nil), info.ControlIDs...)
	info.TextIDs = append([]int32(nil), info.TextIDs...)
	return info, nil
}

// Tokenize asks the server. llama-server always recognises control-token
// text, so with parseSpecial false a text holding one (e.g. "<s>") is an
// error rather than a silently different tokenisation.
func (b *Backend) Tokenize(ctx context.Context, text string, addSpecial, parseSpecial bool) ([]int32, error) {
	if !parseSpecial {
		for _, id := range b.info.ControlIDs {
			if t := b.vocab.Texts[id]; t != "" && strings.Contains(text, t) {
				return nil, fmt.Errorf("llamacpp: tokenize: the text holds %q, which llama-server always reads as control token %d; tokenize with special-token parsing or remove it", t, id)
			}
		}
	}
	ids, err := b.c.Tokenize(ctx, text, addSpecial)
	if err != nil {
		return nil, fmt.Errorf("llamacpp: tokenize: %w", err)
	}
	if err := b.checkIDs(ids); err != nil {
		return nil, fmt.Errorf("llamacpp: tokenize: server answer: %w", err)
	}
	return ids, nil
}

// Detokenize turns ids into text from the cached vocabulary (no request)
// as llama.cpp's llama_detokenize does without special tokens — what the
// embedded engine does — rather than /detokenize, which writes control
// tokens out and keeps the first word's leading space.
func (b *Backend) Detokenize(ctx context.Context, ids []int32) (string, error) {
	if err := b.checkIDs(ids); err != nil {
		return "", fmt.Errorf("llamacpp: detokenize: %w", err)
	}
	return b.decode(ids), nil
}

// Pieces returns raw pieces from the cached vocabulary (no request).
func (b *Backend) Pieces(ctx context.Context, ids []int32) ([]string, error) {
	if err := b.checkIDs(ids); err != nil {
		return nil, fmt.Errorf("llamacpp: pieces: %w", err)
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = b.vocab.Pieces[id]
	}
	return out, nil
}

func (b *Backend) checkIDs(ids []int32) error {
	n := b.info.VocabSize
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
		b.c.c.HTTP.CloseIdleConnections()
	}
	return nil
}

// Step sends one /completion per input (per appended token with
// AllPositions), Concurrency at a time, and commits the inputs' tokens
// only when all succeed. TopK above the vocabulary size is cut to it.
func (b *Backend) Step(ctx context.Context, in []backend.StepInput) ([]backend.StepOutput, error) {
	lim := remote.Limits{Vocab: b.info.VocabSize, ContextLen: b.info.ContextLen}
	out, err := remote.StepBatch(ctx, b.seqs, in, lim, b.conc, b.stepTopK, b.query)
	if err != nil {
		return nil, fmt.Errorf("llamacpp: %w", err)
	}
	return out, nil
}

func (b *Backend) stepTopK(k int) int {
	if k == 0 {
		k = b.topK
	}
	return min(k, b.info.VocabSize)
}

// query asks for the distribution after q.Tokens.
func (b *Backend) query(ctx context.Context, q remote.Query) (dist.Dist, error) {
	n := q.TopK
	if b.full {
		n = b.info.VocabSize
	}
	probs, err := b.c.NextToken(ctx, q.Tokens, n)
	if err != nil {
		return dist.Dist{}, err
	}
	cands := make([]remote.Cand, len(probs))
	for i, p := range probs {
		cands[i] = remote.Cand{ID: p.ID, LogProb: *p.LogProb}
	}
	d, err := remote.BuildDist(cands, q.TopK, b.info.VocabSize, b.full, b.vocab.Pieces)
	if err != nil {
		return dist.Dist{}, fmt.Errorf("POST /completion: %w", err)
	}
	return d, nil
}

// fallbackTemplate is the ChatML template llama-server (c392e509) reports
// for a model whose file has none.
const fallbackTemplate = "{%- for message in messages -%}\n  {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>\n' -}}\n{%- endfor -%}\n{%- if add_generation_prompt -%}\n  {{- '<|im_start|>assistant\n' -}}\n{%- endif -%}"

func isFallbackTemplate(s string) bool { return s == fallbackTemplate }
