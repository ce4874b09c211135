package decode

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/core/dist"
	"github.com/baco-go/baco/core/route"
	"github.com/baco-go/baco/core/sample"
	"github.com/baco-go/baco/core/tokenclass"
)

// model is one backend's state within one request.
type model struct {
	role   string // "base" or "aligned"
	be     backend.Backend
	info   backend.Info
	prompt []int32
	params sample.Params
	stops  map[int32]bool

	root      backend.SeqID
	rootReady bool
	rootDist  dist.Dist
	opened    []backend.SeqID // every sequence opened, freed at the end
}

// mseq is one sample's sequence inside one backend. The sequence is created
// (forked from the prefilled prompt) the first time the model is needed;
// until then the sample's tokens are simply not sent.
type mseq struct {
	open    bool
	id      backend.SeqID
	pending []int32 // tokens appended since the last Step
	dist    dist.Dist
	valid   bool // dist is the distribution after every appended token
	steps   int
}

// seq is one sample being generated.
type seq struct {
	rs        *reqState
	idx       int
	m         [2]mseq // indexed by route.Source (Aligned, Base)
	gen       []int32
	text      strings.Builder
	prev      route.Source
	baseCount int
	rRoute    *rand.Rand
	rSample   *rand.Rand
	done      bool
	out       Sample
}

// reqState is one request inside a batch.
type reqState struct {
	ctx    context.Context
	req    *Request
	router route.Router
	models [2]*model // indexed by route.Source
	seqs   []*seq
	live   int   // samples not finished
	err    error // set when the request failed
}

// batch steps the sequences of one or more requests together. It is used
// by a single goroutine at a time.
type batch struct {
	d       *Decoder
	sampler sample.Sampler
	views   []route.View
	dec     []route.Decision
	active  []*seq
	group   []*seq
}

// Generate runs one request to completion (or until ctx is cancelled) and
// returns every sample. Samples share one prefill per model through Fork.
func (d *Decoder) Generate(ctx context.Context, req Request) (*Result, error) {
	rs, err := d.newReqState(ctx, req)
	if err != nil {
		return nil, err
	}
	b := &batch{d: d}
	defer rs.release(d)
	for rs.live > 0 {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("decode: %w", err)
		}
		b.active = b.active[:0]
		for _, s := range rs.seqs {
			if !s.done {
				b.active = append(b.active, s)
			}
		}
		if err := b.step(ctx); err != nil {
			return nil, err
		}
	}
	if rs.err != nil {
		return nil, rs.err
	}
	return rs.result(), nil
}

// newReqState validates a request and prepares its samples.
func (d *Decoder) newReqState(ctx context.Context, req Request) (*reqState, error) {
	if req.N <= 0 {
		req.N = 1
	}
	if req.MaxTokens < 0 {
		return nil, fmt.Errorf("decode: max tokens %d: must be >= 0", req.MaxTokens)
	}
	// The zero Params is greedy decoding: an unset TopP means no top-p.
	for _, p := range []*sample.Params{&req.BaseSampling, &req.AlignedSampling} {
		if p.TopP == 0 {
			p.TopP = 1
		}
	}
	if err := req.BaseSampling.Validate(); err != nil {
		return nil, fmt.Errorf("decode: base sampling: %w", err)
	}
	if err := req.AlignedSampling.Validate(); err != nil {
		return nil, fmt.Errorf("decode: aligned sampling: %w", err)
	}
	rs := &reqState{ctx: ctx, req: &req, router: d.cfg.Router}
	if req.Router != nil {
		rs.router = req.Router
	}
	rs.models[route.Base] = newModel(d, route.Base, req.BasePrompt, req.BaseSampling)
	rs.models[route.Aligned] = newModel(d, route.Aligned, req.AlignedPrompt, req.AlignedSampling)
	for _, m := range rs.models {
		if len(m.prompt) == 0 {
			return nil, fmt.Errorf("decode: the %s model's prompt is empty (it needs at least one token, e.g. BOS)", m.role)
		}
		if m.info.ContextLen > 0 && len(m.prompt) >= m.info.ContextLen {
			return nil, fmt.Errorf("decode: the %s model's prompt has %d tokens, the context holds %d", m.role, len(m.prompt), m.info.ContextLen)
		}
		for _, id := range m.prompt {
			if id < 0 || int(id) >= m.info.VocabSize {
				return nil, fmt.Errorf("decode: the %s model's prompt holds token %d, outside the vocabulary of %d", m.role, id, m.info.VocabSize)
			}
		}
	}
	for i := 0; i < req.N; i++ {
		s := &seq{rs: rs, idx: i, prev: route.Aligned,
			rRoute: sample.NewRNG(req.Seed, i, sample.StreamRouter), rSample: sample.NewRNG(req.Seed, i, sample.StreamSampler)}
		s.out.Index = i
		rs.seqs = append(rs.seqs, s)
	}
	rs.live = req.N
	return rs, nil
}

