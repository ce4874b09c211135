package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/baco-go/baco/backends/remote"
)

// call carries what go-openai's request types cannot say, through the
// request context to the doer: fields to set in the JSON body (a token-id
// prompt, vendor fields), and the raw answer, kept for the members
// go-openai does not decode (llama.cpp's token ids, vLLM's max_model_len).
type call struct {
	set map[string]any
	raw []byte
}

type callKey struct{}

func withCall(ctx context.Context, c *call) context.Context {
	return context.WithValue(ctx, callKey{}, c)
}

// doer is the go-openai HTTPDoer: it patches request bodies, bounds and
// keeps answer bodies, and sends everything through one tuned client.
type doer struct {
	hc      *http.Client
	maxBody int64
}

// Do sends req after setting the call's fields in its JSON body.
func (d *doer) Do(req *http.Request) (*http.Response, error) {
	c, _ := req.Context().Value(callKey{}).(*call)
	if c != nil && len(c.set) > 0 && req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("patching the request body: %w", err)
		}
		for k, v := range c.set {
			m[k] = v
		}
		if b, err = json.Marshal(m); err != nil {
			return nil, fmt.Errorf("patching the request body: %w", err)
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
		req.ContentLength = int64(len(b))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	resp, err := d.hc.Do(req)
	if err != nil {
		return nil, err
	}
	b, err := remote.ReadLimited(resp.Body, d.maxBody)
	resp.Body.Close()
	if err != nil {
		if errors.Is(err, remote.ErrTooLarge) {
			return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL, err)
		}
		return nil, &remote.Transient{Err: fmt.Errorf("%s %s: reading the answer: %w", req.Method, req.URL, err)}
	}
	if c != nil {
		c.raw = b
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}

// classify turns go-openai's errors into the remote package's: an HTTP
// error with the server's message, transient for 429/5xx; a body that
// is not JSON says so.
func classify(method, target string, err error) error {
	if err == nil {
		return nil
	}
	var ae *goopenai.APIError
	var re *goopenai.RequestError
	var he *remote.HTTPError
	switch {
	case errors.As(err, &ae):
		he = &remote.HTTPError{Method: method, URL: target, Status: ae.HTTPStatusCode, Message: ae.Message}
	case errors.As(err, &re):
		he = &remote.HTTPError{Method: method, URL: target, Status: re.HTTPStatusCode, Message: remote.ServerMessage(re.Body)}
	default:
		var ue *url.Error
		var tr *remote.Transient
		switch {
		case errors.As(err, &ue), errors.As(err, &tr), errors.Is(err, remote.ErrTooLarge),
			errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded),
			errors.Is(err, goopenai.ErrCompletionUnsupportedModel), errors.Is(err, goopenai.ErrCompletionRequestPromptTypeNotSupported):
			return err
		}
		// Anything else comes from decoding a 2xx body.
		return fmt.Errorf("%s %s: malformed JSON answer: %v", method, target, err) // %v: a cut-short body must not read as transient
	}
	if remote.Retryable(he.Status) {
		return &remote.Transient{Err: he}
	}
	return he
}
