package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/baco-go/baco/core/chat"
	"github.com/baco-go/baco/core/decode"
	"github.com/baco-go/baco/core/prompt"
	"github.com/baco-go/baco/server/oai"
)

// systemFingerprint identifies the serving software in responses.
const systemFingerprint = "baco"

// model finds a served model by id.
func (s *Server) model(id string) (*served, *oai.Error) {
	sv := s.byID[id]
	if sv == nil {
		ids := make([]string, len(s.models))
		for i, m := range s.models {
			ids[i] = m.m.ID
		}
		return nil, oai.Invalid("model", "model %q is not served here; served: %s", id, strings.Join(ids, ", ")).WithCode("model_not_found")
	}
	return sv, nil
}

func newID(prefix string) string {
	var b [12]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

func (sv *served) responseExt() *oai.ResponseExtension {
	return &oai.ResponseExtension{Router: sv.m.Decoder.Router().Name(), Base: sv.baseInfo.Name, Aligned: sv.alignedInfo.Name}
}

func (sv *served) modelEntry(created int64) oai.Model {
	return oai.Model{ID: sv.m.ID, Object: "model", Created: created, OwnedBy: "baco", Baco: &oai.ModelExtension{
		Base: sv.baseInfo.Name, Aligned: sv.alignedInfo.Name, Router: sv.m.Decoder.Router().Name(), Single: sv.m.Single,
		ContextLength: sv.ctxLen,
	}}
}

func (s *Server) listModels(w http.ResponseWriter, r *http.Request) {
	list := oai.ModelList{Object: "list", Data: make([]oai.Model, 0, len(s.models))}
	for _, sv := range s.models {
		list.Data = append(list.Data, sv.modelEntry(s.created))
	}
	writeJSON(w, http.StatusOK, list)
}

func (s *Server) getModel(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, "/v1/models/")
	sv := s.byID[id]
	if sv == nil {
		writeError(w, oai.NewError(http.StatusNotFound, oai.TypeInvalidRequest, "model", "model_not_found",
			fmt.Sprintf("model %q is not served here", id)))
		return
	}
	writeJSON(w, http.StatusOK, sv.modelEntry(s.created))
}

// completionPrompt tokenizes one /v1/completions prompt for both models
// (plain text, BOS added as each model's metadata says) and returns the
// text echo would repeat.
func (sv *served) completionPrompt(ctx context.Context, it oai.PromptItem) (base, al []int32, text string, e *oai.Error) {
	if it.IsTokens {
		var sb strings.Builder
		for _, id := range it.Tokens {
			if id >= 0 && int(id) < sv.table.Len() && !sv.isControl(id) {
				sb.WriteString(sv.table.Text[id])
			}
		}
		return it.Tokens, it.Tokens, sb.String(), nil
	}
	al, err := sv.m.Aligned.Tokenize(ctx, it.Text, true, false)
	if err != nil {
		return nil, nil, "", oai.Invalid("prompt", "tokenize the prompt: %v", err)
	}
	base = al
	if sv.m.Base != sv.m.Aligned {
		if base, err = sv.m.Base.Tokenize(ctx, it.Text, true, false); err != nil {
			return nil, nil, "", oai.Invalid("prompt", "tokenize the prompt for the base model: %v", err)
		}
	}
	return base, al, it.Text, nil
}

func (sv *served) isControl(id int32) bool {
	for _, c := range sv.baseInfo.ControlIDs {
		if c == id {
			return true
		}
	}
	return false
}

// chatPrompt builds each model's prompt from the conversation: the aligned
// model's with the pipeline's AlignedPrompt spec (its chat template by
// default), the base model's with BasePrompt (by default plain text: the
// messages' contents joined by blank lines, as `bacoctl generate` does).
func (sv *served) chatPrompt(ctx context.Context, msgs []oai.Message) (base, al []int32, e *oai.Error) {
	in := prompt.Input{Messages: make([]chat.Message, len(msgs))}
	for i, m := range msgs {
		in.Messages[i] = chat.Message{Role: m.Role, Content: string(m.Content)}
	}
	al, err := prompt.Build(ctx, sv.m.Aligned, sv.alignedInfo, sv.m.AlignedPrompt, in)
	if err != nil {
		return nil, nil, oai.Invalid("messages", "aligned model's prompt: %v", err)
	}
	base, err = prompt.Build(ctx, sv.m.Base, sv.baseInfo, sv.m.BasePrompt, in)
	if err != nil {
		return nil, nil, oai.Invalid("messages", "base model's prompt: %v", err)
	}
	return base, al, nil
}

