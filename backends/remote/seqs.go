package remote

import (
	"errors"
	"fmt"
	"sync"

	"github.com/baco-go/baco/core/backend"
)

// ErrClosed is returned by calls on a closed backend.
var ErrClosed = errors.New("backend closed")

// ErrUnknownSeq is wrapped by errors about a sequence id that is not open.
var ErrUnknownSeq = errors.New("unknown sequence")

// Seqs is the client-side table of open sequences: each holds the tokens
// the server must see before its next distribution. It is safe for
// concurrent use.
type Seqs struct {
	mu     sync.Mutex
	next   backend.SeqID
	toks   map[backend.SeqID][]int32
	closed bool
}

// NewSeqs returns an empty table.
func NewSeqs() *Seqs {
	return &Seqs{next: 1, toks: make(map[backend.SeqID][]int32)}
}

// Open creates an empty sequence.
func (s *Seqs) Open() (backend.SeqID, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, ErrClosed
	}
	id := s.next
	s.next++
	s.toks[id] = nil
	return id, nil
}

// get returns the tokens of id; callers hold mu.
func (s *Seqs) get(id backend.SeqID) ([]int32, error) {
	if s.closed {
		return nil, ErrClosed
	}
	t, ok := s.toks[id]
	if !ok {
		return nil, fmt.Errorf("seq %d: %w", id, ErrUnknownSeq)
	}
	return t, nil
}

// Tokens returns a copy of the tokens id holds.
func (s *Seqs) Tokens(id backend.SeqID) ([]int32, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.get(id)
	if err != nil {
		return nil, err
	}
	return append([]int32(nil), t...), nil
}

// Len returns how many tokens id holds.
func (s *Seqs) Len(id backend.SeqID) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.get(id)
	return len(t), err
}

// Append adds toks to id after a successful step.
func (s *Seqs) Append(id backend.SeqID, toks []int32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.get(id)
	if err != nil {
		return err
	}
	s.toks[id] = append(t, toks...)
	return nil
}

// Fork copies id into a new sequence.
func (s *Seqs) Fork(id backend.SeqID) (backend.SeqID, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.get(id)
	if err != nil {
		return 0, err
	}
	n := s.next
	s.next++
	s.toks[n] = append([]int32(nil), t...)
	return n, nil
}

// Truncate drops every token of id from position n on.
func (s *Seqs) Truncate(id backend.SeqID, n int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.get(id)
	if err != nil {
		return err
	}
	if n < 0 || n > len(t) {
		return fmt.Errorf("truncate seq %d to %d tokens: it holds %d", id, n, len(t))
	}
	s.toks[id] = t[:n:n] // a later Append must not overwrite a fork's tail
	return nil
}

// Free releases id.
func (s *Seqs) Free(id backend.SeqID) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.get(id); err != nil {
		return err
	}
	delete(s.toks, id)
	return nil
}

// Close frees every sequence; later calls return ErrClosed. It reports
// whether the table was open.
func (s *Seqs) Close() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	was := !s.closed
	s.closed = true
	s.toks = nil
	return was
}
