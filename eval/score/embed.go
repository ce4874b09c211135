package score

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/baco-go/baco/core/backend"
)

// Embedder turns texts into vectors for the semantic diversity measures.
type Embedder interface {
	// Name identifies the embedder and its model (stored with the scores so
	// a changed embedder is noticed on resume).
	Name() string
	// Embed returns one vector per text, in order; an empty text gets nil.
	Embed(ctx context.Context, texts []string) ([][]float64, error)
}

// OpenAIEmbedder calls an OpenAI-compatible /v1/embeddings endpoint.
type OpenAIEmbedder struct {
	client *openai.Client
	model  string
	url    string
}

// NewOpenAIEmbedder returns an embedder for the API at baseURL (e.g.
// "http://localhost:8000/v1") and model, authenticating with apiKey when
// it is not empty.
func NewOpenAIEmbedder(baseURL, model, apiKey string) (*OpenAIEmbedder, error) {
	if baseURL == "" || model == "" {
		return nil, errors.New("score: an embeddings endpoint needs both a URL and a model")
	}
	cfg := openai.DefaultConfig(apiKey)
	cfg.BaseURL = baseURL
	cfg.HTTPClient = &http.Client{Timeout: 5 * time.Minute}
	return &OpenAIEmbedder{client: openai.NewClientWithConfig(cfg), model: model, url: baseURL}, nil
}

// Name is "openai:<model>@<url>".
func (e *OpenAIEmbedder) Name() string { return "openai:" + e.model + "@" + e.url }

// Embed sends the non-empty texts in one request.
func (e *OpenAIEmbedder) Embed(ctx context.Context, texts []string) ([][]float64, error) {
	out := make([][]float64, len(texts))
	var idx []int
	var in []string
	for i, t := range texts {
		if t != "" {
			idx = append(idx, i)
			in = append(in, t)
		}
	}
	if len(in) == 0 {
		return out, nil
	}
	res, err := e.client.CreateEmbeddings(ctx, openai.EmbeddingRequestStrings{Input: in, Model: openai.EmbeddingModel(e.model)})
	if err != nil {
		return nil, fmt.Errorf("score: embeddings from %s (model %s): %w", e.url, e.model, err)
	}
	if len(res.Data) != len(in) {
		return nil, fmt.Errorf("score: embeddings from %s: %d vectors for %d texts", e.url, len(res.Data), len(in))
	}
	for k, d := range res.Data {
		j := k
		if d.Index >= 0 && d.Index < len(in) {
			j = d.Index
		}
		if len(d.Embedding) == 0 {
			return nil, fmt.Errorf("score: embeddings from %s: empty vector for text %d", e.url, j)
		}
		v := make([]float64, len(d.Embedding))
		for i, x := range d.Embedding {
			v[i] = float64(x)
		}
		out[idx[j]] = v
	}
	return out, nil
}

// ModelEmbedder is the offline embedder: it runs a GGUF model (any backend
// that returns full next-token distributions) over each text, BOS first,
// and averages the next-token probability vectors of the positions after
// the text's tokens — the model's mean predictive distribution over the
// text, a "bag of predicted words" whose length is the vocabulary size.
// It stands in for mean-pooled final hidden states, which the backend
// interface does not expose (docs/eval.md explains the choice: pooled
// centred log-probabilities, an exact linear image of the pooled hidden
// states, are dominated by the vocabulary prior and barely separate
// unrelated texts, while pooled probabilities do).
//
// When the backend can give hidden states itself (HiddenStateEmbedder: the
// embedded engine run in process), the embedding is the mean-pooled final
// hidden state of the text's tokens instead, named "gguf-hidden-mean".
type ModelEmbedder struct {
	be     backend.Backend
	hidden HiddenStateEmbedder
	name   string
}

// HiddenStateEmbedder is implemented by backends that can return the mean
// over a token sequence of their final hidden state (engine.Engine).
type HiddenStateEmbedder interface {
	// Embed pools over ids, after reading prefix (e.g. BOS) as context.
	Embed(ctx context.Context, prefix, ids []int32) ([]float32, error)
}

// NewModelEmbedder checks that be returns full distributions at every
// position.
func NewModelEmbedder(ctx context.Context, be backend.Backend) (*ModelEmbedder, error) {
	info, err := be.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("score: embedding model info: %w", err)
	}
	if !info.Caps.FullDist || !info.Caps.AllPositions {
		return nil, fmt.Errorf("score: model %q cannot embed offline: it must return full distributions at every position (a gguf model does); configure an embeddings endpoint instead", info.Name)
	}
	if h, ok := be.(HiddenStateEmbedder); ok {
		return &ModelEmbedder{be: be, hidden: h, name: "gguf-hidden-mean:" + info.Name + ":" + info.Fingerprint}, nil
	}
	return &ModelEmbedder{be: be, name: "gguf-prob-pool:" + info.Name + ":" + info.Fingerprint}, nil
}

// Name is "gguf-hidden-mean:<model>:<vocab fingerprint>" or
// "gguf-prob-pool:<model>:<vocab fingerprint>".
func (m *ModelEmbedder) Name() string { return m.name }

// Embed runs each text through the model.
func (m *ModelEmbedder) Embed(ctx context.Context, texts []string) ([][]float64, error) {
	out := make([][]float64, len(texts))
	for i, t := range texts {
		if t == "" {
			continue
		}
		v, err := m.embed(ctx, t)
		if err != nil {
			return nil, fmt.Errorf("score: embed text %d: %w", i, err)
		}
		out[i] = v
	}
	return out, nil
}

func (m *ModelEmbedder) embed(ctx context.Context, text string) ([]float64, error) {
	withBOS, err := m.be.Tokenize(ctx, text, true, false)
	if err != nil {
		return nil, err
	}
	plain, err := m.be.Tokenize(ctx, text, false, false)
	if err != nil {
		return nil, err
	}
	skip := len(withBOS) - len(plain) // the BOS position(s): not the text's
	if len(plain) == 0 {
		return nil, nil
	}
	if m.hidden != nil {
		v, err := m.hidden.Embed(ctx, withBOS[:skip], withBOS[skip:])
		if err != nil {
			return nil, err
		}
		out := make([]float64, len(v))
		for j, x := range v {
			out[j] = float64(x)
		}
		return out, nil
	}
	seq, err := m.be.Open(ctx)
	if err != nil {
		return nil, err
	}
	defer m.be.Free(context.WithoutCancel(ctx), seq)
	var sum []float64
	n := 0
	for lo := 0; lo < len(withBOS); lo += Chunk {
		hi := min(lo+Chunk, len(withBOS))
		o, err := m.be.Step(ctx, []backend.StepInput{{Seq: seq, Tokens: withBOS[lo:hi], TopK: 1, AllPositions: true}})
		if err != nil {
			return nil, err
		}
		if len(o) != 1 || len(o[0].Dists) != hi-lo {
			return nil, fmt.Errorf("step returned %d distributions for %d tokens", len(o[0].Dists), hi-lo)
		}
		for k, d := range o[0].Dists {
			if lo+k < skip {
				continue
			}
			if d.Full == nil {
				return nil, errors.New("the model returned no full distribution")
			}
			if sum == nil {
				sum = make([]float64, len(d.Full))
			}
			for j, x := range d.Full {
				sum[j] += math.Exp(float64(x))
			}
			n++
		}
	}
	for j := range sum {
		sum[j] /= float64(n)
	}
	return sum, nil
}
