package server

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/baco-go/baco/core/decode"
	"github.com/baco-go/baco/core/sample"
	"github.com/baco-go/baco/server/oai"
)

// The llama.cpp server endpoints (examples/server/README.md of llama.cpp
// c392e509) for single-model pipelines, so that a baco server stands in
// where a llama.cpp server is expected. A request may name the model with
// "model"; without it the first single-model pipeline answers.

// singleModel picks the single-model pipeline a llama.cpp request targets.
func (s *Server) singleModel(id string) (*served, *oai.Error) {
	if id != "" {
		sv, e := s.model(id)
		if e != nil {
			return nil, e
		}
		if !sv.m.Single {
			return nil, oai.Invalid("model", "model %q is a BACo pipeline; llama.cpp's endpoints serve single-model pipelines only", id)
		}
		return sv, nil
	}
	for _, sv := range s.models {
		if sv.m.Single {
			return sv, nil
		}
	}
	return nil, oai.Invalid("model", "no single-model pipeline is served, so llama.cpp's endpoints are unavailable")
}

// llamaTokenizeRequest is the body of POST /tokenize.
type llamaTokenizeRequest struct {
	Model      string `json:"model"`
	Content    string `json:"content"`
	AddSpecial bool   `json:"add_special"`
	WithPieces bool   `json:"with_pieces"`
}

// llamaPiece is one token of /tokenize with pieces: the piece is a string
// when it is valid UTF-8, else its bytes.
type llamaPiece struct {
	ID    int32 `json:"id"`
	Piece any   `json:"piece"`
}

// decodeLlama unmarshals a llama.cpp request body.
func decodeLlama(data []byte, v any) *oai.Error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		var typ *json.UnmarshalTypeError
		if ok := asTypeError(err, &typ); ok && typ.Field != "" {
			return oai.Invalid(typ.Field, "%s: wrong JSON type %s", typ.Field, typ.Value)
		}
		return oai.Invalid("", "malformed JSON: %v", err).WithCode("invalid_json")
	}
	if dec.More() {
		return oai.Invalid("", "malformed JSON: more than one value in the body").WithCode("invalid_json")
	}
	return nil
}

func asTypeError(err error, t **json.UnmarshalTypeError) bool {
	te, ok := err.(*json.UnmarshalTypeError)
	if ok {
		*t = te
	}
	return ok
}

