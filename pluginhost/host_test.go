package pluginhost_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/core/backend/backendtest"
	"github.com/baco-go/baco/core/dist"
	"github.com/baco-go/baco/core/route"
	"github.com/baco-go/baco/core/tokenclass"
	"github.com/baco-go/baco/pluginhost"
	"github.com/baco-go/baco/sdk/plugin"
)

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newHost returns a host over binDir only, isolated from the environment.
func newHost(t testing.TB, edit func(*pluginhost.Config)) (*pluginhost.Host, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	cfg := pluginhost.Config{
		Dirs:         []string{binDir},
		NoDefaultDir: true,
		Getenv:       func(string) string { return "" },
		Logger:       slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if edit != nil {
		edit(&cfg)
	}
	h, err := pluginhost.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return h, logs
}

func TestBackendMatchesInProcess(t *testing.T) {
	for _, shm := range []bool{true, false} {
		t.Run(fmt.Sprintf("shared memory %v", shm), func(t *testing.T) { testBackendMatches(t, shm) })
	}
}

func testBackendMatches(t *testing.T, shm bool) {
	ctx := context.Background()
	h, _ := newHost(t, func(c *pluginhost.Config) { c.NoSharedMemory = !shm })
	remote, err := h.Backend(ctx, "fake", "salt=base")
	if err != nil {
		t.Fatal(err)
	}
	if want := shm && runtime.GOOS == "linux"; remote.SharedMemory() != want {
		t.Errorf("shared memory in use: %v, want %v", remote.SharedMemory(), want)
	}
	local := backendtest.New("fake-base", backendtest.HashLogits(len(backendtest.Vocab()), "base"))
	ri, err := remote.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	li, _ := local.Info(ctx)
	if !reflect.DeepEqual(ri, li) {
		t.Errorf("Info through the plugin:\n%+v\nin process:\n%+v", ri, li)
	}
	rt, err := remote.Tokenize(ctx, "the cat sat", true, false)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int32{1, 3, 7, 9}; !reflect.DeepEqual(rt, want) { // <s> ▁the ▁cat ▁sat
		t.Errorf("Tokenize = %v, want %v", rt, want)
	}
	if _, err := remote.Tokenize(ctx, "zebra", false, false); err == nil || !strings.Contains(err.Error(), "plugin fake") || !strings.Contains(err.Error(), `unknown word "zebra"`) {
		t.Errorf("Tokenize of an unknown word: %v, want the plugin's error naming the plugin", err)
	}
	text, err := remote.Detokenize(ctx, []int32{3, 7, 12})
	if err != nil || text != " the cat." {
		t.Errorf("Detokenize = %q, %v", text, err)
	}
	ps, err := remote.Pieces(ctx, []int32{0, 15, 16})
	if err != nil || !reflect.DeepEqual(ps, []string{"<unk>", "<0x0A>", "ing"}) {
		t.Errorf("Pieces = %q, %v", ps, err)
	}

	// The same operations on both: distributions must be bit-identical.
	type pair struct{ r, l backend.SeqID }
	open := func() pair {
		r, err := remote.Open(ctx)
		if err != nil {
			t.Fatal(err)
		}
		l, _ := local.Open(ctx)
		return pair{r, l}
	}
	step := func(ps []pair, toks [][]int32, topK int, all bool) {
		t.Helper()
		var rin, lin []backend.StepInput
		for i, p := range ps {
			rin = append(rin, backend.StepInput{Seq: p.r, Tokens: toks[i], TopK: topK, AllPositions: all})
			lin = append(lin, backend.StepInput{Seq: p.l, Tokens: toks[i], TopK: topK, AllPositions: all})
		}
		ro, err := remote.Step(ctx, rin)
		if err != nil {
			t.Fatal(err)
		}
		lo, err := local.Step(ctx, lin)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(ro, lo) {
			t.Fatalf("Step through the plugin differs from in process:\n%+v\n%+v", ro, lo)
		}
	}
	a, b := open(), open()
	step([]pair{a, b}, [][]int32{{1, 3, 7}, {1, 4}}, 5, false)
	step([]pair{a, b}, [][]int32{{9}, {8, 10, 12}}, 0, true)
	rf, err := remote.Fork(ctx, a.r)
	if err != nil {
		t.Fatal(err)
	}
	lf, _ := local.Fork(ctx, a.l)
	c := pair{rf, lf}
	if err := remote.Truncate(ctx, c.r, 2); err != nil {
		t.Fatal(err)
	}
	_ = local.Truncate(ctx, c.l, 2)
	step([]pair{a, c}, [][]int32{{12}, {19}}, 3, false)
	for _, p := range []pair{a, b, c} {
		if err := remote.Free(ctx, p.r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := remote.Step(ctx, []backend.StepInput{{Seq: a.r, Tokens: []int32{3}}}); err == nil {
		t.Error("Step on a freed sequence succeeded")
	}
	if err := remote.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := remote.Open(ctx); !errors.Is(err, pluginhost.ErrClosed) {
		t.Errorf("Open after Close: %v, want ErrClosed", err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	checkClean(t)
}

// view builds a router view whose base top-1 is id with probability p1.
func view(table *tokenclass.Table, id int32, p1 float64, u float64) route.View {
	d := &dist.Dist{Top: []dist.Candidate{{ID: id, LogProb: float32(math.Log(p1)), Piece: backendtest.Vocab()[id]}}, Entropy: 1}
	text, class, ws, _ := table.Lookup(id)
	return route.View{Base: d, BaseTop: route.Top{ID: id, Piece: text, Class: class, WordStart: ws}, AlignedTop: route.Top{ID: -1}, U: u}
}

func TestRouterMatchesInProcess(t *testing.T) {
	ctx := context.Background()
	h, _ := newHost(t, nil)
	defer h.Close()
	special := []bool{true, true, true}
	table := tokenclass.NewTable(backendtest.Vocab(), special, tokenclass.StyleSPM)
	views := []route.View{
		view(table, 7, 0.2, 0.5),  // "▁cat", p1 0.2: base under both γ
		view(table, 7, 0.5, 0.5),  // p1 0.5: base for γ 0.7, aligned for γ 0.3
		view(table, 7, 0.9, 0.5),  // p1 0.9: aligned
		view(table, 12, 0.1, 0.5), // ".": punctuation → aligned
		view(table, 3, 0.1, 0.5),  // "▁the": content rule of p-punc does not apply → base
	}
	want := map[string][]float64{"0.3": {1, 0, 0, 0, 1}, "0.7": {1, 1, 0, 0, 1}}
	var pids []int
	for _, g := range []string{"0.3", "0.7"} {
		r, err := h.Router(ctx, "p-punc", g)
		if err != nil {
			t.Fatal(err)
		}
		local, err := route.Parse("p-punc:" + g)
		if err != nil {
			t.Fatal(err)
		}
		if r.Name() != local.Name() || r.Needs() != local.Needs() {
			t.Errorf("plugin router %q needs %+v, in process %q needs %+v", r.Name(), r.Needs(), local.Name(), local.Needs())
		}
		got := make([]route.Decision, len(views))
		if err := r.Decide(ctx, views, got); err != nil {
			t.Fatal(err)
		}
		ref := make([]route.Decision, len(views))
		if err := local.Decide(ctx, views, ref); err != nil {
			t.Fatal(err)
		}
		for i := range views {
			if got[i].Weight != want[g][i] || ref[i].Weight != want[g][i] {
				t.Errorf("γ %s view %d: plugin %v, in process %v, want %v", g, i, got[i].Weight, ref[i].Weight, want[g][i])
			}
		}
		pids = append(pids, r.PID())
	}
	if pids[0] == 0 || pids[0] != pids[1] {
		t.Errorf("two instances of one router plugin ran in processes %v, want one shared process", pids)
	}
	if _, err := h.Router(ctx, "p-punc", "1.5"); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Errorf("γ out of range: %v", err)
	}
}

func TestKilledBackendFailsItsCallsAndRestarts(t *testing.T) {
	ctx := context.Background()
	h, _ := newHost(t, nil)
	marker := filepath.Join(t.TempDir(), "blocked")
	b, err := h.Backend(ctx, "fake", "salt=x&block-after=1&marker="+marker)
	if err != nil {
		t.Fatal(err)
	}
	seq, err := b.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Step(ctx, []backend.StepInput{{Seq: seq, Tokens: []int32{1, 3}}}); err != nil {
		t.Fatal(err)
	}
	pid := b.PID()
	errc := make(chan error, 1)
	go func() {
		_, err := b.Step(ctx, []backend.StepInput{{Seq: seq, Tokens: []int32{7}}})
		errc <- err
	}()
	waitFile(t, marker)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err = <-errc
	if err == nil || !strings.Contains(err.Error(), "plugin fake") || !errors.Is(err, plugin.ErrUnavailable) {
		t.Fatalf("Step on a killed plugin: %v, want an ErrUnavailable error naming plugin fake", err)
	}
	t.Logf("killed mid-step: %v", err)
	// The old sequence is gone; new work gets a fresh process.
	var lost *pluginhost.LostError
	if _, err := b.Step(ctx, []backend.StepInput{{Seq: seq, Tokens: []int32{7}}}); !errors.As(err, &lost) {
		t.Errorf("Step on a sequence of the dead process: %v, want LostError", err)
	}
	seq2, err := b.Open(ctx)
	if err != nil {
		t.Fatalf("Open after the crash: %v", err)
	}
	if b.PID() == pid || b.PID() == 0 {
		t.Errorf("after a restart the pid is %d (was %d)", b.PID(), pid)
	}
	out, err := b.Step(ctx, []backend.StepInput{{Seq: seq2, Tokens: []int32{1, 3}}})
	if err != nil || len(out) != 1 {
		t.Fatalf("Step after the restart: %v", err)
	}
	if err := b.Free(ctx, seq); err != nil {
		t.Errorf("Free of a lost sequence: %v", err)
	}
	h.Close()
	checkClean(t)
}

// waitFile waits until path exists (the plugin reached the point a test
// needs). It gives up after a generous bound so a broken plugin fails the
// test instead of hanging it.
func waitFile(t *testing.T, path string) {
	t.Helper()
	for i := 0; i < 6000; i++ {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s never appeared", path)
}

func TestHungBackendTimesOutAndRestarts(t *testing.T) {
	ctx := context.Background()
	h, _ := newHost(t, func(c *pluginhost.Config) { c.StepTimeout = 300 * time.Millisecond })
	b, err := h.Backend(ctx, "fake", "block-after=0")
	if err != nil {
		t.Fatal(err)
	}
	seq, _ := b.Open(ctx)
	_, err = b.Step(ctx, []backend.StepInput{{Seq: seq, Tokens: []int32{1}}})
	if err == nil || !strings.Contains(err.Error(), "plugin fake") || !strings.Contains(err.Error(), "no answer within") {
		t.Fatalf("Step on a hung plugin: %v", err)
	}
	pid := b.PID()
	if _, err := b.Open(ctx); err != nil {
		t.Fatalf("Open after the hang: %v", err)
	}
	if b.PID() == pid {
		t.Error("the hung process was not replaced")
	}
	h.Close()
	checkClean(t)
}

func TestGarbageAnswerFailsAndRestarts(t *testing.T) {
	ctx := context.Background()
	h, _ := newHost(t, nil)
	b, err := h.Backend(ctx, "fake", "garbage-after=1")
	if err != nil {
		t.Fatal(err)
	}
	seq, _ := b.Open(ctx)
	if _, err := b.Step(ctx, []backend.StepInput{{Seq: seq, Tokens: []int32{1}}}); err != nil {
		t.Fatal(err)
	}
	_, err = b.Step(ctx, []backend.StepInput{{Seq: seq, Tokens: []int32{3}}})
	if !errors.Is(err, plugin.ErrBadAnswer) || !strings.Contains(err.Error(), "plugin fake") || !strings.Contains(err.Error(), "outside the vocabulary") {
		t.Fatalf("garbage answer: %v", err)
	}
	pid := b.PID()
	if _, err := b.Open(ctx); err != nil {
		t.Fatal(err)
	}
	if b.PID() == pid {
		t.Error("a plugin that answered garbage was not replaced")
	}
	h.Close()
	checkClean(t)
}

func TestPinning(t *testing.T) {
	ctx := context.Background()
	sum := sha256File(t, filepath.Join(binDir, fakeBin))
	wrong := strings.Repeat("0", 64)
	tests := []struct {
		name, pin string
		wantErr   []string
	}{
		{"matching pin", sum, nil},
		{"upper-case pin", strings.ToUpper(sum), nil},
		{"wrong pin", wrong, []string{"refused", "sha256", sum, wrong, fakeBin}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := newHost(t, func(c *pluginhost.Config) {
				c.Plugins = map[string]pluginhost.Spec{"fake": {SHA256: tt.pin}}
			})
			defer h.Close()
			b, err := h.Backend(ctx, "fake", "")
			if tt.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				b.Close()
				return
			}
			t.Logf("refused: %v", err)
			var pm *pluginhost.PinMismatchError
			if !errors.As(err, &pm) {
				t.Fatalf("err = %v, want PinMismatchError", err)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	if _, err := pluginhost.New(pluginhost.Config{Plugins: map[string]pluginhost.Spec{"fake": {SHA256: "abc"}}}); err == nil || !strings.Contains(err.Error(), "64 hex digits") {
		t.Errorf("malformed pin: %v", err)
	}
	checkClean(t)
}

func TestRefusals(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	script := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name    string
		kind    string
		spec    pluginhost.Spec
		wantErr []string
	}{
		{"unknown protocol version", plugin.KindBackend, pluginhost.Spec{Path: filepath.Join(binDir, badProtoBin)},
			[]string{"plugin badproto", "refused", "does not speak protocol version 1", "Plugin version: 99"}},
		{"unknown kind", plugin.KindRouter, pluginhost.Spec{Path: filepath.Join(binDir, badKindBin)},
			[]string{"plugin badkind", "refused", `unknown kind "frobnicator"`}},
		{"router asked for as a backend", plugin.KindBackend, pluginhost.Spec{Kind: plugin.KindBackend, Path: filepath.Join(binDir, pPuncBin)},
			[]string{"refused", "it is a router plugin, not a backend plugin"}},
		{"not a plugin", plugin.KindBackend, pluginhost.Spec{Kind: plugin.KindBackend, Path: script("hello", "echo hello")},
			[]string{"refused", "not a baco plugin"}},
		{"never answers", plugin.KindBackend, pluginhost.Spec{Kind: plugin.KindBackend, Path: script("sleeper", "exec sleep 60")},
			[]string{"refused", "did not complete the handshake within"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := strings.ReplaceAll(tt.name, " ", "-")
			if strings.HasPrefix(filepath.Base(tt.spec.Path), "baco-") {
				name = strings.TrimPrefix(strings.TrimPrefix(filepath.Base(tt.spec.Path), "baco-backend-"), "baco-router-")
			}
			h, _ := newHost(t, func(c *pluginhost.Config) {
				c.Dirs = nil
				c.Plugins = map[string]pluginhost.Spec{name: tt.spec}
				c.StartTimeout = 2 * time.Second
			})
			defer h.Close()
			var err error
			if tt.kind == plugin.KindBackend {
				_, err = h.Backend(ctx, name, "")
			} else {
				_, err = h.Router(ctx, name, "")
			}
			if err == nil {
				t.Fatal("started")
			}
			t.Logf("refused: %v", err)
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	checkClean(t)
}

func TestPluginLogsReachSlog(t *testing.T) {
	ctx := context.Background()
	h, logs := newHost(t, nil)
	b, err := h.Backend(ctx, "fake", "salt=s1&log=hello+from+the+plugin")
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	h.Close()
	got := logs.String()
	found := false
	for _, line := range strings.Split(got, "\n") {
		if strings.Contains(line, `msg="hello from the plugin"`) && strings.Contains(line, "level=WARN") &&
			strings.Contains(line, "plugin="+fakeBin) && strings.Contains(line, "salt=s1") {
			found = true
		}
	}
	if !found {
		t.Errorf("the plugin's warning did not reach the host log at WARN with its attributes:\n%s", got)
	}
}

// Concurrent steps on one backend (more than it has shared-memory slots)
// answer what each would alone.
func TestConcurrentSteps(t *testing.T) {
	ctx := context.Background()
	h, _ := newHost(t, nil)
	defer h.Close()
	remote, err := h.Backend(ctx, "fake", "salt=c")
	if err != nil {
		t.Fatal(err)
	}
	const workers = 12
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := backendtest.New("fake-c", backendtest.HashLogits(len(backendtest.Vocab()), "c"))
			rs, err := remote.Open(ctx)
			if err != nil {
				errs <- err
				return
			}
			ls, _ := local.Open(ctx)
			toks := []int32{1, int32(3 + w%10)}
			for i := 0; i < 20; i++ {
				ro, err := remote.Step(ctx, []backend.StepInput{{Seq: rs, Tokens: toks, AllPositions: true}})
				if err != nil {
					errs <- err
					return
				}
				lo, _ := local.Step(ctx, []backend.StepInput{{Seq: ls, Tokens: toks, AllPositions: true}})
				if !reflect.DeepEqual(ro, lo) {
					errs <- fmt.Errorf("worker %d step %d: answers differ", w, i)
					return
				}
				toks = []int32{ro[0].Dists[len(ro[0].Dists)-1].TopID()}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestKilledRouterRestarts(t *testing.T) {
	ctx := context.Background()
	h, _ := newHost(t, nil)
	r, err := h.Router(ctx, "p-punc", "0.3")
	if err != nil {
		t.Fatal(err)
	}
	table := tokenclass.NewTable(backendtest.Vocab(), []bool{true, true, true}, tokenclass.StyleSPM)
	views := []route.View{view(table, 7, 0.2, 0.5), view(table, 12, 0.1, 0.5)}
	out := make([]route.Decision, len(views))
	if err := r.Decide(ctx, views, out); err != nil {
		t.Fatal(err)
	}
	pid := r.PID()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// The first call after the kill may still reach the dead process (and
	// must then fail naming the plugin); the next one gets a new process.
	err = r.Decide(ctx, views, out)
	if err != nil {
		if !strings.Contains(err.Error(), "plugin p-punc") {
			t.Errorf("Decide on a killed router: %v, want an error naming the plugin", err)
		}
		err = r.Decide(ctx, views, out)
	}
	if err != nil {
		t.Fatalf("Decide after the restart: %v", err)
	}
	if out[0].Weight != 1 || out[1].Weight != 0 || r.PID() == pid {
		t.Errorf("after the restart: weights %v, pid %d (was %d)", out, r.PID(), pid)
	}
	h.Close()
	checkClean(t)
}
