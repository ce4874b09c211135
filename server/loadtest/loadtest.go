// Package loadtest drives a running OpenAI-compatible server (bacoctl
// serve, or any other) with a fixed number of /v1/completions requests
// from concurrent clients and reports status counts, latency percentiles
// and aggregate token throughput. A run is bounded both in requests and in
// time.
package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options describe one load run.
type Options struct {
	// URL is the server's base URL, e.g. http://127.0.0.1:8080.
	URL string
	// APIKey is sent as a Bearer token when not empty.
	APIKey string
	// Model is the model id to ask for.
	Model string
	// Prompt is every request's prompt (default "Once upon a time").
	Prompt string
	// Clients is the number of concurrent clients (default 1).
	Clients int
	// Requests is the total number of requests (default Clients).
	Requests int
	// MaxTokens is each request's max_tokens (default 16).
	MaxTokens int
	// Temperature is each request's temperature (default 1); request i
	// uses seed i, so a run is reproducible.
	Temperature *float64
	// Stream asks for SSE streaming with a usage chunk.
	Stream bool
	// Timeout bounds the whole run (default 5 minutes): requests still
	// running then are cancelled and counted as errors.
	Timeout time.Duration
	// Client is the HTTP client (default: one with a transport sized for
	// Clients connections).
	Client *http.Client
}

// Report is the outcome of a run.
type Report struct {
	// Requests is the number of requests sent.
	Requests int
	// Status counts responses by HTTP status.
	Status map[int]int
	// Errors counts requests that got no HTTP response (transport errors,
	// the run's timeout) or a malformed body.
	Errors int
	// FirstError is the first of those errors, for diagnosis.
	FirstError error
	// RetryAfterMissing counts 429 responses without a Retry-After header.
	RetryAfterMissing int
	// CompletionTokens sums usage.completion_tokens of the 200 responses.
	CompletionTokens int
	// Elapsed is the wall time of the run.
	Elapsed time.Duration
	// Latencies are the 200 responses' latencies (to the last byte), sorted.
	Latencies []time.Duration
	// TTFT are the streamed 200 responses' times to the first text, sorted.
	TTFT []time.Duration
}

// OK is the number of 200 responses.
func (r *Report) OK() int { return r.Status[http.StatusOK] }

// ServerErrors counts 5xx responses.
func (r *Report) ServerErrors() int {
	n := 0
	for s, c := range r.Status {
		if s >= 500 {
			n += c
		}
	}
	return n
}

// Percentile returns the p-th percentile (0..100) of sorted durations by
// the nearest-rank method, 0 when empty.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

// TokensPerSecond is the aggregate completion-token throughput.
func (r *Report) TokensPerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.CompletionTokens) / r.Elapsed.Seconds()
}

// String summarises the run on one line.
func (r *Report) String() string {
	return fmt.Sprintf("%d requests: status %v, %d errors; p50 %s p99 %s; %d tokens in %s = %.1f tok/s",
		r.Requests, r.Status, r.Errors, Percentile(r.Latencies, 50).Round(time.Millisecond),
		Percentile(r.Latencies, 99).Round(time.Millisecond), r.CompletionTokens, r.Elapsed.Round(time.Millisecond), r.TokensPerSecond())
}

// result is one request's outcome.
type result struct {
	status     int
	tokens     int
	latency    time.Duration
	ttft       time.Duration
	retryAfter bool
	err        error
}

