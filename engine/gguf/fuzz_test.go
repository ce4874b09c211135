package gguf

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse. It must never panic; an error
// must wrap ErrMalformed or ErrUnsupported; a file that parses must have its
// tensors inside the input, and must survive a Builder round trip: writing
// it, parsing that, and writing again gives the same bytes.
func FuzzParse(f *testing.F) {
	b, _ := buildAllTypes(f, 3, 0)
	var small bytes.Buffer
	if _, err := b.WriteTo(&small); err != nil {
		f.Fatal(err)
	}
	f.Add(small.Bytes())
	b2, _ := buildAllTypes(f, 2, 64)
	var v2 bytes.Buffer
	if _, err := b2.WriteTo(&v2); err != nil {
		f.Fatal(err)
	}
	f.Add(v2.Bytes())
	f.Add([]byte("GGUF"))
	if stories := readStoriesIfPresent(f); stories != nil {
		f.Add(stories[:4096])
		f.Add(stories[:storiesDataOffset])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pf, err := Parse(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("error %v wraps neither sentinel", err)
			}
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FormatError", err)
			}
			return
		}
		for i := range pf.Tensors {
			ti := &pf.Tensors[i]
			if uint64(len(ti.Data)) != ti.Size || pf.DataOffset+ti.Offset+ti.Size > uint64(len(data)) {
				t.Fatalf("tensor %q: size %d, data %d, offset %d outside %d bytes", ti.Name, ti.Size, len(ti.Data), ti.Offset, len(data))
			}
		}
		first := rewrite(t, pf)
		pf2, err := Parse(first)
		if err != nil {
			t.Fatalf("Builder output does not parse: %v", err)
		}
		if second := rewrite(t, pf2); !bytes.Equal(first, second) {
			t.Fatalf("rewrite is not stable")
		}
	})
}

func rewrite(t *testing.T, f *File) []byte {
	t.Helper()
	b, err := NewBuilderFrom(f)
	if err != nil {
		t.Fatalf("NewBuilderFrom: %v", err)
	}
	var buf bytes.Buffer
	if _, err := b.WriteTo(&buf); err != nil {
		t.Fatalf("WriteTo: %v", err)
	}
	return buf.Bytes()
}