func (s *Server) tokenize(w http.ResponseWriter, r *http.Request) {
	body, e := s.readBody(w, r)
	if e != nil {
		writeError(w, e)
		return
	}
	var req llamaTokenizeRequest
	if e := decodeLlama(body, &req); e != nil {
		writeError(w, e)
		return
	}
	sv, e := s.singleModel(req.Model)
	if e != nil {
		writeError(w, e)
		return
	}
	ids, err := sv.m.Aligned.Tokenize(r.Context(), req.Content, req.AddSpecial, true)
	if err != nil {
		writeError(w, oai.Invalid("content", "tokenize: %v", err))
		return
	}
	if !req.WithPieces {
		if ids == nil {
			ids = []int32{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"tokens": ids})
		return
	}
	out := make([]llamaPiece, len(ids))
	for i, id := range ids {
		out[i] = llamaPiece{ID: id, Piece: pieceJSON(sv.tokenText(id))}
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": out})
}

// pieceJSON is a string when p is valid UTF-8, else its bytes (llama.cpp's
// rule).
func pieceJSON(p string) any {
	if utf8.ValidString(p) {
		return p
	}
	return byteList(p)
}

func (s *Server) detokenize(w http.ResponseWriter, r *http.Request) {
	body, e := s.readBody(w, r)
	if e != nil {
		writeError(w, e)
		return
	}
	var req struct {
		Model  string  `json:"model"`
		Tokens []int64 `json:"tokens"`
	}
	if e := decodeLlama(body, &req); e != nil {
		writeError(w, e)
		return
	}
	sv, e := s.singleModel(req.Model)
	if e != nil {
		writeError(w, e)
		return
	}
	// llama.cpp concatenates each token's piece (control tokens as their
	// text), with no leading-space stripping.
	var sb strings.Builder
	for i, id := range req.Tokens {
		if id < 0 || id >= int64(sv.table.Len()) {
			writeError(w, oai.Invalid("tokens", "tokens[%d] = %d is outside the vocabulary of %d", i, id, sv.table.Len()))
			return
		}
		sb.WriteString(sv.table.Text[id])
	}
	writeJSON(w, http.StatusOK, map[string]string{"content": sb.String()})
}

// llamaCompletionRequest is the body of POST /completion: the fields baco
// honours; the other sampling options of llama.cpp are rejected when they
// would change the output (grammar, mirostat, logit_bias, ...) and ignored
// otherwise.
type llamaCompletionRequest struct {
	Model             string          `json:"model"`
	Prompt            json.RawMessage `json:"prompt"`
	NPredict          *int            `json:"n_predict"`
	MaxTokens         *int            `json:"max_tokens"`
	Temperature       *float64        `json:"temperature"`
	TopK              *int            `json:"top_k"`
	TopP              *float64        `json:"top_p"`
	MinP              *float64        `json:"min_p"`
	Seed              *int64          `json:"seed"`
	Stop              []string        `json:"stop"`
	NProbs            int             `json:"n_probs"`
	Stream            bool            `json:"stream"`
	ReturnTokens      bool            `json:"return_tokens"`
	PostSamplingProbs bool            `json:"post_sampling_probs"`
	IgnoreEOS         bool            `json:"ignore_eos"`
	Grammar           string          `json:"grammar"`
	JSONSchema        json.RawMessage `json:"json_schema"`
	LogitBias         json.RawMessage `json:"logit_bias"`
	Mirostat          int             `json:"mirostat"`
	Baco              *oai.Extension  `json:"baco"`
}

// llamaGenerationSettings echoes the settings used, as llama.cpp does.
type llamaGenerationSettings struct {
	NPredict    int      `json:"n_predict"`
	Seed        uint64   `json:"seed"`
	Temperature float64  `json:"temperature"`
	TopK        int      `json:"top_k"`
	TopP        float64  `json:"top_p"`
	MinP        float64  `json:"min_p"`
	Stop        []string `json:"stop"`
	NProbs      int      `json:"n_probs"`
	Stream      bool     `json:"stream"`
	NCtx        int      `json:"n_ctx"`
	Model       string   `json:"model"`
}

type llamaTimings struct {
	PromptN             int     `json:"prompt_n"`
	PromptMS            float64 `json:"prompt_ms"`
	PromptPerTokenMS    float64 `json:"prompt_per_token_ms"`
	PromptPerSecond     float64 `json:"prompt_per_second"`
	PredictedN          int     `json:"predicted_n"`
	PredictedMS         float64 `json:"predicted_ms"`
	PredictedPerTokenMS float64 `json:"predicted_per_token_ms"`
	PredictedPerSecond  float64 `json:"predicted_per_second"`
}

type llamaTopProb struct {
	ID      int32   `json:"id"`
	Token   string  `json:"token"`
	Bytes   []int   `json:"bytes"`
	Logprob float64 `json:"logprob"`
}

type llamaProb struct {
	ID          int32          `json:"id"`
	Token       string         `json:"token"`
	Bytes       []int          `json:"bytes"`
	Logprob     float64        `json:"logprob"`
	TopLogprobs []llamaTopProb `json:"top_logprobs"`
}

// llamaCompletion is a /completion response, or (Stop false) one streamed
// token of it.
type llamaCompletion struct {
	Index                   int                      `json:"index"`
	Content                 string                   `json:"content"`
	Tokens                  []int32                  `json:"tokens"`
	IDSlot                  int                      `json:"id_slot"`
	Stop                    bool                     `json:"stop"`
	Model                   string                   `json:"model,omitempty"`
	TokensPredicted         int                      `json:"tokens_predicted"`
	TokensEvaluated         int                      `json:"tokens_evaluated"`
	GenerationSettings      *llamaGenerationSettings `json:"generation_settings,omitempty"`
	Prompt                  *string                  `json:"prompt,omitempty"`
	HasNewLine              *bool                    `json:"has_new_line,omitempty"`
	Truncated               *bool                    `json:"truncated,omitempty"`
	StopType                string                   `json:"stop_type,omitempty"`
	StoppingWord            *string                  `json:"stopping_word,omitempty"`
	TokensCached            *int                     `json:"tokens_cached,omitempty"`
	Timings                 *llamaTimings            `json:"timings,omitempty"`
	CompletionProbabilities []llamaProb              `json:"completion_probabilities,omitempty"`
	Baco                    *oai.ChoiceExtension     `json:"baco,omitempty"`
}

// llamaPrompt parses llama.cpp's prompt shapes for one prompt: a string,
// or an array mixing token ids and strings. String parts are tokenized
// with control-token parsing; the first part gets BOS when it is text
// (llama.cpp's tokenize_mixed).
func (sv *served) llamaPrompt(ctx context.Context, raw json.RawMessage) ([]int32, string, *oai.Error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, "", oai.Invalid("prompt", "prompt: required")
	}
	var parts []json.RawMessage
	if raw[0] == '"' {
		parts = []json.RawMessage{raw}
	} else if err := json.Unmarshal(raw, &parts); err != nil {
		return nil, "", oai.Invalid("prompt", "prompt: want a string or an array of token ids and strings")
	}
	var ids []int32
	for i, p := range parts {
		p = bytes.TrimSpace(p)
		if len(p) > 0 && p[0] == '"' {
			var s string
			if err := json.Unmarshal(p, &s); err != nil {
				return nil, "", oai.Invalid("prompt", "prompt[%d]: not a valid string", i)
			}
			t, err := sv.m.Aligned.Tokenize(ctx, s, i == 0, true)
			if err != nil {
				return nil, "", oai.Invalid("prompt", "tokenize prompt[%d]: %v", i, err)
			}
			ids = append(ids, t...)
			continue
		}
		var n json.Number
		if err := json.Unmarshal(p, &n); err != nil {
			return nil, "", oai.Invalid("prompt", "prompt[%d]: a single /completion request takes one prompt: a string or an array of token ids and strings", i)
		}
		v, err := n.Int64()
		if err != nil || v < 0 || v > math.MaxInt32 {
			return nil, "", oai.Invalid("prompt", "prompt[%d] = %s: want a token id ≥ 0", i, n)
		}
		ids = append(ids, int32(v))
	}
	var sb strings.Builder
	for _, id := range ids {
		sb.WriteString(sv.tokenText(id))
	}
	return ids, sb.String(), nil
}

