package eval

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"path/filepath"

	"github.com/baco-go/baco/eval/metrics"
	"github.com/baco-go/baco/eval/rundir"
	"github.com/baco-go/baco/eval/score"
)

// scorerID names the scoring configuration: it is stored with every score,
// so changing the quality model, the embedder or the judge rescores.
func (e *Experiment) scorerID() string {
	id := "v1 ll=" + modelID(e.Aligned)
	em := e.Embeddings
	switch {
	case em.Disabled:
		id += " emb=none"
	case em.URL != "":
		id += " emb=" + em.Model + "@" + em.URL
	case em.GGUF != "":
		id += " emb=gguf-prob:" + modelID(em.GGUF)
	default:
		id += " emb=gguf-prob:aligned"
	}
	if e.Judge.Enabled() {
		h := sha256.Sum256([]byte(e.Judge.Prompt))
		id += " judge=" + e.Judge.Model + "@" + e.Judge.URL + "#" + hex.EncodeToString(h[:4])
	}
	return id
}

// scorers are the model-based measures of one run, set up on first use.
type scorers struct {
	embed score.Embedder
	judge *score.Judge
	ready bool
}

func (r *runner) setupScorers(ctx context.Context, sc *scorers) error {
	if sc.ready {
		return nil
	}
	e := r.e
	key := func(env string) string {
		if env == "" {
			return ""
		}
		return r.o.Getenv(env)
	}
	em := e.Embeddings
	switch {
	case em.Disabled:
	case em.URL != "":
		emb, err := score.NewOpenAIEmbedder(em.URL, em.Model, key(em.APIKeyEnv))
		if err != nil {
			return err
		}
		sc.embed = emb
	case r.o.OpenLocal != nil:
		// Hidden states need the engine in this process.
		ref := em.GGUF
		if ref == "" {
			ref = e.Aligned
		}
		be, err := r.o.OpenLocal(ctx, ref)
		if err != nil {
			return fmt.Errorf("embeddings model %s: %w", ref, err)
		}
		r.extra = append(r.extra, be)
		emb, err := score.NewModelEmbedder(ctx, be)
		if err != nil {
			return err
		}
		sc.embed = emb
	default:
		be, err := r.alignedModel(ctx)
		if err != nil {
			return err
		}
		if em.GGUF != "" && filepath.Clean(em.GGUF) != filepath.Clean(e.Aligned) {
			if be, err = r.o.Open(ctx, em.GGUF); err != nil {
				return fmt.Errorf("embeddings model %s: %w", em.GGUF, err)
			}
			r.extra = append(r.extra, be)
		}
		emb, err := score.NewModelEmbedder(ctx, be)
		if err != nil {
			return err
		}
		sc.embed = emb
	}
	if e.Judge.Enabled() {
		j, err := score.NewJudge(e.Judge.URL, e.Judge.Model, key(e.Judge.APIKeyEnv), e.Judge.Prompt)
		if err != nil {
			return err
		}
		sc.judge = j
	}
	sc.ready = true
	return nil
}

// score computes every missing group's measures into scores.jsonl.
func (r *runner) score(ctx context.Context, scores *rundir.Journal[Score]) (int, error) {
	id := r.e.scorerID()
	type group struct {
		pt *Point
		pr Prompt
	}
	var todo []group
	for i := range r.points {
		for _, pr := range r.ps.Prompts {
			s := Score{Method: r.points[i].Method, Gamma: r.points[i].Gamma(), Prompt: pr.ID, Scorer: id}
			if !scores.Has(scoreKey(&s)) {
				todo = append(todo, group{&r.points[i], pr})
			}
		}
	}
	if len(todo) == 0 {
		return 0, nil
	}
	total := len(r.points) * len(r.ps.Prompts)
	prog := newProgress(r.o.Progress, "score", "groups", total-len(todo), total)
	var sc scorers
	n := 0
	for _, g := range todo {
		if err := ctx.Err(); err != nil {
			return n, fmt.Errorf("eval: %w", err)
		}
		rows := make([]Generation, 0, r.e.Samples)
		for s := range r.e.Samples {
			row, ok := r.gens.Get(GenKey(g.pt.Method, g.pt.Gamma(), g.pr.ID, s))
			if !ok {
				return n, fmt.Errorf("eval: sample %d of %s prompt %q missing from %s", s, g.pt.Label(), g.pr.ID, GenerationsFile)
			}
			rows = append(rows, row)
		}
		if err := r.setupScorers(ctx, &sc); err != nil {
			return n, err
		}
		rec := Score{Method: g.pt.Method, Gamma: g.pt.Gamma(), Prompt: g.pr.ID, Scorer: id, Samples: len(rows),
			Values: map[string]float64{}, Notes: map[string]string{}}
		if err := r.scoreGroup(ctx, &sc, g.pr, rows, &rec); err != nil {
			return n, fmt.Errorf("eval: score %s prompt %q: %w", g.pt.Label(), g.pr.ID, err)
		}
		if len(rec.Notes) == 0 {
			rec.Notes = nil
		}
		if err := scores.Append(rec); err != nil {
			return n, fmt.Errorf("eval: %w", err)
		}
		n++
		prog.add(1, 0)
	}
	return n, nil
}

