package decode

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/baco-go/baco/core/route"
)

func TestBatcherMatchesGenerate(t *testing.T) {
	defer goleak.VerifyNone(t)
	b, a := newPair(t)
	r := funcRouter{needs: route.Needs{Base: true}, f: func(v route.View) float64 {
		if v.Base.P1() < 0.2 {
			return 1
		}
		return 0
	}}
	d := newDecoder(t, b, a, r, BoundaryWord)
	mk := func(i int) Request {
		return Request{BasePrompt: []int32{1, 3, int32(7 + i%3)}, AlignedPrompt: []int32{1, 4}, N: 1 + i%3, Seed: uint64(i),
			MaxTokens: 10 + i, BaseSampling: warm, AlignedSampling: warm}
	}
	const reqs = 12
	want := make([]*Result, reqs)
	for i := range want {
		res, err := d.Generate(context.Background(), mk(i))
		if err != nil {
			t.Fatal(err)
		}
		want[i] = res
	}
	ctx, cancel := context.WithCancel(context.Background())
	bt := d.NewBatcher(BatcherOptions{MaxSeqs: 8, QueueLen: reqs})
	done := make(chan error)
	go func() { done <- bt.Run(ctx) }()
	var wg sync.WaitGroup
	got := make([]*Result, reqs)
	errs := make([]error, reqs)
	for i := 0; i < reqs; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = bt.Submit(context.Background(), mk(i))
		}()
	}
	wg.Wait()
	cancel()
	<-done
	for i := range got {
		if errs[i] != nil {
			t.Fatalf("request %d: %v", i, errs[i])
		}
		if !reflect.DeepEqual(got[i].Samples, want[i].Samples) {
			t.Fatalf("request %d: batched result differs from Generate's", i)
		}
	}
	if b.Live() != 0 || a.Live() != 0 {
		t.Fatalf("sequences left open: base %d aligned %d", b.Live(), a.Live())
	}
	// Steps of the batched run carried several sequences at once.
	maxBatch := 0
	for _, c := range b.Calls() {
		maxBatch = max(maxBatch, len(c))
	}
	if maxBatch < 2 {
		t.Fatalf("no base Step carried more than %d sequences", maxBatch)
	}
}

func TestBatcherQueueFullAndCancel(t *testing.T) {
	defer goleak.VerifyNone(t)
	b, a := newPair(t)
	gate := make(chan struct{})
	b.BeforeStep = func(ctx context.Context) error {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
		return nil
	}
	d := newDecoder(t, b, a, funcRouter{needs: route.Needs{Base: true}, f: func(route.View) float64 { return 1 }}, BoundaryWord)
	ctx, cancel := context.WithCancel(context.Background())
	bt := d.NewBatcher(BatcherOptions{MaxSeqs: 1, QueueLen: 1})
	done := make(chan error)
	go func() { done <- bt.Run(ctx) }()
	req := Request{BasePrompt: []int32{1}, AlignedPrompt: []int32{1}, MaxTokens: 3}
	// The first request runs (blocked in Step), the second waits in the
	// queue, the third is refused.
	first := make(chan error, 1)
	rctx, rcancel := context.WithCancel(context.Background())
	go func() { _, err := bt.Submit(rctx, req); first <- err }()
	waitFor(t, func() bool { return bt.Stats().Running == 1 })
	second := make(chan error, 1)
	go func() { _, err := bt.Submit(context.Background(), req); second <- err }()
	waitFor(t, func() bool { return bt.Stats().Queued == 1 })
	if _, err := bt.Submit(context.Background(), req); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("third request: got %v, want ErrQueueFull", err)
	}
	rcancel()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled request: got %v", err)
	}
	close(gate)
	if err := <-second; err != nil {
		t.Fatalf("queued request: %v", err)
	}
	cancel()
	<-done
	if _, err := bt.Submit(context.Background(), req); !errors.Is(err, ErrBatcherClosed) {
		t.Fatalf("after Run returned: got %v, want ErrBatcherClosed", err)
	}
	waitFor(t, func() bool { return b.Live() == 0 && a.Live() == 0 })
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

type failingRouter struct{ funcRouter }

func (failingRouter) Decide(context.Context, []route.View, []route.Decision) error {
	return errors.New("rule blew up")
}

func TestBatcherRouterErrorFailsOnlyItsRequest(t *testing.T) {
	defer goleak.VerifyNone(t)
	b, a := newPair(t)
	d := newDecoder(t, b, a, funcRouter{f: func(route.View) float64 { return 0 }}, BoundaryWord)
	ctx, cancel := context.WithCancel(context.Background())
	var steps int
	bt := d.NewBatcher(BatcherOptions{MaxSeqs: 8, OnStep: func(n int, _ time.Duration) { steps++ }})
	done := make(chan error)
	go func() { done <- bt.Run(ctx) }()
	good := Request{BasePrompt: []int32{1}, AlignedPrompt: []int32{1}, MaxTokens: 30, N: 2}
	bad := good
	bad.Router = failingRouter{}
	var wg sync.WaitGroup
	var errGood, errBad error
	var resGood *Result
	wg.Add(2)
	go func() { defer wg.Done(); resGood, errGood = bt.Submit(context.Background(), good) }()
	go func() { defer wg.Done(); _, errBad = bt.Submit(context.Background(), bad) }()
	wg.Wait()
	if errGood != nil || len(resGood.Samples) != 2 || len(resGood.Samples[0].IDs) != 30 {
		t.Fatalf("good request: %v", errGood)
	}
	if errBad == nil || !strings.Contains(errBad.Error(), "rule blew up") {
		t.Fatalf("bad request: got %v", errBad)
	}
	waitFor(t, func() bool { return bt.Stats().Running == 0 })
	cancel()
	<-done
	if steps < 30 {
		t.Fatalf("OnStep called %d times for 30 tokens", steps)
	}
}