func (s *Server) llamaCompletion(w http.ResponseWriter, r *http.Request) {
	body, e := s.readBody(w, r)
	if e != nil {
		writeError(w, e)
		return
	}
	var req llamaCompletionRequest
	if e := decodeLlama(body, &req); e != nil {
		writeError(w, e)
		return
	}
	sv, e := s.singleModel(req.Model)
	if e != nil {
		writeError(w, e)
		return
	}
	w.Header().Set("X-Baco-Model", sv.m.ID)
	p, set, e := s.llamaParams(sv, &req)
	if e != nil {
		writeError(w, e)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	ids, text, e := sv.llamaPrompt(ctx, req.Prompt)
	if e != nil {
		writeError(w, e)
		return
	}
	j, e := sv.newJob(0, &p, ids, ids, "prompt")
	if e != nil {
		writeError(w, e)
		return
	}
	f := &llamaFormat{sv: sv, p: &p, set: set, prompt: text, returnTokens: req.ReturnTokens}
	if set.NPredict == 0 {
		// llama.cpp evaluates the prompt and predicts nothing.
		writeJSON(w, http.StatusOK, f.final(j, &decode.Sample{Finish: decode.FinishLength}, delta{}))
		return
	}
	jobs := []*job{j}
	run := s.start(ctx, sv, jobs, p.logprobs, p.stream)
	defer func() {
		cancel()
		run.wait()
	}()
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
	smp := &results[0].Samples[0]
	d := finishedChoice(sv, smp, lps[[2]int{0, 0}], p.stop)
	out := f.final(j, smp, d)
	out.Content = d.text
	out.CompletionProbabilities = f.probs(d.pieces)
	writeJSON(w, http.StatusOK, out)
}

// llamaParams maps /completion options (llama.cpp's defaults: temperature
// 0.8, top_k 40, top_p 0.95, min_p 0.05, n_predict -1) onto params.
func (s *Server) llamaParams(sv *served, req *llamaCompletionRequest) (params, llamaGenerationSettings, *oai.Error) {
	set := llamaGenerationSettings{NPredict: -1, Temperature: 0.8, TopK: 40, TopP: 0.95, MinP: 0.05, Stop: req.Stop,
		NProbs: req.NProbs, Stream: req.Stream, NCtx: sv.ctxLen, Model: sv.m.ID}
	switch {
	case req.PostSamplingProbs:
		return params{}, set, oai.Invalid("post_sampling_probs", "post_sampling_probs is not supported: probabilities are the model's, before sampling")
	case req.IgnoreEOS:
		return params{}, set, oai.Invalid("ignore_eos", "ignore_eos is not supported")
	case req.Grammar != "" || !isNullRaw(req.JSONSchema):
		return params{}, set, oai.Invalid("grammar", "grammars and JSON schemas are not supported")
	case !isNullRaw(req.LogitBias) && !bytes.Equal(bytes.TrimSpace(req.LogitBias), []byte("[]")):
		return params{}, set, oai.Invalid("logit_bias", "logit_bias is not supported")
	case req.Mirostat != 0:
		return params{}, set, oai.Invalid("mirostat", "mirostat is not supported")
	case req.NProbs < 0 || req.NProbs > s.cfg.Limits.MaxTopLogprobs && s.cfg.Limits.MaxTopLogprobs > 0 || req.NProbs > 20:
		return params{}, set, oai.Invalid("n_probs", "n_probs %d: want 0..20", req.NProbs)
	case len(req.Stop) > 16:
		return params{}, set, oai.Invalid("stop", "stop: %d strings, at most 16", len(req.Stop))
	}
	for i, st := range req.Stop {
		if st == "" || len(st) > 256 {
			return params{}, set, oai.Invalid("stop", "stop[%d]: want a non-empty string of at most 256 bytes", i)
		}
	}
	if req.NPredict != nil {
		set.NPredict = *req.NPredict
	} else if req.MaxTokens != nil {
		set.NPredict = *req.MaxTokens
	}
	if set.NPredict < -1 {
		return params{}, set, oai.Invalid("n_predict", "n_predict %d: want -1 (no limit) or a count ≥ 0", set.NPredict)
	}
	if req.Temperature != nil {
		set.Temperature = *req.Temperature
	}
	if req.TopK != nil {
		set.TopK = *req.TopK
	}
	if req.TopP != nil {
		set.TopP = *req.TopP
	}
	if req.MinP != nil {
		set.MinP = *req.MinP
	}
	// llama.cpp samples greedily at temperature ≤ 0 and reads top_k ≤ 0 and
	// top_p ≥ 1 as off.
	sp := sample.Params{Temperature: max(0, set.Temperature), TopK: max(0, set.TopK), TopP: min(1, set.TopP), MinP: set.MinP}
	if !(sp.TopP > 0) {
		sp.TopP = 1
	}
	if err := sp.Validate(); err != nil {
		return params{}, set, oai.Invalid("", "%v", err)
	}
	if req.Seed != nil && *req.Seed >= 0 {
		set.Seed = uint64(*req.Seed)
	} else {
		set.Seed = rand.Uint64()
	}
	p := params{n: 1, maxTokens: max(0, set.NPredict), seed: set.Seed, stop: req.Stop, base: sp, al: sp, logprobs: -1, stream: req.Stream}
	if req.NProbs > 0 {
		p.logprobs = req.NProbs
	}
	r, e := sv.requestRouter(req.Baco)
	if e != nil {
		return params{}, set, e
	}
	p.router = r
	return p, set, nil
}

func isNullRaw(b json.RawMessage) bool {
	b = bytes.TrimSpace(b)
	return len(b) == 0 || bytes.Equal(b, []byte("null"))
}

// llamaFormat builds /completion bodies and stream events.
type llamaFormat struct {
	sv           *served
	p            *params
	set          llamaGenerationSettings
	prompt       string
	returnTokens bool
	predicted    int
}

func (f *llamaFormat) probs(pieces []piece) []llamaProb {
	if f.p.logprobs < 0 {
		return nil
	}
	var out []llamaProb
	for _, p := range pieces {
		if p.stop {
			continue
		}
		t := tokenLogprob{LogProb: floorLogProb}
		if p.lp != nil {
			t = *p.lp
		}
		pr := llamaProb{ID: p.src.ID, Token: validUTF8Prefix(p.src.Text), Bytes: byteList(p.src.Text), Logprob: t.LogProb,
			TopLogprobs: []llamaTopProb{}}
		for _, c := range t.Top {
			txt := f.sv.tokenText(c.ID)
			pr.TopLogprobs = append(pr.TopLogprobs, llamaTopProb{ID: c.ID, Token: validUTF8Prefix(txt), Bytes: byteList(txt), Logprob: c.LogProb})
		}
		out = append(out, pr)
	}
	return out
}

// validUTF8Prefix cuts s before its first invalid UTF-8 byte (llama.cpp's
// validate_utf8 on token text).
func validUTF8Prefix(s string) string {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			return s[:i]
		}
		i += n
	}
	return s
}