// result collects the finished samples.
func (rs *reqState) result() *Result {
	res := &Result{BasePromptTokens: len(rs.req.BasePrompt), AlignedPromptTokens: len(rs.req.AlignedPrompt)}
	for _, s := range rs.seqs {
		s.out.BaseSteps, s.out.AlignedSteps = s.m[route.Base].steps, s.m[route.Aligned].steps
		res.Samples = append(res.Samples, s.out)
	}
	return res
}

func newModel(d *Decoder, r route.Source, prompt []int32, p sample.Params) *model {
	be, role, info := d.model(r)
	m := &model{role: role, be: be, info: info, prompt: prompt, params: p, stops: map[int32]bool{}}
	for _, id := range info.StopIDs {
		m.stops[id] = true
	}
	if info.EOS >= 0 {
		m.stops[info.EOS] = true
	}
	return m
}

// release frees every sequence the request opened, even after cancellation.
func (rs *reqState) release(d *Decoder) {
	ctx := context.WithoutCancel(rs.ctx)
	for _, m := range rs.models {
		for _, id := range m.opened {
			if err := m.be.Free(ctx, id); err != nil {
				d.log.Debug("free sequence", "model", m.role, "seq", id, "err", err)
			}
		}
		m.opened = nil
	}
}

// step generates one token for every active sequence (b.active), which
// may belong to several requests with different routers.
func (b *batch) step(ctx context.Context) error {
	var want [2][]*seq
	for _, s := range b.active {
		needs := s.rs.router.Needs()
		if needs.Base {
			want[route.Base] = append(want[route.Base], s)
		}
		if needs.Aligned {
			want[route.Aligned] = append(want[route.Aligned], s)
		}
	}
	if err := b.ensure(ctx, want); err != nil {
		return err
	}
	// Views for the routers.
	b.views = b.views[:0]
	for _, s := range b.active {
		pos := len(s.gen)
		v := route.View{
			Sample: s.idx, Pos: pos, PromptLen: len(s.rs.models[route.Aligned].prompt),
			Prev: s.prev, U: s.rRoute.Float64(),
			BaseTop: route.Top{ID: -1}, AlignedTop: route.Top{ID: -1},
		}
		if pos > 0 {
			v.BaseFrac = float64(s.baseCount) / float64(pos)
		}
		if ms := &s.m[route.Base]; ms.valid {
			v.Base = &ms.dist
			v.BaseTop = b.top(&ms.dist)
		}
		if ms := &s.m[route.Aligned]; ms.valid {
			v.Aligned = &ms.dist
			v.AlignedTop = b.top(&ms.dist)
		}
		b.views = append(b.views, v)
	}
	if cap(b.dec) < len(b.views) {
		b.dec = make([]route.Decision, len(b.views))
	}
	b.dec = b.dec[:len(b.views)]
	// One Decide per request: the sequences of a request are consecutive
	// and share its router.
	for lo := 0; lo < len(b.active); {
		rs := b.active[lo].rs
		r := rs.router
		hi := lo + 1
		for hi < len(b.active) && b.active[hi].rs == rs {
			hi++
		}
		if err := r.Decide(ctx, b.views[lo:hi], b.dec[lo:hi]); err != nil {
			// A router's failure fails its own request only.
			rs.fail(fmt.Errorf("decode: router %s: %w", r.Name(), err))
		}
		lo = hi
	}
	// Second phase: the distributions the decision needs.
	want[0], want[1] = want[0][:0], want[1][:0]
	gating := b.d.cfg.Boundary == BoundaryWord
	for i, s := range b.active {
		if s.rs.err != nil {
			continue
		}
		w := b.dec[i].Weight
		if math.IsNaN(w) || w < 0 || w > 1 {
			s.rs.fail(fmt.Errorf("decode: router %s returned base weight %v for sample %d at position %d: want a value in [0,1]",
				s.rs.router.Name(), w, s.idx, len(s.gen)))
			continue
		}
		src := b.dec[i].Source()
		switch {
		case src == route.Mixed:
			want[route.Base] = append(want[route.Base], s)
			want[route.Aligned] = append(want[route.Aligned], s)
		case gating && len(s.gen) > 0 && src != s.prev && s.prev != route.Mixed:
			want[src] = append(want[src], s)
			want[s.prev] = append(want[s.prev], s)
		default:
			want[src] = append(want[src], s)
		}
	}
	if err := b.ensure(ctx, want); err != nil {
		return err
	}
	for i, s := range b.active {
		if s.rs.err != nil {
			continue
		}
		if err := b.emit(s, b.dec[i].Weight, gating); err != nil {
			return err
		}
	}
	return nil
}

