package remote

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultMaxBody bounds a response body (64 MiB: a full-vocabulary
// answer for a 150k-token vocabulary is about 15 MiB).
const DefaultMaxBody = 64 << 20

// NewTransport returns an HTTP transport tuned for many small requests to
// one server: kept-alive connections, up to conns idle per host (so a
// batch of conns concurrent steps reuses its connections), bounded dial
// and TLS handshake times, and (on Linux) immediate ACKs, so a server
// that sends an answer in two segments without TCP_NODELAY is not held
// up by delayed ACKs (see quickAckConn).
func NewTransport(conns int) *http.Transport {
	conns = max(conns, 1)
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return wrapConn(c), nil
		},
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          2 * conns,
		MaxIdleConnsPerHost:   conns,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// HTTPError is a non-2xx answer: the status and the server's own message.
type HTTPError struct {
	// Method and URL name the request.
	Method, URL string
	// Status is the HTTP status code.
	Status int
	// Message is the server's message (its JSON "error.message" or
	// "error", else the start of the body).
	Message string
}

// Error says the request, the status and the server's message.
func (e *HTTPError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.URL, e.Status, msg)
}

// ServerMessage extracts a readable message from an error body: the
// "error.message", "error" or "message" member of a JSON object, else the
// body itself, trimmed and cut to 500 bytes.
func ServerMessage(body []byte) string {
	var v struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
		Detail  any             `json:"detail"`
	}
	if json.Unmarshal(body, &v) == nil {
		var obj struct {
			Message string `json:"message"`
		}
		var s string
		switch {
		case len(v.Error) > 0 && json.Unmarshal(v.Error, &obj) == nil && obj.Message != "":
			return cut(obj.Message)
		case len(v.Error) > 0 && json.Unmarshal(v.Error, &s) == nil && s != "":
			return cut(s)
		case v.Message != "":
			return cut(v.Message)
		case v.Detail != nil:
			b, _ := json.Marshal(v.Detail)
			return cut(string(b))
		}
	}
	return cut(string(body))
}

func cut(s string) string {
	s = strings.TrimSpace(strings.ToValidUTF8(s, "\uFFFD"))
	if len(s) > 500 {
		s = s[:500] + "…"
	}
	return s
}

// Client sends JSON requests to one server with retries.
type Client struct {
	// HTTP is the client used for every request (its transport is reused).
	HTTP *http.Client
	// Base is the server's base URL, without a trailing slash.
	Base string
	// Header is added to every request (e.g. Authorization).
	Header http.Header
	// Retry is the retry policy.
	Retry Retry
	// MaxBody bounds a response body (0: DefaultMaxBody).
	MaxBody int64
}

// ParseBase checks a server base URL (http or https, with a host) and
// returns it without a trailing slash.
func ParseBase(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", fmt.Errorf("server URL %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("server URL %q: scheme must be http or https", raw)
	}
	if u.Host == "" {
		return "", fmt.Errorf("server URL %q: no host", raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// Get decodes the JSON answer of GET path into out.
func (c *Client) Get(ctx context.Context, path string, out any) error {
	return c.Do(ctx, http.MethodGet, path, nil, out)
}

// Post sends in as JSON to path and decodes the JSON answer into out.
func (c *Client) Post(ctx context.Context, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("POST %s: encode request: %w", path, err)
	}
	return c.Do(ctx, http.MethodPost, path, body, out)
}

// Do sends one request with retries: connection failures, 5xx and 429
// answers and bodies cut short are retried with backoff; other 4xx
// answers fail at once with the server's message; a 2xx body that is not
// valid JSON for out fails at once.
func (c *Client) Do(ctx context.Context, method, path string, body []byte, out any) error {
	u := c.Base + path
	return c.Retry.Do(ctx, "", func(ctx context.Context) error {
		b, err := c.roundTrip(ctx, method, u, body)
		if err != nil {
			return err
		}
		if out == nil {
			return nil
		}
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: malformed JSON answer (%v): %s", method, u, err, cut(string(b[:min(len(b), 200)])))
		}
		return nil
	})
}

// roundTrip sends one request (no retries) and returns the body of a 2xx answer;
// see Do for the errors.
func (c *Client) roundTrip(ctx context.Context, method, u string, body []byte) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, u, err)
	}
	for k, vs := range c.Header {
		req.Header[k] = vs
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err // *url.Error: transient unless ctx is done
	}
	defer resp.Body.Close()
	b, err := ReadLimited(resp.Body, c.MaxBody)
	if err != nil {
		if errors.Is(err, ErrTooLarge) {
			return nil, fmt.Errorf("%s %s: %w", method, u, err)
		}
		return nil, &Transient{Err: fmt.Errorf("%s %s: reading the answer: %w", method, u, err)}
	}
	if resp.StatusCode/100 == 2 {
		return b, nil
	}
	he := &HTTPError{Method: method, URL: u, Status: resp.StatusCode, Message: ServerMessage(b)}
	if Retryable(resp.StatusCode) {
		return nil, &Transient{Err: he, After: retryAfter(resp.Header)}
	}
	return nil, he
}

// Retryable reports whether an HTTP status is worth retrying: 429, 408
// and 5xx except 501 and 505.
func Retryable(status int) bool {
	switch {
	case status == http.StatusTooManyRequests, status == http.StatusRequestTimeout:
		return true
	case status == http.StatusNotImplemented, status == http.StatusHTTPVersionNotSupported:
		return false
	}
	return status >= 500 && status <= 599
}

// ErrTooLarge is wrapped by the error for a body over its limit.
var ErrTooLarge = errors.New("answer body too large")

// ReadLimited reads r to the end, failing once more than limit bytes
// arrive (limit <= 0: DefaultMaxBody).
func ReadLimited(r io.Reader, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: over %d bytes", ErrTooLarge, limit)
	}
	return b, nil
}