// final is the last object of a completion, content left to the caller.
func (f *llamaFormat) final(j *job, smp *decode.Sample, d delta) llamaCompletion {
	stopType, word := "limit", ""
	if smp.Finish == decode.FinishStop {
		stopType = "eos"
		if n := len(smp.Trace); n > 0 && !f.sv.isStop(&smp.Trace[n-1]) {
			stopType = "word"
			word = stoppingWord(smp, f.p.stop)
		}
	}
	var full strings.Builder
	for _, ev := range smp.Trace {
		if !f.sv.isStop(&ev) {
			full.WriteString(ev.Text)
		}
	}
	nl := strings.Contains(smp.Text, "\n")
	truncated, cached := false, 0
	out := llamaCompletion{Content: "", Tokens: []int32{}, Stop: true, Model: f.sv.m.ID, TokensPredicted: len(smp.Trace),
		TokensEvaluated: j.promptTokens, GenerationSettings: &f.set, Prompt: &f.prompt, HasNewLine: &nl, Truncated: &truncated,
		StopType: stopType, StoppingWord: &word, TokensCached: &cached, Timings: f.timings(j, len(smp.Trace))}
	if f.returnTokens && smp.IDs != nil {
		out.Tokens = smp.IDs
	}
	if len(smp.Trace) > 0 {
		out.Baco = choiceStats(smp, d.pieces)
	}
	return out
}