// fail ends a request with err; its sequences are not stepped again.
func (rs *reqState) fail(err error) {
	if rs.err != nil {
		return
	}
	rs.err = err
	for _, s := range rs.seqs {
		s.done = true
	}
	rs.live = 0
}

// top describes the most likely token of d.
func (b *batch) top(d *dist.Dist) route.Top {
	id := d.TopID()
	t := route.Top{ID: id}
	if tab := b.d.table; id >= 0 && int(id) < tab.Len() {
		t.Piece, t.Class, t.WordStart = tab.Text[id], tab.Class[id], tab.WordStart[id]
	}
	return t
}

// emit samples the token of one sequence, appends it everywhere and applies
// the stop rules.
func (b *batch) emit(s *seq, w float64, gating bool) error {
	rs := s.rs
	src := route.Decision{Weight: w}.Source()
	ev := Event{Sample: s.idx, Pos: len(s.gen), Weight: w}
	if gating && len(s.gen) > 0 && src != route.Mixed && src != s.prev && s.prev != route.Mixed {
		if top := s.m[s.prev].dist.TopID(); top >= 0 && int(top) < b.d.table.Len() && !b.d.table.WordStart[top] {
			src, ev.Gated = s.prev, true
			ev.Weight = 0
			if src == route.Base {
				ev.Weight = 1
			}
		}
	}
	u := s.rSample.Float64()
	var (
		tok int32
		err error
	)
	switch src {
	case route.Mixed:
		bm, am := rs.models[route.Base], rs.models[route.Aligned]
		tok, err = b.sampler.SampleMixture(&s.m[route.Base].dist, &s.m[route.Aligned].dist, w, bm.params, am.params, u)
	default:
		tok, err = b.sampler.Sample(&s.m[src].dist, rs.models[src].params, u)
	}
	if err != nil {
		return fmt.Errorf("decode: sample %d position %d: sampling from %s: %w", s.idx, len(s.gen), src, err)
	}
	ev.ID, ev.Source = tok, src
	if src == route.Mixed {
		ev.LogProb, ev.Top = mixtureLogprobs(&s.m[route.Base].dist, &s.m[route.Aligned].dist, w, tok, rs.req.TopLogprobs)
	} else {
		ev.LogProb, ev.Top = singleLogprobs(&s.m[src].dist, tok, rs.req.TopLogprobs)
	}
	if int(tok) < b.d.table.Len() {
		ev.Text = b.d.table.Text[tok]
		ev.Special = b.d.table.Class[tok] == tokenclass.Special
	}
	for _, r := range []route.Source{route.Base, route.Aligned} {
		if ms := &s.m[r]; ms.valid {
			ev.Base, ev.Aligned = signalsInto(ev.Base, ev.Aligned, r, &ms.dist)
		}
	}
	s.out.Trace = append(s.out.Trace, ev)
	if src == route.Base {
		s.baseCount++
		s.out.BaseTokens++
	}
	s.prev = src
	if rs.req.OnToken != nil {
		rs.req.OnToken(ev)
	}
	// Stop token of the emitting model.
	stop := false
	switch src {
	case route.Mixed:
		stop = rs.models[route.Base].stops[tok] || rs.models[route.Aligned].stops[tok]
	default:
		stop = rs.models[src].stops[tok]
	}
	if stop {
		s.finish(FinishStop)
		return nil
	}
	s.gen = append(s.gen, tok)
	s.out.IDs = s.gen
	start := max(0, s.text.Len()-maxLen(rs.req.Stop))
	s.text.WriteString(ev.Text)
	for r := range s.m {
		if ms := &s.m[r]; ms.open {
			ms.pending = append(ms.pending, tok)
			ms.valid = false
		}
	}
	if i, ok := findStop(s.text.String(), start, rs.req.Stop); ok {
		s.finish(FinishStop)
		s.out.Text = s.out.Text[:i]
		return nil
	}
	if rs.req.MaxTokens > 0 && len(s.gen) >= rs.req.MaxTokens {
		s.finish(FinishLength)
		return nil
	}
	for _, m := range rs.models {
		if m.info.ContextLen > 0 && len(m.prompt)+len(s.gen) >= m.info.ContextLen {
			s.finish(FinishLength)
			return nil
		}
	}
	return nil
}