func (s *Server) completions(w http.ResponseWriter, r *http.Request) {
	body, e := s.readBody(w, r)
	if e != nil {
		writeError(w, e)
		return
	}
	req, e := oai.DecodeCompletionRequest(body, s.cfg.Limits)
	if e != nil {
		writeError(w, e)
		return
	}
	sv, e := s.model(req.Model)
	if e != nil {
		writeError(w, e)
		return
	}
	w.Header().Set("X-Baco-Model", sv.m.ID)
	p, e := sv.commonParams(&req.Common, 16)
	if e != nil {
		writeError(w, e)
		return
	}
	if req.Logprobs != nil {
		p.logprobs = *req.Logprobs
	}
	p.echo = req.Echo
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	jobs := make([]*job, len(req.Prompt))
	for i, it := range req.Prompt {
		base, al, text, e := sv.completionPrompt(ctx, it)
		if e != nil {
			writeError(w, e)
			return
		}
		if jobs[i], e = sv.newJob(i, &p, base, al, "prompt"); e != nil {
			writeError(w, e)
			return
		}
		if p.echo {
			jobs[i].echo = text
		}
	}
	run := s.start(ctx, sv, jobs, p.logprobs, p.stream)
	defer func() {
		cancel()
		run.wait()
	}()
	f := &completionFormat{sv: sv, p: &p, id: newID("cmpl-"), created: time.Now().Unix()}
	if p.stream {
		s.stream(w, r.Context(), ctx, run, &p, f)
		return
	}
	results, lps, e := s.collect(w, r.Context(), run)
	if e != nil {
		writeError(w, e)
		return
	}
	if results == nil {
		return
	}
	u := usage(jobs, results)
	resp := f.base()
	resp.Usage = &u
	for ji, res := range results {
		for si := range res.Samples {
			smp := &res.Samples[si]
			d := finishedChoice(sv, smp, lps[[2]int{ji, si}], p.stop)
			resp.Choices = append(resp.Choices, f.choice(jobs[ji], si, d, smp, true))
		}
	}
	writeJSON(w, http.StatusOK, resp)
}

// completionFormat builds /v1/completions bodies and chunks.
type completionFormat struct {
	sv      *served
	p       *params
	id      string
	created int64
	echoed  map[int]bool // choices whose echo was streamed
}

func (f *completionFormat) base() oai.Completion {
	return oai.Completion{ID: f.id, Object: "text_completion", Created: f.created, Model: f.sv.m.ID,
		SystemFingerprint: systemFingerprint, Choices: []oai.CompletionChoice{}, Baco: f.sv.responseExt()}
}

// choice formats one choice (or one chunk's choice); prefix adds the echo.
func (f *completionFormat) choice(j *job, smpl int, d delta, fin *decode.Sample, prefix bool) oai.CompletionChoice {
	c := oai.CompletionChoice{Index: j.index*f.p.n + smpl, Text: d.text, Baco: &oai.ChoiceExtension{Tokens: sources(d.pieces)}}
	off := 0
	if prefix && j.echo != "" {
		c.Text = j.echo + c.Text
		off = len(j.echo)
	}
	if f.p.logprobs >= 0 {
		c.Logprobs = f.logprobs(d.pieces, off)
	}
	if fin != nil {
		c.FinishReason = &fin.Finish
		c.Baco = choiceStats(fin, d.pieces)
	}
	return c
}

func (f *completionFormat) logprobs(pieces []piece, off int) *oai.CompletionLogprobs {
	lp := &oai.CompletionLogprobs{Tokens: []string{}, TokenLogprobs: []float64{}, TopLogprobs: []map[string]float64{}, TextOffset: []int{}}
	for _, p := range pieces {
		if p.stop {
			continue
		}
		t := tokenLogprob{LogProb: floorLogProb}
		if p.lp != nil {
			t = *p.lp
		}
		lp.Tokens = append(lp.Tokens, p.src.Text)
		lp.TokenLogprobs = append(lp.TokenLogprobs, t.LogProb)
		top := make(map[string]float64, len(t.Top))
		for _, c := range t.Top {
			top[f.sv.tokenText(c.ID)] = c.LogProb
		}
		lp.TopLogprobs = append(lp.TopLogprobs, top)
		lp.TextOffset = append(lp.TextOffset, off+p.off)
	}
	return lp
}

func (f *completionFormat) open() []any { return nil }

func (f *completionFormat) chunk(j *job, smpl int, d delta, fin *decode.Sample) []any {
	if f.echoed == nil {
		f.echoed = map[int]bool{}
	}
	idx := j.index*f.p.n + smpl
	prefix := !f.echoed[idx]
	f.echoed[idx] = true
	c := f.base()
	c.Choices = []oai.CompletionChoice{f.choice(j, smpl, d, fin, prefix)}
	c.Baco = nil
	return []any{c}
}

func (f *completionFormat) usage(u oai.Usage) any {
	c := f.base()
	c.Usage = &u
	c.Baco = nil
	return c
}

func (f *completionFormat) doneMarker() bool { return true }

// tokenText is a token's text as it appears in generated text.
func (sv *served) tokenText(id int32) string {
	if id < 0 || int(id) >= sv.table.Len() {
		return ""
	}
	return sv.table.Text[id]
}

