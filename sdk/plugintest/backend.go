package plugintest

import (
	"math"
	"testing"

	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/core/dist"
	"github.com/baco-go/baco/pluginhost"
	"github.com/baco-go/baco/sdk/plugin"
)

// RunBackend runs the backend conformance suite against the plugin binary
// at path, configured with params (e.g. a model path).
func RunBackend(t *testing.T, path, params string, opts ...Option) {
	t.Helper()
	o := newOptions(opts)
	h := newHost(t, path, plugin.KindBackend, o)
	ctx := ctxFor(t)
	ins, err := h.Inspect(ctx, plugin.KindBackend, underTest)
	if err != nil {
		t.Fatalf("handshake and describe: %v", err)
	}
	t.Run("describe", func(t *testing.T) { checkDescription(t, ins.Description, plugin.KindBackend) })
	for _, bad := range o.badParams {
		if b, err := h.Backend(ctx, underTest, bad); err == nil {
			b.Close()
			t.Errorf("configure with bad parameters %q succeeded", bad)
		}
	}
	b, err := h.Backend(ctx, underTest, params)
	if err != nil {
		t.Fatalf("start and configure with %q: %v", params, err)
	}
	info, err := b.Info(ctx)
	if err != nil {
		t.Fatalf("Info: %v", err)
	}
	pid := b.PID()
	s := &backendSuite{t: t, b: b, info: info, o: o}
	t.Run("info", s.checkInfo)
	t.Run("tokenize", s.tokenize)
	t.Run("step", s.step)
	t.Run("batching", s.batching)
	t.Run("determinism", s.determinism)
	t.Run("fork and truncate", s.forkTruncate)
	if info.Caps.AllPositions {
		t.Run("all positions", s.allPositions)
	}
	t.Run("error paths", s.errorPaths)
	if b.PID() != pid {
		t.Errorf("the plugin process was replaced during the suite (pid %d → %d): it crashed or misbehaved", pid, b.PID())
	}
	if err := b.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

type backendSuite struct {
	t    *testing.T
	b    *pluginhost.Backend
	info backend.Info
	o    *options
	toks []int32 // a valid token sequence for steps
}

func (s *backendSuite) inVocab(id int32) bool { return id >= 0 && int(id) < s.info.VocabSize }

func (s *backendSuite) checkInfo(t *testing.T) {
	in := s.info
	if in.VocabSize <= 0 {
		t.Fatalf("vocabulary size %d", in.VocabSize)
	}
	for _, c := range []struct {
		what string
		id   int32
	}{{"BOS", in.BOS}, {"EOS", in.EOS}} {
		if c.id != -1 && !s.inVocab(c.id) {
			t.Errorf("%s id %d outside the vocabulary of %d (use -1 for none)", c.what, c.id, in.VocabSize)
		}
	}
	for _, list := range [][]int32{in.StopIDs, in.ControlIDs} {
		for _, id := range list {
			if !s.inVocab(id) {
				t.Errorf("stop/control id %d outside the vocabulary of %d", id, in.VocabSize)
			}
		}
	}
	if in.ContextLen < 0 {
		t.Errorf("negative context length %d", in.ContextLen)
	}
	ids := make([]int32, in.VocabSize)
	for i := range ids {
		ids[i] = int32(i)
	}
	ps, err := s.b.Pieces(ctxFor(t), ids)
	if err != nil {
		t.Fatalf("Pieces of the whole vocabulary: %v", err)
	}
	if len(ps) != in.VocabSize {
		t.Errorf("Pieces: %d pieces for %d ids", len(ps), in.VocabSize)
	}
}

func (s *backendSuite) tokenize(t *testing.T) {
	ctx := ctxFor(t)
	ids, err := s.b.Tokenize(ctx, s.o.text, true, false)
	if err != nil {
		t.Fatalf("Tokenize(%q): %v (set the text with plugintest.WithText)", s.o.text, err)
	}
	if len(ids) == 0 {
		t.Fatalf("Tokenize(%q) returned no tokens", s.o.text)
	}
	if _, err := s.b.Detokenize(ctx, ids); err != nil {
		t.Errorf("Detokenize(%v): %v", ids, err)
	}
	s.toks = ids
}

// seqToks returns the suite's token sequence (at least 2 tokens).
func (s *backendSuite) seqToks() []int32 {
	if len(s.toks) >= 2 {
		return s.toks
	}
	t := append([]int32(nil), s.toks...)
	for len(t) < 2 {
		id := int32(len(t)) % int32(s.info.VocabSize)
		t = append(t, id)
	}
	return t
}

// open opens a sequence or fails the test.
func (s *backendSuite) open(t *testing.T) backend.SeqID {
	t.Helper()
	seq, err := s.b.Open(ctxFor(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.b.Free(ctxFor(t), seq) })
	return seq
}

// stepOne steps seq with toks and returns its last distribution.
func (s *backendSuite) stepOne(t *testing.T, seq backend.SeqID, toks []int32, k int) dist.Dist {
	t.Helper()
	out, err := s.b.Step(ctxFor(t), []backend.StepInput{{Seq: seq, Tokens: toks, TopK: k}})
	if err != nil {
		t.Fatalf("Step: %v", err)
	}
	if len(out) != 1 || len(out[0].Dists) != 1 {
		t.Fatalf("Step of one sequence: %d outputs", len(out))
	}
	return out[0].Dists[0]
}

// checkDist checks that a distribution is well formed.
func (s *backendSuite) checkDist(t *testing.T, d *dist.Dist, k int) {
	t.Helper()
	if len(d.Top) == 0 {
		t.Fatal("empty distribution")
	}
	if k > 0 && len(d.Top) > k {
		t.Errorf("asked for top %d, got %d candidates", k, len(d.Top))
	}
	var mass float64
	for i, c := range d.Top {
		if !s.inVocab(c.ID) {
			t.Errorf("candidate %d: id %d outside the vocabulary", i, c.ID)
		}
		if c.LogProb > 1e-4 || math.IsNaN(float64(c.LogProb)) {
			t.Errorf("candidate %d: log-probability %v", i, c.LogProb)
		}
		if i > 0 && c.LogProb > d.Top[i-1].LogProb {
			t.Errorf("candidates not sorted: %v after %v", c.LogProb, d.Top[i-1].LogProb)
		}
		mass += math.Exp(float64(c.LogProb))
	}
	if mass > 1+1e-3 {
		t.Errorf("top candidates hold probability %v > 1", mass)
	}
	if d.Entropy < 0 || math.IsNaN(d.Entropy) {
		t.Errorf("entropy %v", d.Entropy)
	}
	if d.Full != nil {
		if len(d.Full) != s.info.VocabSize {
			t.Fatalf("full distribution of %d entries for a vocabulary of %d", len(d.Full), s.info.VocabSize)
		}
		var z float64
		for _, lp := range d.Full {
			z += math.Exp(float64(lp))
		}
		if math.Abs(z-1) > 1e-3 {
			t.Errorf("full distribution sums to %v", z)
		}
		for _, c := range d.Top {
			if math.Abs(float64(d.Full[c.ID]-c.LogProb)) > 1e-5 {
				t.Errorf("candidate %d: top log-probability %v, full %v", c.ID, c.LogProb, d.Full[c.ID])
			}
		}
	}
	if s.info.Caps.FullDist && d.Full == nil {
		t.Error("Caps.FullDist is set but Step returned no full distribution")
	}
}

func (s *backendSuite) step(t *testing.T) {
	toks := s.seqToks()
	for _, k := range []int{1, 5, 0} {
		seq := s.open(t)
		d := s.stepOne(t, seq, toks, k)
		s.checkDist(t, &d, k)
	}
	// Lazy catch-up: appending in two steps equals appending at once.
	a, b := s.open(t), s.open(t)
	da := s.stepOne(t, a, toks, 5)
	s.stepOne(t, b, toks[:1], 5)
	db := s.stepOne(t, b, toks[1:], 5)
	s.same(t, "one step vs two steps", &da, &db)
}

// same checks that two distributions of the same position agree within
// the tolerance.
func (s *backendSuite) same(t *testing.T, what string, a, b *dist.Dist) {
	t.Helper()
	if len(a.Top) == 0 || len(b.Top) == 0 {
		t.Fatalf("%s: empty distribution", what)
	}
	for _, c := range a.Top {
		lp, ok := b.LogProbOf(c.ID)
		if !ok {
			// A near-tie at the end of the top-k may swap candidates.
			if math.Abs(float64(c.LogProb-a.Top[len(a.Top)-1].LogProb)) <= s.o.tolerance {
				continue
			}
			t.Errorf("%s: token %d (log-prob %v) missing from the other answer", what, c.ID, c.LogProb)
			continue
		}
		if math.Abs(float64(lp-c.LogProb)) > s.o.tolerance {
			t.Errorf("%s: token %d log-prob %v vs %v (tolerance %v)", what, c.ID, c.LogProb, lp, s.o.tolerance)
		}
	}
}

func (s *backendSuite) batching(t *testing.T) {
	toks := s.seqToks()
	// Three sequences in one Step, each with different tokens...
	inputs := [][]int32{toks, toks[:1], append(append([]int32(nil), toks...), toks[0])}
	seqs := make([]backend.SeqID, len(inputs))
	in := make([]backend.StepInput, len(inputs))
	for i := range inputs {
		seqs[i] = s.open(t)
		in[i] = backend.StepInput{Seq: seqs[i], Tokens: inputs[i], TopK: 5}
	}
	out, err := s.b.Step(ctxFor(t), in)
	if err != nil {
		t.Fatalf("batched Step: %v", err)
	}
	if len(out) != len(in) {
		t.Fatalf("batched Step: %d outputs for %d inputs", len(out), len(in))
	}
	// ...answer what each would alone.
	for i := range inputs {
		alone := s.stepOne(t, s.open(t), inputs[i], 5)
		s.same(t, "batched vs alone", &out[i].Dists[0], &alone)
	}
}

func (s *backendSuite) determinism(t *testing.T) {
	toks := s.seqToks()
	a := s.stepOne(t, s.open(t), toks, 5)
	b := s.stepOne(t, s.open(t), toks, 5)
	s.same(t, "two runs", &a, &b)
}

func (s *backendSuite) forkTruncate(t *testing.T) {
	ctx := ctxFor(t)
	toks := s.seqToks()
	ref := s.stepOne(t, s.open(t), toks, 5)
	a := s.open(t)
	s.stepOne(t, a, toks[:1], 5)
	f, err := s.b.Fork(ctx, a)
	if err != nil {
		t.Fatalf("Fork: %v", err)
	}
	t.Cleanup(func() { _ = s.b.Free(ctxFor(t), f) })
	df := s.stepOne(t, f, toks[1:], 5)
	s.same(t, "fork", &ref, &df)
	// Truncating a longer sequence back to the prefix and re-stepping
	// answers like the prefix.
	c := s.open(t)
	long := append(append([]int32(nil), toks...), toks...)
	s.stepOne(t, c, long, 5)
	if err := s.b.Truncate(ctx, c, 1); err != nil {
		t.Fatalf("Truncate: %v", err)
	}
	dc := s.stepOne(t, c, toks[1:], 5)
	s.same(t, "truncate", &ref, &dc)
}

func (s *backendSuite) allPositions(t *testing.T) {
	toks := s.seqToks()
	out, err := s.b.Step(ctxFor(t), []backend.StepInput{{Seq: s.open(t), Tokens: toks, TopK: 5, AllPositions: true}})
	if err != nil {
		t.Fatalf("Step with AllPositions: %v", err)
	}
	if len(out[0].Dists) != len(toks) {
		t.Fatalf("AllPositions: %d distributions for %d tokens", len(out[0].Dists), len(toks))
	}
	last := s.stepOne(t, s.open(t), toks, 5)
	s.same(t, "last of all positions", &out[0].Dists[len(toks)-1], &last)
	first := s.stepOne(t, s.open(t), toks[:1], 5)
	s.same(t, "first of all positions", &out[0].Dists[0], &first)
}

func (s *backendSuite) errorPaths(t *testing.T) {
	ctx := ctxFor(t)
	v := int32(s.info.VocabSize)
	if _, err := s.b.Pieces(ctx, []int32{v}); err == nil {
		t.Errorf("Pieces of id %d (the vocabulary size) succeeded", v)
	}
	if _, err := s.b.Detokenize(ctx, []int32{-1}); err == nil {
		t.Error("Detokenize of id -1 succeeded")
	}
	seq := s.open(t)
	if _, err := s.b.Step(ctx, []backend.StepInput{{Seq: seq, Tokens: []int32{v}}}); err == nil {
		t.Errorf("Step with token %d (the vocabulary size) succeeded", v)
	}
	if _, err := s.b.Step(ctx, []backend.StepInput{{Seq: seq}}); err == nil {
		t.Error("Step with no tokens on an empty sequence succeeded")
	}
	if err := s.b.Truncate(ctx, seq, 5); err == nil {
		t.Error("Truncate of an empty sequence to 5 tokens succeeded")
	}
	gone, err := s.b.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.b.Free(ctx, gone); err != nil {
		t.Fatalf("Free: %v", err)
	}
	if _, err := s.b.Step(ctx, []backend.StepInput{{Seq: gone, Tokens: s.seqToks()}}); err == nil {
		t.Error("Step on a freed sequence succeeded")
	}
	// The plugin still works.
	d := s.stepOne(t, s.open(t), s.seqToks(), 5)
	s.checkDist(t, &d, 5)
}
