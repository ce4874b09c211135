package eval_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/eval"
)

// The kill tests re-execute this test binary as a child that runs an
// evaluation and, at a chosen Step of the models, writes a marker file and
// blocks forever; the parent waits for the marker and SIGKILLs the child,
// so the kill happens mid-run at a known place without timing guesses.
const (
	childEnv = "BACO_EVAL_TEST_CHILD" // the experiment file
	hangEnv  = "BACO_EVAL_TEST_HANG"  // "decode:N" or "score:N"
)

func TestMain(m *testing.M) {
	if path := os.Getenv(childEnv); path != "" {
		os.Exit(runChild(path, os.Getenv(hangEnv)))
	}
	os.Exit(m.Run())
}

// hanging wraps a backend: the n-th Step of the chosen kind (decode steps
// or the all-positions steps of scoring) writes the marker and blocks.
type hanging struct {
	backend.Backend
	kind   string
	n      int64
	count  *atomic.Int64
	marker string
}

func (h hanging) Step(ctx context.Context, in []backend.StepInput) ([]backend.StepOutput, error) {
	scoring := len(in) > 0 && in[0].AllPositions
	if (h.kind == "score") == scoring && h.count.Add(1) == h.n {
		os.WriteFile(h.marker, []byte("hanging"), 0o644)
		select {} // until SIGKILL
	}
	return h.Backend.Step(ctx, in)
}

func runChild(path, hang string) int {
	e, err := load(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	kind, nstr, _ := strings.Cut(hang, ":")
	n, _ := strconv.ParseInt(nstr, 10, 64)
	var count atomic.Int64
	wrap := func(be backend.Backend) backend.Backend {
		return hanging{Backend: be, kind: kind, n: n, count: &count, marker: filepath.Join(filepath.Dir(path), "hanging")}
	}
	if _, err := eval.Run(context.Background(), eval.Options{Experiment: e, Open: opener(e, wrap)}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// killMidway runs a child with the hang setting, waits until it hangs and
// SIGKILLs it.
func killMidway(t *testing.T, path, hang string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+path, hangEnv+"="+hang)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	marker := filepath.Join(filepath.Dir(path), "hanging")
	// Poll for the marker; the deadline only turns a broken child into a
	// failure instead of a hang, it asserts nothing about speed.
	deadline := time.Now().Add(5 * time.Minute)
	for {
		if _, err := os.Stat(marker); err == nil {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("child exited before it hung (%v): %s", err, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("child never reached the hang point: %s", stderr.String())
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := <-exited
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child not killed by SIGKILL: %v", err)
	}
	os.Remove(marker)
}

// resume runs the evaluation to the end in this process.
func resume(t *testing.T, path string) *eval.Summary {
	t.Helper()
	e, err := load(path)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := eval.Run(context.Background(), eval.Options{Experiment: e, Open: opener(e, nil)})
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// TestKillDuringGeneration SIGKILLs a run in the middle of generation,
// tears the journal's last line as a kill mid-write would, and resumes:
// the final generations.jsonl has exactly prompts × samples × points rows,
// none repeated, and every row written before the kill is kept as it was.
func TestKillDuringGeneration(t *testing.T) {
	path := setup(t)
	// Each group (one point, one prompt, both samples) takes about 17
	// decode steps; the 60th step is inside the fourth group.
	killMidway(t, path, "decode:60")
	gpath := filepath.Join(filepath.Dir(path), "run", eval.GenerationsFile)
	before := readLines(t, gpath)
	t.Logf("%d of %d rows written before the kill", len(before), nPrompts*nSamples*nPoints)
	if len(before) == 0 || len(before) >= nPrompts*nSamples*nPoints {
		t.Fatalf("%d rows before the kill: not mid-way", len(before))
	}
	torn := `{"method":"p-punc","gamma":0.6,"prompt":"dog","sample":1,"text":"half a li`
	f, err := os.OpenFile(gpath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(torn)
	f.Close()

	sum := resume(t, path)
	if sum.Generated != nPrompts*nSamples*nPoints-len(before) {
		t.Errorf("resume generated %d samples, want %d", sum.Generated, nPrompts*nSamples*nPoints-len(before))
	}
	final := checkGenerations(t, filepath.Dir(gpath))
	for i, l := range before {
		if final[i] != l {
			t.Fatalf("row %d changed across the kill:\n%s\n%s", i+1, l, final[i])
		}
	}
	if b, _ := os.ReadFile(gpath); bytes.Contains(b, []byte("half a li")) {
		t.Error("the torn line is still in the journal")
	}
}

// TestKillDuringScoring SIGKILLs a run while it scores (generation done),
// tears the scores journal and resumes: every group is scored exactly once
// and generations.jsonl is untouched.
func TestKillDuringScoring(t *testing.T) {
	path := setup(t)
	// Each group takes four all-positions steps (two embeddings, two
	// log-likelihoods); the 10th is in the third group.
	killMidway(t, path, "score:10")
	dir := filepath.Join(filepath.Dir(path), "run")
	gens := checkGenerations(t, dir)
	spath := filepath.Join(dir, eval.ScoresFile)
	before := readLines(t, spath)
	t.Logf("%d of %d groups scored before the kill", len(before), nPrompts*nPoints)
	if len(before) == 0 || len(before) >= nPrompts*nPoints {
		t.Fatalf("%d score lines before the kill: not mid-way", len(before))
	}
	f, err := os.OpenFile(spath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"method":"nudging","gamma":0.3,"prompt":"lily","scor`)
	f.Close()

	sum := resume(t, path)
	if sum.Generated != 0 || sum.Scored != nPrompts*nPoints-len(before) {
		t.Errorf("resume generated %d and scored %d, want 0 and %d", sum.Generated, sum.Scored, nPrompts*nPoints-len(before))
	}
	after := readLines(t, spath)
	if len(after) != nPrompts*nPoints {
		t.Fatalf("%d score lines, want %d", len(after), nPrompts*nPoints)
	}
	for i, l := range before {
		if after[i] != l {
			t.Fatalf("score line %d changed across the kill", i+1)
		}
	}
	if g := checkGenerations(t, dir); strings.Join(g, "\n") != strings.Join(gens, "\n") {
		t.Error("generations.jsonl changed while resuming the scoring")
	}
	if _, err := os.Stat(filepath.Join(dir, eval.ReportFile)); err != nil {
		t.Errorf("no report after the resumed run: %v", err)
	}
}
