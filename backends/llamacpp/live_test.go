package llamacpp

import (
	"math"
	"testing"

	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/engine"
	"github.com/baco-go/baco/internal/testdata"
)

// loadEngine loads stories260K in the embedded engine: the independent
// reference the remote backend is checked against.
func loadEngine(t testing.TB) *engine.Engine {
	t.Helper()
	e, err := engine.Load(testdata.Path(t, "models/stories260K.gguf"), engine.WithContextLen(512), engine.WithThreads(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func TestLiveAgainstEngine(t *testing.T) {
	url := startServer(t)
	ctx := bg(t)
	b, err := New(ctx, Options{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	e := loadEngine(t)
	bi, _ := b.Info(ctx)
	ei, _ := e.Info(ctx)
	t.Logf("remote %+v", bi)
	if bi.Fingerprint != ei.Fingerprint {
		t.Errorf("fingerprint %s, engine %s", bi.Fingerprint, ei.Fingerprint)
	}
	prompt, err := b.Tokenize(ctx, "Once upon a time", true, false)
	if err != nil {
		t.Fatal(err)
	}
	sb, _ := b.Open(ctx)
	se, _ := e.Open(ctx)
	toks := prompt
	for i := range 30 {
		ob, err := b.Step(ctx, []backend.StepInput{{Seq: sb, Tokens: toks, TopK: 5}})
		if err != nil {
			t.Fatal(err)
		}
		oe, err := e.Step(ctx, []backend.StepInput{{Seq: se, Tokens: toks, TopK: 5}})
		if err != nil {
			t.Fatal(err)
		}
		db, de := ob[0].Dists[0], oe[0].Dists[0]
		if db.TopID() != de.TopID() {
			t.Fatalf("step %d: top %d, engine %d", i, db.TopID(), de.TopID())
		}
		for j := range db.Top {
			if d := math.Abs(float64(db.Top[j].LogProb - de.Top[j].LogProb)); d > 0.01 {
				t.Errorf("step %d cand %d: %v vs %v", i, j, db.Top[j], de.Top[j])
			}
		}
		toks = []int32{db.TopID()}
	}
}
