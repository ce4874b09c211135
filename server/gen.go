package server

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/baco-go/baco/core/decode"
	"github.com/baco-go/baco/core/route"
	"github.com/baco-go/baco/core/sample"
	"github.com/baco-go/baco/server/oai"
)

// job is one prompt of an HTTP request: one decode request of n samples.
type job struct {
	index        int
	req          decode.Request
	promptTokens int    // the aligned model's prompt length
	echo         string // the prompt's text, for echo
	logprobs     bool   // record per-token log-probabilities
	// submitted and first time the request and its first token; first is
	// written on the batcher goroutine before the job's outcome is sent.
	submitted, first time.Time
}

// tokenMsg is one token handed from the batcher goroutine to the handler.
type tokenMsg struct {
	job  int
	ev   decode.Event
	stop bool          // the emitting model's end-of-sequence token
	lp   *tokenLogprob // nil without logprobs
}

// queue is an unbounded FIFO from OnToken (which must not block the batch)
// to the handler. It holds at most the request's own tokens.
type queue struct {
	mu     sync.Mutex
	items  []tokenMsg
	notify chan struct{}
}

func newQueue() *queue { return &queue{notify: make(chan struct{}, 1)} }

func (q *queue) push(m tokenMsg) {
	q.mu.Lock()
	q.items = append(q.items, m)
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

// drain appends every queued message to dst.
func (q *queue) drain(dst []tokenMsg) []tokenMsg {
	q.mu.Lock()
	dst = append(dst, q.items...)
	clear(q.items)
	q.items = q.items[:0]
	q.mu.Unlock()
	return dst
}

// outcome is one job's end.
type outcome struct {
	job int
	res *decode.Result
	err error
}

// run is the jobs of one HTTP request, submitted to the model's batcher.
type run struct {
	sv      *served
	jobs    []*job
	q       *queue
	out     chan outcome
	waiting int
}

// params are a request's sampling settings, shared by the three generation
// endpoints.
type params struct {
	n         int
	maxTokens int
	seed      uint64
	stop      []string
	base, al  sample.Params
	router    route.Router // nil: the pipeline's
	logprobs  int          // alternatives per token; -1: no logprobs
	stream    bool
	echo      bool
	withUsage bool // streamed usage chunk
}

// commonParams maps the shared OpenAI fields onto params.
func (sv *served) commonParams(c *oai.Common, defMaxTokens int) (params, *oai.Error) {
	p := params{n: c.NOrDefault(), maxTokens: defMaxTokens, stop: c.Stop, logprobs: -1, stream: c.Stream}
	if c.MaxTokens != nil {
		p.maxTokens = *c.MaxTokens
	}
	if c.Seed != nil {
		p.seed = uint64(*c.Seed)
	} else {
		p.seed = rand.Uint64()
	}
	sp := sample.Params{Temperature: 1, TopP: 1}
	if c.Temperature != nil {
		sp.Temperature = *c.Temperature
	}
	if c.TopP != nil {
		sp.TopP = *c.TopP
	}
	if c.TopK != nil {
		sp.TopK = *c.TopK
	}
	if c.MinP != nil {
		sp.MinP = *c.MinP
	}
	p.base, p.al = sp, sp
	if x := c.Baco; x != nil {
		if x.BaseTemperature != nil {
			p.base.Temperature = *x.BaseTemperature
		}
		if x.AlignedTemperature != nil {
			p.al.Temperature = *x.AlignedTemperature
		}
	}
	for _, s := range []sample.Params{p.base, p.al} {
		if err := s.Validate(); err != nil {
			return p, oai.Invalid("", "%v", err)
		}
	}
	if c.StreamOptions != nil {
		p.withUsage = c.StreamOptions.IncludeUsage
	}
	r, e := sv.requestRouter(c.Baco)
	if e != nil {
		return p, e
	}
	p.router = r
	return p, nil
}

// checkPrompt checks a prompt's ids against the vocabulary and context.
func (sv *served) checkPrompt(param string, ids []int32, model string, ctxLen int) *oai.Error {
	if len(ids) == 0 {
		return oai.Invalid(param, "%s: the prompt is empty (the %s model adds no BOS token): send some text or token ids", param, model)
	}
	vocab := sv.table.Len()
	for i, id := range ids {
		if id < 0 || int(id) >= vocab {
			return oai.Invalid(param, "%s: token %d at position %d is outside the vocabulary of %d", param, id, i, vocab)
		}
	}
	if ctxLen > 0 && len(ids) >= ctxLen {
		return oai.Invalid(param, "this model's maximum context length is %d tokens, but the %s model's prompt has %d tokens: shorten it",
			ctxLen, model, len(ids)).WithCode("context_length_exceeded")
	}
	return nil
}

// newJob builds the decode request of one prompt.
func (sv *served) newJob(index int, p *params, basePrompt, alPrompt []int32, param string) (*job, *oai.Error) {
	if e := sv.checkPrompt(param, basePrompt, "base", sv.baseInfo.ContextLen); e != nil {
		return nil, e
	}
	if e := sv.checkPrompt(param, alPrompt, "aligned", sv.alignedInfo.ContextLen); e != nil {
		return nil, e
	}
	j := &job{index: index, promptTokens: len(alPrompt), req: decode.Request{
		BasePrompt: basePrompt, AlignedPrompt: alPrompt, N: p.n, Seed: p.seed, MaxTokens: p.maxTokens,
		Stop: p.stop, BaseSampling: p.base, AlignedSampling: p.al, Router: p.router,
	}}
	if p.logprobs >= 0 {
		j.logprobs = true
		j.req.TopLogprobs = p.logprobs
	}
	return j, nil
}

// start submits every job; events flow to run.q when wantEvents (or when
// logprobs are asked for), and each job's end to run.out. The caller must
// call wait before returning.
func (s *Server) start(ctx context.Context, sv *served, jobs []*job, logprobs int, wantEvents bool) *run {
	r := &run{sv: sv, jobs: jobs, q: newQueue(), out: make(chan outcome, len(jobs)), waiting: len(jobs)}
	mm := s.metrics.perModel[sv.m.ID]
	for _, j := range jobs {
		j.submitted = time.Now()
		events := wantEvents || j.logprobs
		j.req.OnToken = func(ev decode.Event) {
			if int(ev.Source) < len(mm.tokens) {
				mm.tokens[ev.Source].Inc()
			}
			if ev.Sample == 0 && ev.Pos == 0 {
				// The prompt counts once the job runs (not when refused).
				now := time.Now()
				mm.prompt.Add(float64(j.promptTokens))
				j.first = now
				mm.ttft.Observe(now.Sub(j.submitted).Seconds())
			}
			if !events {
				return
			}
			m := tokenMsg{job: j.index, ev: ev, stop: sv.isStop(&ev)}
			if j.logprobs && !m.stop {
				m.lp = eventLogprob(&ev)
			}
			r.q.push(m)
		}
		go func() {
			res, err := sv.batcher.Submit(ctx, j.req)
			r.out <- outcome{job: j.index, res: res, err: err}
		}()
	}
	return r
}

// next returns the next job outcome.
func (r *run) next() outcome {
	o := <-r.out
	r.waiting--
	return o
}

// wait collects the outcomes not yet read; the caller has cancelled the
// jobs' context (or they all ended), so this returns promptly.
func (r *run) wait() {
	for ; r.waiting > 0; r.waiting-- {
		<-r.out
	}
}

// submitError maps a failed job to an error response; nil means the client
// went away and nothing should be written.
func (s *Server) submitError(sv *served, w http.ResponseWriter, reqCtx context.Context, err error) *oai.Error {
	switch {
	case errors.Is(err, decode.ErrQueueFull):
		s.metrics.perModel[sv.m.ID].queueFull.Inc()
		w.Header().Set("Retry-After", retryAfterSeconds(s.cfg.RetryAfter))
		return oai.NewError(http.StatusTooManyRequests, oai.TypeRateLimit, "", "queue_full",
			fmt.Sprintf("model %s is busy: its queue of %d requests is full; retry later", sv.m.ID, s.cfg.QueueLen))
	case errors.Is(err, decode.ErrBatcherClosed):
		return oai.NewError(http.StatusServiceUnavailable, oai.TypeUnavailable, "", "shutting_down", "the server is shutting down")
	case reqCtx.Err() != nil:
		return nil
	case errors.Is(err, context.DeadlineExceeded):
		return oai.NewError(http.StatusGatewayTimeout, oai.TypeTimeout, "", "timeout",
			fmt.Sprintf("the request ran past the server's timeout of %s", s.cfg.RequestTimeout))
	}
	s.log.Error("generation failed", "model", sv.m.ID, "err", err)
	return oai.NewError(http.StatusInternalServerError, oai.TypeServer, "", "", "generation failed: "+err.Error())
}

// piece is one token of a choice on its way out: its source entry, its
// offset in the choice's text and its logprob.
type piece struct {
	src  oai.TokenSource
	off  int
	stop bool
	lp   *tokenLogprob
}

// delta is what one release adds to a choice.
type delta struct {
	text   string
	pieces []piece
}

func (d *delta) empty() bool { return d.text == "" && len(d.pieces) == 0 }

// emitter turns a sample's tokens into releasable text. While streaming it
// holds back the text that may still become a stop string (the decoder
// cuts a stop string from the text only once it is complete) and any
// unfinished UTF-8 sequence, so streamed text always equals the final
// text; tokens are released whole.
type emitter struct {
	stops    []string
	all      strings.Builder
	pending  []piece
	released int
}

func (e *emitter) add(m *tokenMsg) {
	p := piece{src: oai.TokenSource{ID: m.ev.ID, Source: m.ev.Source.String()}, off: e.all.Len(), stop: m.stop, lp: m.lp}
	if !m.stop {
		p.src.Text = m.ev.Text
		e.all.WriteString(m.ev.Text)
	}
	e.pending = append(e.pending, p)
}

// release returns the tokens whose text can no longer change. With final
// set, text is the sample's final text and everything left is released,
// cut at the end of text.
func (e *emitter) release(final bool, text string) delta {
	var d delta
	all := e.all.String()
	limit := len(all)
	if final {
		if len(text) > len(all) || all[:len(text)] != text {
			// Not a prefix: trust the decoder's text and drop per-token detail.
			if len(text) > e.released {
				d.text = text[e.released:]
			}
			e.released = len(text)
			e.pending = e.pending[:0]
			return d
		}
		limit = len(text)
	} else {
		limit -= holdback(all, e.stops)
		// A token may complete a stop string (the decoder then ends the
		// sample): never release text from a stop string's start on.
		from := max(0, e.released-maxLen(e.stops))
		for _, st := range e.stops {
			if i := strings.Index(all[from:], st); st != "" && i >= 0 {
				limit = min(limit, from+i)
			}
		}
		limit = runeBoundary(all, limit)
	}
	n := 0
loop:
	for _, p := range e.pending {
		end := p.off + len(p.src.Text)
		switch {
		case end <= limit:
		case final && p.off < limit:
			p.src.Text = all[p.off:limit]
		case final:
			n++
			continue // wholly inside the cut stop string
		default:
			break loop
		}
		d.pieces = append(d.pieces, p)
		n++
	}
	e.pending = e.pending[n:]
	end := e.released
	if final {
		end = limit
	} else if len(d.pieces) > 0 {
		last := d.pieces[len(d.pieces)-1]
		end = last.off + len(last.src.Text)
	}
	if end > e.released {
		d.text = all[e.released:end]
		e.released = end
	}
	return d
}

func maxLen(ss []string) int {
	n := 0
	for _, s := range ss {
		n = max(n, len(s))
	}
	return n
}

// holdback is the length of the longest suffix of s that is a proper
// prefix of a stop string.
func holdback(s string, stops []string) int {
	h := 0
	for _, st := range stops {
		for k := min(len(st)-1, len(s)); k > h; k-- {
			if strings.HasSuffix(s, st[:k]) {
				h = k
				break
			}
		}
	}
	return h
}

// runeBoundary moves n back to the start of an unfinished UTF-8 sequence
// at the end of s[:n].
func runeBoundary(s string, n int) int {
	for i := n - 1; i >= 0 && i >= n-utf8.UTFMax; i-- {
		if utf8.RuneStart(s[i]) {
			if !utf8.FullRuneInString(s[i:n]) {
				return i
			}
			return n
		}
	}
	return n
}

// choiceStats are a finished sample's baco extension figures.
func choiceStats(smp *decode.Sample, pieces []piece) *oai.ChoiceExtension {
	share := smp.BaseShare()
	base, total := smp.BaseTokens, len(smp.Trace)
	x := &oai.ChoiceExtension{Tokens: sources(pieces), BaseShare: &share, BaseTokens: &base, TotalTokens: &total}
	return x
}

func sources(pieces []piece) []oai.TokenSource {
	out := make([]oai.TokenSource, len(pieces))
	for i, p := range pieces {
		out[i] = p.src
	}
	return out
}

// finishedChoice replays a finished sample through an emitter: the
// non-streaming path, with the same token/text alignment as streaming.
func finishedChoice(sv *served, smp *decode.Sample, lps map[int]*tokenLogprob, stops []string) delta {
	e := &emitter{stops: stops}
	for i := range smp.Trace {
		ev := smp.Trace[i]
		m := tokenMsg{ev: ev, stop: sv.isStop(&ev), lp: lps[ev.Pos]}
		e.add(&m)
	}
	return e.release(true, smp.Text)
}

// usage sums a request's token counts.
func usage(jobs []*job, results []*decode.Result) oai.Usage {
	var u oai.Usage
	for i, j := range jobs {
		u.PromptTokens += j.promptTokens
		if results[i] != nil {
			for _, s := range results[i].Samples {
				u.CompletionTokens += len(s.Trace)
			}
		}
	}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	return u
}

// logprobIndex holds a request's logprobs by job, sample and position.
type logprobIndex map[[2]int]map[int]*tokenLogprob

// collect waits for every job of a non-streamed request. On the first
// failure it returns the error response, or nil results and a nil error
// when the client went away.
func (s *Server) collect(w http.ResponseWriter, reqCtx context.Context, r *run) ([]*decode.Result, logprobIndex, *oai.Error) {
	results := make([]*decode.Result, len(r.jobs))
	for r.waiting > 0 {
		o := r.next()
		if o.err != nil {
			return nil, nil, s.submitError(r.sv, w, reqCtx, o.err)
		}
		results[o.job] = o.res
	}
	var lps logprobIndex
	if msgs := r.q.drain(nil); len(msgs) > 0 {
		lps = logprobIndex{}
		for _, m := range msgs {
			k := [2]int{m.job, m.ev.Sample}
			if lps[k] == nil {
				lps[k] = map[int]*tokenLogprob{}
			}
			lps[k][m.ev.Pos] = m.lp
		}
	}
	return results, lps, nil
}