func (s *Server) chatCompletions(w http.ResponseWriter, r *http.Request) {
	body, e := s.readBody(w, r)
	if e != nil {
		writeError(w, e)
		return
	}
	req, e := oai.DecodeChatRequest(body, s.cfg.Limits)
	if e != nil {
		writeError(w, e)
		return
	}
	sv, e := s.model(req.Model)
	if e != nil {
		writeError(w, e)
		return
	}
	w.Header().Set("X-Baco-Model", sv.m.ID)
	p, e := sv.commonParams(&req.Common, 0)
	if e != nil {
		writeError(w, e)
		return
	}
	if req.Logprobs {
		p.logprobs = 0
		if req.TopLogprobs != nil {
			p.logprobs = *req.TopLogprobs
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	base, al, e := sv.chatPrompt(ctx, req.Messages)
	if e != nil {
		writeError(w, e)
		return
	}
	j, e := sv.newJob(0, &p, base, al, "messages")
	if e != nil {
		writeError(w, e)
		return
	}
	jobs := []*job{j}
	run := s.start(ctx, sv, jobs, p.logprobs, p.stream)
	defer func() {
		cancel()
		run.wait()
	}()
	f := &chatFormat{sv: sv, p: &p, id: newID("chatcmpl-"), created: time.Now().Unix()}
	if p.stream {
		s.stream(w, r.Context(), ctx, run, &p, f)
		return
	}
	results, lps, e := s.collect(w, r.Context(), run)
	if e != nil {
		writeError(w, e)
		return
	}
	if results == nil {
		return
	}
	u := usage(jobs, results)
	resp := f.base("chat.completion")
	resp.Usage = &u
	for si := range results[0].Samples {
		smp := &results[0].Samples[si]
		d := finishedChoice(sv, smp, lps[[2]int{0, si}], p.stop)
		c := f.choice(si, d, smp)
		c.Message, c.Delta = c.Delta, nil
		c.Message.Role = "assistant"
		resp.Choices = append(resp.Choices, c)
	}
	writeJSON(w, http.StatusOK, resp)
}

// chatFormat builds /v1/chat/completions bodies and chunks.
type chatFormat struct {
	sv      *served
	p       *params
	id      string
	created int64
}

func (f *chatFormat) base(object string) oai.ChatCompletion {
	return oai.ChatCompletion{ID: f.id, Object: object, Created: f.created, Model: f.sv.m.ID,
		SystemFingerprint: systemFingerprint, Choices: []oai.ChatChoice{}, Baco: f.sv.responseExt()}
}

// choice formats a choice with its text in Delta.
func (f *chatFormat) choice(smpl int, d delta, fin *decode.Sample) oai.ChatChoice {
	text := d.text
	c := oai.ChatChoice{Index: smpl, Delta: &oai.ChatMessage{Content: &text}, Baco: &oai.ChoiceExtension{Tokens: sources(d.pieces)}}
	if f.p.logprobs >= 0 {
		c.Logprobs = f.logprobs(d.pieces)
	}
	if fin != nil {
		c.FinishReason = &fin.Finish
		c.Baco = choiceStats(fin, d.pieces)
	}
	return c
}

func (f *chatFormat) logprobs(pieces []piece) *oai.ChatLogprobs {
	lp := &oai.ChatLogprobs{Content: []oai.TokenLogprob{}}
	for _, p := range pieces {
		if p.stop {
			continue
		}
		t := tokenLogprob{LogProb: floorLogProb}
		if p.lp != nil {
			t = *p.lp
		}
		tl := oai.TokenLogprob{Token: p.src.Text, Logprob: t.LogProb, Bytes: byteList(p.src.Text), TopLogprobs: []oai.TopLogprob{}}
		for _, c := range t.Top {
			txt := f.sv.tokenText(c.ID)
			tl.TopLogprobs = append(tl.TopLogprobs, oai.TopLogprob{Token: txt, Logprob: c.LogProb, Bytes: byteList(txt)})
		}
		lp.Content = append(lp.Content, tl)
	}
	return lp
}

func byteList(s string) []int {
	out := make([]int, len(s))
	for i := 0; i < len(s); i++ {
		out[i] = int(s[i])
	}
	return out
}

// open sends each choice's role first, as OpenAI does.
func (f *chatFormat) open() []any {
	var evs []any
	for i := 0; i < f.p.n; i++ {
		empty := ""
		c := f.base("chat.completion.chunk")
		c.Baco = nil
		c.Choices = []oai.ChatChoice{{Index: i, Delta: &oai.ChatMessage{Role: "assistant", Content: &empty}}}
		if f.p.logprobs >= 0 {
			c.Choices[0].Logprobs = &oai.ChatLogprobs{Content: []oai.TokenLogprob{}}
		}
		evs = append(evs, c)
	}
	return evs
}

func (f *chatFormat) chunk(_ *job, smpl int, d delta, fin *decode.Sample) []any {
	c := f.base("chat.completion.chunk")
	c.Baco = nil
	ch := f.choice(smpl, d, fin)
	if d.text == "" {
		ch.Delta.Content = nil
	}
	c.Choices = []oai.ChatChoice{ch}
	return []any{c}
}

func (f *chatFormat) usage(u oai.Usage) any {
	c := f.base("chat.completion.chunk")
	c.Baco = nil
	c.Usage = &u
	return c
}

func (f *chatFormat) doneMarker() bool { return true }
