package remote

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/core/dist"
)

// echoQuery answers with a one-candidate dist whose id is the length of
// the token list, and records every list it saw.
type echoQuery struct {
	mu   sync.Mutex
	seen [][]int32
	fail func(q Query) error
}

func (e *echoQuery) query(ctx context.Context, q Query) (dist.Dist, error) {
	e.mu.Lock()
	e.seen = append(e.seen, slices.Clone(q.Tokens))
	e.mu.Unlock()
	if e.fail != nil {
		if err := e.fail(q); err != nil {
			return dist.Dist{}, err
		}
	}
	return dist.Dist{Top: []dist.Candidate{{ID: int32(len(q.Tokens))}}}, nil
}

func ident(k int) int { return k }

func TestStepBatchValidation(t *testing.T) {
	lim := Limits{Vocab: 10, ContextLen: 4}
	for _, tc := range []struct {
		name string
		in   func(a, b backend.SeqID) []backend.StepInput
		want string
	}{
		{"unknown seq", func(a, b backend.SeqID) []backend.StepInput {
			return []backend.StepInput{{Seq: 99, Tokens: []int32{1}}}
		}, "unknown sequence"},
		{"repeated seq", func(a, b backend.SeqID) []backend.StepInput {
			return []backend.StepInput{{Seq: a, Tokens: []int32{1}}, {Seq: a, Tokens: []int32{2}}}
		}, "both extend seq"},
		{"negative topk", func(a, b backend.SeqID) []backend.StepInput {
			return []backend.StepInput{{Seq: a, Tokens: []int32{1}, TopK: -1}}
		}, "negative TopK"},
		{"empty on empty", func(a, b backend.SeqID) []backend.StepInput { return []backend.StepInput{{Seq: a}} }, "no tokens to append"},
		{"id too big", func(a, b backend.SeqID) []backend.StepInput {
			return []backend.StepInput{{Seq: a, Tokens: []int32{10}}}
		}, "id 10 outside the vocabulary [0, 10)"},
		{"negative id", func(a, b backend.SeqID) []backend.StepInput {
			return []backend.StepInput{{Seq: a, Tokens: []int32{-2}}}
		}, "id -2 outside"},
		{"overflow", func(a, b backend.SeqID) []backend.StepInput {
			return []backend.StepInput{{Seq: b, Tokens: []int32{1, 2}}}
		}, "3 held + 2 new tokens exceed the context length 4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewSeqs()
			a, _ := s.Open()
			b, _ := s.Open()
			s.Append(b, []int32{1, 2, 3})
			q := &echoQuery{}
			_, err := StepBatch(context.Background(), s, tc.in(a, b), lim, 4, ident, q.query)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if len(q.seen) != 0 {
				t.Errorf("%d queries sent before validation failed", len(q.seen))
			}
		})
	}
}

func TestStepBatchCommitsOnlyOnSuccess(t *testing.T) {
	s := NewSeqs()
	a, _ := s.Open()
	b, _ := s.Open()
	boom := errors.New("boom")
	q := &echoQuery{fail: func(q Query) error {
		if len(q.Tokens) == 3 {
			return boom
		}
		return nil
	}}
	in := []backend.StepInput{{Seq: a, Tokens: []int32{1, 2}}, {Seq: b, Tokens: []int32{1, 2, 3}}}
	_, err := StepBatch(context.Background(), s, in, Limits{Vocab: 10}, 2, ident, q.query)
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), fmt.Sprintf("seq %d", b)) {
		t.Fatalf("err = %v", err)
	}
	for _, id := range []backend.SeqID{a, b} {
		if n, _ := s.Len(id); n != 0 {
			t.Errorf("seq %d holds %d tokens after a failed step", id, n)
		}
	}
	q.fail = nil
	out, err := StepBatch(context.Background(), s, in, Limits{Vocab: 10}, 2, ident, q.query)
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Dists[0].TopID() != 2 || out[1].Dists[0].TopID() != 3 {
		t.Errorf("outputs out of order: %+v", out)
	}
	// A re-read (no tokens) sends the held tokens again.
	out, err = StepBatch(context.Background(), s, []backend.StepInput{{Seq: b}}, Limits{Vocab: 10}, 2, ident, q.query)
	if err != nil || out[0].Dists[0].TopID() != 3 {
		t.Fatalf("re-read: %+v, %v", out, err)
	}
}

func TestStepBatchAllPositions(t *testing.T) {
	s := NewSeqs()
	a, _ := s.Open()
	s.Append(a, []int32{7})
	q := &echoQuery{}
	out, err := StepBatch(context.Background(), s, []backend.StepInput{{Seq: a, Tokens: []int32{1, 2, 3}, AllPositions: true}},
		Limits{Vocab: 10}, 1, ident, q.query)
	if err != nil {
		t.Fatal(err)
	}
	// One query per prefix ending at each appended token.
	if len(out[0].Dists) != 3 || out[0].Dists[0].TopID() != 2 || out[0].Dists[1].TopID() != 3 || out[0].Dists[2].TopID() != 4 {
		t.Fatalf("dists = %+v", out[0].Dists)
	}
	if got, _ := s.Tokens(a); !slices.Equal(got, []int32{7, 1, 2, 3}) {
		t.Errorf("tokens = %v", got)
	}
}

func TestEachBoundsConcurrency(t *testing.T) {
	var inFlight, peak atomic.Int32
	gate := make(chan struct{})
	var started sync.WaitGroup
	started.Add(3)
	done := make(chan error)
	go func() {
		done <- Each(context.Background(), 12, 3, func(ctx context.Context, i int) error {
			n := inFlight.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			if i < 3 {
				started.Done()
			}
			<-gate
			inFlight.Add(-1)
			return nil
		})
	}()
	started.Wait() // three calls are running at once
	close(gate)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if peak.Load() != 3 {
		t.Errorf("peak concurrency %d, want 3", peak.Load())
	}
}

func TestEachFirstErrorCancels(t *testing.T) {
	boom := errors.New("boom")
	var calls atomic.Int32
	err := Each(context.Background(), 100, 2, func(ctx context.Context, i int) error {
		calls.Add(1)
		if i == 0 {
			return boom
		}
		<-ctx.Done() // the others wait for the cancellation
		return ctx.Err()
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if calls.Load() > 3 {
		t.Errorf("%d calls started after the failure", calls.Load())
	}
}
