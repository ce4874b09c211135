package remote

import (
	"errors"
	"slices"
	"testing"
)

func TestSeqs(t *testing.T) {
	s := NewSeqs()
	a, _ := s.Open()
	if err := s.Append(a, []int32{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	f, err := s.Fork(a)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Truncate(a, 1); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(a, []int32{9}); err != nil {
		t.Fatal(err)
	}
	ta, _ := s.Tokens(a)
	tf, _ := s.Tokens(f)
	if !slices.Equal(ta, []int32{1, 9}) || !slices.Equal(tf, []int32{1, 2, 3}) {
		t.Fatalf("a = %v, fork = %v", ta, tf)
	}
	if err := s.Truncate(a, 3); err == nil {
		t.Error("truncate past the end: no error")
	}
	if err := s.Truncate(a, -1); err == nil {
		t.Error("truncate to -1: no error")
	}
	if err := s.Free(a); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"free twice": s.Free(a), "append": s.Append(a, nil), "truncate": s.Truncate(a, 0),
	} {
		if !errors.Is(err, ErrUnknownSeq) {
			t.Errorf("%s of a freed seq: %v", name, err)
		}
	}
	if _, err := s.Fork(a); !errors.Is(err, ErrUnknownSeq) {
		t.Errorf("fork of a freed seq: %v", err)
	}
	if !s.Close() || s.Close() {
		t.Error("Close should report the first close only")
	}
	if _, err := s.Open(); !errors.Is(err, ErrClosed) {
		t.Errorf("open after close: %v", err)
	}
	if _, err := s.Tokens(f); !errors.Is(err, ErrClosed) {
		t.Errorf("tokens after close: %v", err)
	}
}