// Run sends opts.Requests requests from opts.Clients clients and waits for
// every answer (or the timeout).
func Run(ctx context.Context, opts Options) (*Report, error) {
	if opts.URL == "" || opts.Model == "" {
		return nil, errors.New("loadtest: URL and Model are required")
	}
	if opts.Clients <= 0 {
		opts.Clients = 1
	}
	if opts.Requests <= 0 {
		opts.Requests = opts.Clients
	}
	if opts.MaxTokens <= 0 {
		opts.MaxTokens = 16
	}
	if opts.Prompt == "" {
		opts.Prompt = "Once upon a time"
	}
	temp := 1.0
	if opts.Temperature != nil {
		temp = *opts.Temperature
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Minute
	}
	client := opts.Client
	if client == nil {
		tr := &http.Transport{MaxIdleConnsPerHost: opts.Clients, MaxConnsPerHost: opts.Clients}
		defer tr.CloseIdleConnections()
		client = &http.Client{Transport: tr}
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()

	var next atomic.Int64
	results := make([]result, opts.Requests)
	var wg sync.WaitGroup
	start := time.Now()
	for range opts.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= opts.Requests {
					return
				}
				body, _ := json.Marshal(map[string]any{
					"model": opts.Model, "prompt": opts.Prompt, "max_tokens": opts.MaxTokens, "temperature": temp,
					"seed": i, "stream": opts.Stream, "stream_options": streamOptions(opts.Stream),
				})
				results[i] = send(ctx, client, opts, body)
			}
		}()
	}
	wg.Wait()
	rep := &Report{Requests: opts.Requests, Status: map[int]int{}, Elapsed: time.Since(start)}
	for _, r := range results {
		switch {
		case r.err != nil:
			rep.Errors++
			if rep.FirstError == nil {
				rep.FirstError = r.err
			}
			continue
		case r.status == http.StatusTooManyRequests && !r.retryAfter:
			rep.RetryAfterMissing++
		}
		rep.Status[r.status]++
		if r.status == http.StatusOK {
			rep.CompletionTokens += r.tokens
			rep.Latencies = append(rep.Latencies, r.latency)
			if opts.Stream {
				rep.TTFT = append(rep.TTFT, r.ttft)
			}
		}
	}
	slices.Sort(rep.Latencies)
	slices.Sort(rep.TTFT)
	return rep, nil
}

func streamOptions(stream bool) any {
	if !stream {
		return nil
	}
	return map[string]bool{"include_usage": true}
}

// usageBody is what Run reads of a response or chunk.
type usageBody struct {
	Usage *struct {
		CompletionTokens int `json:"completion_tokens"`
	} `json:"usage"`
	Choices []struct {
		Text string `json:"text"`
	} `json:"choices"`
	Error *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// send runs one request.
func send(ctx context.Context, client *http.Client, opts Options, body []byte) result {
	t0 := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(opts.URL, "/")+"/v1/completions", bytes.NewReader(body))
	if err != nil {
		return result{err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	if opts.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+opts.APIKey)
	}
	resp, err := client.Do(req)
	if err != nil {
		return result{err: err}
	}
	defer resp.Body.Close()
	r := result{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After") != ""}
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		r.latency = time.Since(t0)
		return r
	}
	if !opts.Stream {
		var u usageBody
		if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&u); err != nil || u.Usage == nil {
			return result{err: fmt.Errorf("loadtest: response without usage: %v", err)}
		}
		r.tokens, r.latency = u.Usage.CompletionTokens, time.Since(t0)
		return r
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	done := false
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		if data == "[DONE]" {
			done = true
			break
		}
		var u usageBody
		if err := json.Unmarshal([]byte(data), &u); err != nil {
			return result{err: fmt.Errorf("loadtest: bad event %q: %w", data, err)}
		}
		if u.Error != nil {
			return result{err: fmt.Errorf("loadtest: error event: %s", u.Error.Message)}
		}
		if r.ttft == 0 && len(u.Choices) > 0 && u.Choices[0].Text != "" {
			r.ttft = time.Since(t0)
		}
		if u.Usage != nil {
			r.tokens = u.Usage.CompletionTokens
		}
	}
	if err := sc.Err(); err != nil || !done {
		return result{err: fmt.Errorf("loadtest: stream ended without [DONE]: %v", err)}
	}
	r.latency = time.Since(t0)
	return r
}
