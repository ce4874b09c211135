package pluginhost_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/core/dist"
	"github.com/baco-go/baco/engine"
	"github.com/baco-go/baco/engine/gguf"
	"github.com/baco-go/baco/engine/modelgen"
	"github.com/baco-go/baco/internal/testdata"
	"github.com/baco-go/baco/pluginhost"
)

var (
	smolOnce sync.Once
	smolPath string
	smolErr  error
)

// smolLM2 writes (once per run) a random SmolLM2-135M-shaped Q8_0 model.
func smolLM2(b *testing.B) string {
	smolOnce.Do(func() {
		smolPath = filepath.Join(binDir, "smollm2-135m-q8_0.gguf")
		smolErr = modelgen.Write(smolPath, modelgen.Options{Shape: modelgen.SmolLM2_135M(), Type: gguf.TypeQ8_0, Seed: 1})
	})
	if smolErr != nil {
		b.Fatal(smolErr)
	}
	return smolPath
}

// BenchmarkStep measures one decode step (one new token for every sequence
// of the batch, top-40 plus the full distribution back) through the gguf
// backend in process and through the gguf plugin binary.
func BenchmarkStep(b *testing.B) {
	models := []struct {
		name string
		path func(*testing.B) string
	}{
		{"stories260K", func(b *testing.B) string { return testdata.Path(b, "models/stories260K.gguf") }},
		{"smollm2-135m-q8_0", smolLM2},
	}
	for _, m := range models {
		b.Run(m.name, func(b *testing.B) {
			path := m.path(b)
			e, err := engine.Load(path)
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			h, _ := newHost(b, nil)
			defer h.Close()
			p, err := h.Backend(context.Background(), "gguf", path)
			if err != nil {
				b.Fatal(err)
			}
			for _, batch := range []int{1, 16} {
				b.Run(fmt.Sprintf("in-process/batch%d", batch), func(b *testing.B) { benchStep(b, e, batch, 0) })
				b.Run(fmt.Sprintf("plugin/batch%d", batch), func(b *testing.B) { benchStep(b, p, batch, p.PID()) })
			}
		})
	}
}

// benchStep reports, besides the wall time, the CPU time the step cost
// this process and the plugin process (pid, 0 for none) together: on a
// shared machine the wall time of two cooperating processes suffers more
// from other load than one process does, while the CPU time measures the
// work the plugin path adds.
func benchStep(b *testing.B, be backend.Backend, batch, pid int) {
	ctx := context.Background()
	prompt := []int32{1, 400, 401, 402}
	const window = 32 // steps before the sequences are truncated back
	seqs := make([]backend.SeqID, batch)
	in := make([]backend.StepInput, batch)
	for i := range seqs {
		s, err := be.Open(ctx)
		if err != nil {
			b.Fatal(err)
		}
		defer be.Free(ctx, s)
		seqs[i] = s
		in[i] = backend.StepInput{Seq: s, Tokens: prompt, TopK: 40}
	}
	out, err := be.Step(ctx, in)
	if err != nil {
		b.Fatal(err)
	}
	cpu0 := cpuTime(b, pid)
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		for i, s := range seqs {
			in[i] = backend.StepInput{Seq: s, Tokens: []int32{out[i].Dists[0].TopID()}, TopK: 40}
		}
		if n > 0 && n%window == 0 {
			// Keep the context short: back to the prompt minus its last
			// token, which this step appends again.
			b.StopTimer()
			for i, s := range seqs {
				if err := be.Truncate(ctx, s, len(prompt)-1); err != nil {
					b.Fatal(err)
				}
				in[i].Tokens = prompt[len(prompt)-1:]
			}
			b.StartTimer()
		}
		if out, err = be.Step(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "tok/s")
	if cpu := cpuTime(b, pid) - cpu0; cpu > 0 {
		b.ReportMetric(cpu.Seconds()*1e3/float64(b.N), "cpu-ms/op")
	}
}

// cpuTime is the CPU time (user+system) used so far by this process plus
// the process pid (0: none); 0 where /proc and getrusage are unavailable.
func cpuTime(b *testing.B, pid int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	d := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	if pid == 0 {
		return d
	}
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(st)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		b.Fatalf("/proc/%d/stat: %q", pid, s)
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)  // utime, field 14
	stm, _ := strconv.ParseInt(f[12], 10, 64) // stime, field 15
	const clkTck = 100                        // USER_HZ on Linux
	return d + time.Duration(ut+stm)*time.Second/clkTck
}

// constBackend answers one precomputed distribution for every sequence:
// the in-process twin of the fake plugin's const mode, so the difference
// between the two is the protocol's cost alone.
type constBackend struct {
	backend.Backend
	d *dist.Dist
}

func (c constBackend) Step(_ context.Context, in []backend.StepInput) ([]backend.StepOutput, error) {
	out := make([]backend.StepOutput, len(in))
	for i := range out {
		out[i].Dists = []dist.Dist{*c.d}
	}
	return out, nil
}

// BenchmarkProtocol measures the plugin path's cost per decode step with a
// zero-cost model: the RPC round trip plus moving top-40 and the full
// distribution of every sequence, for the vocabularies of stories260K,
// SmolLM2 and Qwen2.
func BenchmarkProtocol(b *testing.B) {
	ctx := context.Background()
	h, _ := newHost(b, nil)
	defer h.Close()
	hInline, _ := newHost(b, func(c *pluginhost.Config) { c.NoSharedMemory = true })
	defer hInline.Close()
	for _, vocab := range []int{512, 49152, 151936} {
		p, err := h.Backend(ctx, "fake", fmt.Sprintf("const=%d", vocab))
		if err != nil {
			b.Fatal(err)
		}
		if !p.SharedMemory() {
			b.Log("shared memory unavailable: the plugin rows measure the inline path")
		}
		pi, err := hInline.Backend(ctx, "fake", fmt.Sprintf("const=%d", vocab))
		if err != nil {
			b.Fatal(err)
		}
		local := constBackend{Backend: localFake("x"), d: constDist(vocab)}
		for _, batch := range []int{1, 16} {
			for _, m := range []struct {
				name string
				be   backend.Backend
			}{{"in-process", local}, {"plugin", p}, {"plugin-inline", pi}} {
				b.Run(fmt.Sprintf("vocab%d/%s/batch%d", vocab, m.name, batch), func(b *testing.B) {
					in := make([]backend.StepInput, batch)
					for i := range in {
						s, err := m.be.Open(ctx)
						if err != nil {
							b.Fatal(err)
						}
						in[i] = backend.StepInput{Seq: s, Tokens: []int32{1}, TopK: 40}
					}
					b.ResetTimer()
					for n := 0; n < b.N; n++ {
						out, err := m.be.Step(ctx, in)
						if err != nil || len(out[batch-1].Dists[0].Full) != vocab {
							b.Fatal(err)
						}
					}
					b.SetBytes(int64(batch * vocab * 4))
				})
			}
		}
		p.Close()
		pi.Close()
	}
}

// constDist is the fake plugin's const-mode distribution.
func constDist(v int) *dist.Dist {
	logits := make([]float32, v)
	for i := range logits {
		logits[i] = float32(i%97) / 10
	}
	d := dist.FromLogits(logits, 40)
	return &d
}