func (s *seq) finish(reason string) {
	s.done = true
	s.rs.live--
	s.out.Finish = reason
	s.out.Text = s.text.String()
}

func signalsInto(b, a *Signal, r route.Source, d *dist.Dist) (*Signal, *Signal) {
	sig := &Signal{P1: d.P1(), Entropy: d.Entropy, Estimated: d.EntropyEstimated, Top: d.TopID()}
	if r == route.Base {
		return sig, a
	}
	return b, sig
}

func maxLen(ss []string) int {
	n := 0
	for _, s := range ss {
		n = max(n, len(s))
	}
	return n
}

// findStop looks for the earliest stop string in text that ends after start.
func findStop(text string, start int, stops []string) (int, bool) {
	best := -1
	for _, st := range stops {
		if st == "" {
			continue
		}
		if i := strings.Index(text[start:], st); i >= 0 && (best < 0 || start+i < best) {
			best = start + i
		}
	}
	return best, best >= 0
}

// ensure makes the distribution of every (source, sequence) in want valid,
// stepping the two backends concurrently, each with batched Steps.
func (b *batch) ensure(ctx context.Context, want [2][]*seq) error {
	var work [2][]*seq
	for r := range want {
		for _, s := range want[r] {
			if !s.m[r].valid && !containsSeq(work[r], s) {
				work[r] = append(work[r], s)
			}
		}
	}
	switch {
	case len(work[0]) == 0 && len(work[1]) == 0:
		return nil
	case len(work[0]) == 0:
		return b.fetch(ctx, route.Base, work[route.Base])
	case len(work[1]) == 0:
		return b.fetch(ctx, route.Aligned, work[route.Aligned])
	}
	errc := make(chan error, 1)
	go func() { errc <- b.fetch(ctx, route.Base, work[route.Base]) }()
	errA := b.fetch(ctx, route.Aligned, work[route.Aligned])
	errB := <-errc
	if errB != nil {
		return errB
	}
	return errA
}

