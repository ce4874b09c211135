package remote

import (
	"context"
	"strings"
	"testing"
)

func TestSeqOps(t *testing.T) {
	ctx := context.Background()
	o := SeqOps{Name: "testbackend", Seqs: NewSeqs()}
	a, err := o.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Seqs.Append(a, []int32{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	b, err := o.Fork(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Truncate(ctx, b, 1); err != nil {
		t.Fatal(err)
	}
	if ta, _ := o.Seqs.Tokens(a); len(ta) != 3 {
		t.Fatalf("fork's truncate changed the original: %v", ta)
	}
	if tb, _ := o.Seqs.Tokens(b); len(tb) != 1 || tb[0] != 1 {
		t.Fatalf("forked and truncated: %v", tb)
	}
	if err := o.Free(ctx, b); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{o.Free(ctx, b), o.Truncate(ctx, b, 0), func() error { _, err := o.Fork(ctx, b); return err }()} {
		if err == nil || !strings.HasPrefix(err.Error(), "testbackend: ") {
			t.Fatalf("error %v should name the backend", err)
		}
	}
}