// set stores a measure when it is defined and finite.
func (s *Score) set(name string, v float64, ok bool, why string) {
	if ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
		s.Values[name] = v
		return
	}
	s.Notes[name] = why
}

// scoreGroup computes the measures of one prompt's samples at one point.
func (r *runner) scoreGroup(ctx context.Context, sc *scorers, pr Prompt, rows []Generation, rec *Score) error {
	texts := make([]string, len(rows))
	toks := make([][]string, len(rows))
	var length, baseShare float64
	for i, g := range rows {
		texts[i] = g.Text
		toks[i] = metrics.Tokenize(g.Text)
		length += float64(g.Tokens)
		if g.Tokens > 0 {
			baseShare += float64(g.BaseTokens) / float64(g.Tokens)
		}
	}
	n := float64(len(rows))
	rec.set(metrics.Length, length/n, true, "")
	rec.set(metrics.BaseShare, baseShare/n, true, "")
	for k, name := range []string{metrics.Distinct1, metrics.Distinct2, metrics.Distinct3, metrics.Distinct4} {
		v, ok := metrics.Distinct(toks, k+1)
		rec.set(name, v, ok, fmt.Sprintf("no %d-gram in the samples", k+1))
	}
	v, ok := metrics.NgramEntropy(toks, 4)
	rec.set(metrics.Entropy4, v, ok, "no 4-gram in the samples")
	v, ok = metrics.SelfBLEU(toks, 4)
	rec.set(metrics.OneMinusSelfBLEU, 1-v, ok, "needs two samples")
	v, ok = metrics.CompressionRatio(texts)
	rec.set(metrics.CompressionName, v, ok, "empty text")
	v, ok = metrics.RougeLDistance(toks)
	rec.set(metrics.RougeLDist, v, ok, "needs two samples")

	if sc.embed == nil {
		rec.Notes[metrics.EmbedCosineDist] = "embeddings disabled"
		rec.Notes[metrics.VendiName] = "embeddings disabled"
	} else {
		embs, err := sc.embed.Embed(ctx, texts)
		if err != nil {
			return err
		}
		var vecs [][]float64
		for _, e := range embs {
			if e != nil {
				vecs = append(vecs, e)
			}
		}
		if len(vecs) < 2 {
			rec.Notes[metrics.EmbedCosineDist] = "fewer than two non-empty samples"
			rec.Notes[metrics.VendiName] = "fewer than two non-empty samples"
		} else {
			c, err := metrics.CosineDistance(vecs)
			rec.set(metrics.EmbedCosineDist, c, err == nil, errText(err))
			vs, err := metrics.Vendi(vecs)
			rec.set(metrics.VendiName, vs, err == nil, errText(err))
		}
	}

	be, err := r.alignedModel(ctx)
	if err != nil {
		return err
	}
	pt, err := r.alignedTokens(ctx, be, pr)
	if err != nil {
		return err
	}
	resp := make([][]int32, len(rows))
	for i, g := range rows {
		resp[i] = g.IDs
	}
	lps, err := score.LogProbs(ctx, be, pt, resp)
	if err != nil {
		return err
	}
	var ll, ppl float64
	k := 0
	for _, lp := range lps {
		m, ok := metrics.MeanLogLik(lp)
		if !ok {
			continue
		}
		p, _ := metrics.Perplexity(lp)
		ll += m
		ppl += p
		k++
	}
	rec.set(metrics.LogLik, ll/float64(max(k, 1)), k > 0, "every sample is empty")
	rec.set(metrics.PerplexityName, ppl/float64(max(k, 1)), k > 0, "every sample is empty")

	if sc.judge == nil {
		rec.Notes[metrics.JudgeName] = "no judge configured"
		return nil
	}
	var js float64
	for _, t := range texts {
		s, err := sc.judge.Score(ctx, pr.Text, t)
		if err != nil {
			return err
		}
		js += s
	}
	rec.set(metrics.JudgeName, js/n, true, "")
	return nil
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
