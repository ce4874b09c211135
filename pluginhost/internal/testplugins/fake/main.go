// Command fake is a test backend plugin: backendtest.Fake served through
// sdk/plugin, with misbehaviours the host tests provoke through its
// parameter string (URL query syntax):
//
//	salt=S          the Fake's logits salt (two salts, two models)
//	block-after=N   the (N+1)th Step blocks forever, after creating the file
//	                marker=PATH (so a test knows the plugin is mid-step); with
//	                a marker it blocks only while the file does not exist yet,
//	                so a restarted process behaves
//	garbage-after=N the (N+1)th Step answers a token id outside the vocabulary
//	exit-after=N    the (N+1)th Step exits the process
//	log=MSG         logs MSG at warn level when configured
//	noeos=1         the end-of-sequence token is never likely
//	const=V         a zero-cost model for protocol benchmarks: a vocabulary
//	                of V pieces and one precomputed distribution (top-40 and
//	                the full vocabulary) answered for every sequence
//
// Unlike the bare Fake it refuses token ids outside the vocabulary, as a
// real backend must (sdk/plugintest checks it).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"sync/atomic"

	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/core/backend/backendtest"
	"github.com/baco-go/baco/core/dist"
	"github.com/baco-go/baco/sdk/plugin"
)

type misbehaving struct {
	*backendtest.Fake
	constant                        *dist.Dist
	steps                           atomic.Int64
	blockAfter, garbageAfter, exitN int64
	marker                          string
}

func (m *misbehaving) Step(ctx context.Context, in []backend.StepInput) ([]backend.StepOutput, error) {
	n := m.steps.Add(1) - 1
	if m.exitN >= 0 && n == m.exitN {
		os.Exit(3)
	}
	if m.blockAfter >= 0 && n == m.blockAfter {
		block := true
		if m.marker != "" {
			if _, err := os.Stat(m.marker); err == nil {
				block = false
			} else {
				_ = os.WriteFile(m.marker, []byte(strconv.Itoa(os.Getpid())), 0o644)
			}
		}
		if block {
			select {} // hang, ignoring ctx, until killed
		}
	}
	if m.constant != nil {
		out := make([]backend.StepOutput, len(in))
		for i := range out {
			out[i].Dists = []dist.Dist{*m.constant}
		}
		return out, nil
	}
	for _, x := range in {
		for _, t := range x.Tokens {
			if t < 0 || int(t) >= len(m.Vocabulary) {
				return nil, fmt.Errorf("fake: token %d outside the vocabulary of %d", t, len(m.Vocabulary))
			}
		}
	}
	out, err := m.Fake.Step(ctx, in)
	if err == nil && m.garbageAfter >= 0 && n >= m.garbageAfter && len(out) > 0 && len(out[0].Dists) > 0 && len(out[0].Dists[0].Top) > 0 {
		out[0].Dists[0].Top[0].ID = 1 << 20
	}
	return out, err
}

// ConstDist is the distribution of the const=V mode.
func ConstDist(v int) *dist.Dist {
	logits := make([]float32, v)
	for i := range logits {
		logits[i] = float32(i%97) / 10
	}
	d := dist.FromLogits(logits, 40)
	return &d
}

func intParam(q url.Values, k string) (int64, error) {
	s := q.Get(k)
	if s == "" {
		return -1, nil
	}
	return strconv.ParseInt(s, 10, 64)
}

func main() {
	log := plugin.Logger(slog.LevelDebug)
	plugin.ServeBackendFactory(func(_ context.Context, params string) (backend.Backend, error) {
		q, err := url.ParseQuery(params)
		if err != nil {
			return nil, fmt.Errorf("params %q: %w", params, err)
		}
		salt := q.Get("salt")
		logits := backendtest.HashLogits(len(backendtest.Vocab()), salt)
		if q.Get("noeos") != "" {
			inner := logits
			logits = func(ctx []int32) []float32 {
				l := inner(ctx)
				l[2] = -100
				return l
			}
		}
		m := &misbehaving{Fake: backendtest.New("fake-"+salt, logits), marker: q.Get("marker")}
		if m.blockAfter, err = intParam(q, "block-after"); err != nil {
			return nil, err
		}
		if m.garbageAfter, err = intParam(q, "garbage-after"); err != nil {
			return nil, err
		}
		if m.exitN, err = intParam(q, "exit-after"); err != nil {
			return nil, err
		}
		if v := q.Get("const"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 2 || n > 1<<20 {
				return nil, fmt.Errorf("const=%q: want a vocabulary size in 2..%d", v, 1<<20)
			}
			m.constant = ConstDist(n)
			m.Vocabulary = make([]string, n)
			for i := range m.Vocabulary {
				m.Vocabulary[i] = "t" + strconv.Itoa(i)
			}
		}
		if msg := q.Get("log"); msg != "" {
			log.Warn(msg, "salt", salt)
		}
		return m, nil
	}, plugin.WithName("fake"), plugin.WithVersion("1.2.3"), plugin.WithLogger(log),
		plugin.WithDescription("in-memory test backend"), plugin.WithParamsHelp("URL query: salt, noeos, block-after, garbage-after, exit-after, marker, log"))
}