// stoppingWord finds the stop string that ended smp.
func stoppingWord(smp *decode.Sample, stops []string) string {
	var all strings.Builder
	for _, ev := range smp.Trace {
		all.WriteString(ev.Text)
	}
	rest := all.String()
	if len(rest) >= len(smp.Text) {
		rest = rest[len(smp.Text):]
	}
	for _, st := range stops {
		if strings.HasPrefix(rest, st) {
			return st
		}
	}
	return ""
}

func (f *llamaFormat) timings(j *job, predicted int) *llamaTimings {
	t := &llamaTimings{PromptN: j.promptTokens, PredictedN: predicted}
	now := time.Now()
	if !j.first.IsZero() {
		t.PromptMS = ms(j.first.Sub(j.submitted))
		t.PredictedMS = ms(now.Sub(j.first))
	}
	if t.PromptN > 0 && t.PromptMS > 0 {
		t.PromptPerTokenMS = t.PromptMS / float64(t.PromptN)
		t.PromptPerSecond = 1e3 * float64(t.PromptN) / t.PromptMS
	}
	if t.PredictedN > 0 && t.PredictedMS > 0 {
		t.PredictedPerTokenMS = t.PredictedMS / float64(t.PredictedN)
		t.PredictedPerSecond = 1e3 * float64(t.PredictedN) / t.PredictedMS
	}
	return t
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func (f *llamaFormat) open() []any { return nil }

func (f *llamaFormat) chunk(j *job, _ int, d delta, fin *decode.Sample) []any {
	var evs []any
	if !d.empty() {
		var ids []int32
		for _, p := range d.pieces {
			if !p.stop {
				ids = append(ids, p.src.ID)
			}
		}
		f.predicted += len(d.pieces)
		if ids == nil {
			ids = []int32{}
		}
		if d.text != "" || len(ids) > 0 {
			evs = append(evs, llamaCompletion{Content: d.text, Tokens: ids, TokensPredicted: f.predicted,
				TokensEvaluated: j.promptTokens, CompletionProbabilities: f.probs(d.pieces),
				Baco: &oai.ChoiceExtension{Tokens: sources(d.pieces)}})
		}
	}
	if fin != nil {
		evs = append(evs, f.final(j, fin, d))
	}
	return evs
}

func (f *llamaFormat) usage(oai.Usage) any { return nil }

// doneMarker: llama.cpp's own /completion stream has no [DONE] event.
func (f *llamaFormat) doneMarker() bool { return false }