func containsSeq(ss []*seq, s *seq) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// fetch brings the distribution of model r up to date for every sequence in
// ss in one batched Step: the prompts of requests that need a prefill ride
// in the same Step as the pending tokens of running sequences. A sample
// whose request was prefilled in that Step forks the prompt afterwards (its
// distribution is the prompt's); the rare sample that also has tokens to
// catch up on then takes a second Step.
func (b *batch) fetch(ctx context.Context, r route.Source, ss []*seq) error {
	be, role, info := b.d.model(r)
	var (
		roots   []*model
		in      []backend.StepInput
		stepped []*seq
		later   []*seq
	)
	for _, s := range ss {
		m := s.rs.models[r]
		if m.rootReady || slices.Contains(roots, m) {
			continue
		}
		id, err := be.Open(ctx)
		if err != nil {
			return fmt.Errorf("%s model %q: open: %w", role, info.Name, err)
		}
		m.opened = append(m.opened, id)
		m.root = id
		roots = append(roots, m)
		in = append(in, backend.StepInput{Seq: id, Tokens: m.prompt, TopK: b.d.cfg.TopK})
	}
	for _, s := range ss {
		ms, m := &s.m[r], s.rs.models[r]
		if !ms.open {
			if !m.rootReady {
				later = append(later, s) // its prompt is in this Step
				continue
			}
			if err := b.fork(ctx, s, r); err != nil {
				return err
			}
			if ms.valid {
				continue
			}
		}
		in = append(in, backend.StepInput{Seq: ms.id, Tokens: ms.pending, TopK: b.d.cfg.TopK})
		stepped = append(stepped, s)
	}
	if err := b.stepSeqs(ctx, r, in, roots, stepped); err != nil {
		return err
	}
	in, stepped = in[:0], stepped[:0]
	for _, s := range later {
		if err := b.fork(ctx, s, r); err != nil {
			return err
		}
		if ms := &s.m[r]; !ms.valid {
			in = append(in, backend.StepInput{Seq: ms.id, Tokens: ms.pending, TopK: b.d.cfg.TopK})
			stepped = append(stepped, s)
		}
	}
	return b.stepSeqs(ctx, r, in, nil, stepped)
}

// fork gives sample s its own sequence in model r, a copy of the prefilled
// prompt; its pending tokens are those it generated so far.
func (b *batch) fork(ctx context.Context, s *seq, r route.Source) error {
	be, role, info := b.d.model(r)
	ms, m := &s.m[r], s.rs.models[r]
	id, err := be.Fork(ctx, m.root)
	if err != nil {
		return fmt.Errorf("%s model %q: fork for sample %d: %w", role, info.Name, s.idx, err)
	}
	m.opened = append(m.opened, id)
	ms.open, ms.id = true, id
	ms.pending = append(ms.pending[:0], s.gen...)
	if len(ms.pending) == 0 {
		ms.dist, ms.valid = m.rootDist, true
	}
	return nil
}

// stepSeqs runs one Step whose inputs are the prompts of roots followed by
// the pending tokens of stepped, and stores the distributions.
func (b *batch) stepSeqs(ctx context.Context, r route.Source, in []backend.StepInput, roots []*model, stepped []*seq) error {
	if len(in) == 0 {
		return nil
	}
	be, role, info := b.d.model(r)
	start := time.Now()
	out, err := be.Step(ctx, in)
	if err != nil {
		return fmt.Errorf("%s model %q: step: %w", role, info.Name, err)
	}
	b.d.log.Debug("step", "model", role, "seqs", len(in), "prefills", len(roots), "took", time.Since(start))
	if len(out) != len(in) {
		return fmt.Errorf("%s model %q: step returned %d outputs for %d sequences", role, info.Name, len(out), len(in))
	}
	for i := range out {
		if len(out[i].Dists) == 0 {
			return fmt.Errorf("%s model %q: step returned no distribution for input %d", role, info.Name, i)
		}
	}
	for i, m := range roots {
		m.rootDist, m.rootReady = out[i].Dists[len(out[i].Dists)-1], true
	}
	for i, s := range stepped {
		ms, o := &s.m[r], out[len(roots)+i]
		ms.dist, ms.valid = o.Dists[len(o.Dists)-1], true
		ms.pending = ms.pending[:0]
		ms.steps++
	}
	return nil
}

// model returns the backend of source r with its role name and info, for
// stepping it and naming it in errors.
func (d *Decoder) model(r route.Source) (backend.Backend, string, backend.Info) {
	if r == route.Aligned {
		return d.cfg.Aligned, "aligned", d.aligned
	}
	return d.cfg.Base, "base", d.base
}
