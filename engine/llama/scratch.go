package llama

import "errors"

// ErrContextOverflow is wrapped by Forward's error when a sequence would
// hold more positions than the model's context length.
var ErrContextOverflow = errors.New("context length exceeded")

// attnSlotsPerWorker is how many attention work slots (each with a score
// buffer) there are per pool worker.
const attnSlotsPerWorker = 4

// scratch is Forward's reusable working memory. It grows to the largest
// chunk seen and is then reused, so steady-state decoding allocates
// nothing.
type scratch struct {
	// Per call.
	seqs []Batch
	out  [][]float32
	orig []int

	// Per chunk rows: batch index, token index within the batch, position.
	rowB, rowT, rowPos []int32
	sel                []int32

	rowsCap                  int
	x, xb, xb2, q, k, v, att []float32
	gate, up                 []float32
	cos, sin                 []float32
	xsel, logitsBuf          []float32
	scores                   [][]float32
	layer                    int
	attTasks, attSlots       int
	normDst, normSrc, normW  []float32
}

func (s *scratch) reset() {
	s.rowB, s.rowT, s.rowPos = s.rowB[:0], s.rowT[:0], s.rowPos[:0]
}

// ensure sizes the buffers for T rows and the longest sequence of the
// chunk.
func (s *scratch) ensure(m *Model, T int) {
	cfg := &m.cfg
	if T > s.rowsCap {
		s.rowsCap = T
		s.x = make([]float32, T*cfg.Dim)
		s.xb = make([]float32, T*cfg.Dim)
		s.xb2 = make([]float32, T*cfg.Dim)
		s.q = make([]float32, T*cfg.QDim())
		s.att = make([]float32, T*cfg.QDim())
		s.k = make([]float32, T*cfg.KVDim())
		s.v = make([]float32, T*cfg.KVDim())
		s.gate = make([]float32, T*cfg.FFDim)
		s.up = make([]float32, T*cfg.FFDim)
		s.cos = make([]float32, T*cfg.Rope.Dims/2)
		s.sin = make([]float32, T*cfg.Rope.Dims/2)
		n := min(T, logitsRows)
		if len(s.xsel) < n*cfg.Dim {
			s.xsel = make([]float32, n*cfg.Dim)
			s.logitsBuf = make([]float32, n*cfg.VocabSize)
		}
	}
	maxLen := 0
	for _, p := range s.rowPos {
		maxLen = max(maxLen, int(p)+1)
	}
	if len(s.scores) == 0 {
		s.scores = make([][]float32, max(1, m.pool.Workers()*attnSlotsPerWorker))
	}
	group := cfg.Heads / cfg.KVHeads
	if need := maxLen * group; len(s.scores[0]) < need {
		// Round up so a growing decode does not reallocate every token.
		n := min(max(need, 2*len(s.scores[0]), 64), cfg.ContextLen*group)
		for i := range s.scores {
			s.scores[i] = make([]float32, n)
		}
	}
}
