package gguf

import (
	"bytes"
	"reflect"
	"testing"
)

// TestBuilderFileMatchesParse checks that Builder.File describes exactly the
// file WriteTo writes (as Parse reads it back), and shares the tensor data.
func TestBuilderFileMatchesParse(t *testing.T) {
	for _, align := range []int{0, 64} {
		b := NewBuilder()
		if align != 0 {
			if err := b.SetKV(KeyAlignment, align); err != nil {
				t.Fatal(err)
			}
		}
		for _, kv := range []struct {
			k string
			v any
		}{{"general.architecture", "llama"}, {"llama.block_count", uint32(2)}, {"x.f", float32(1.5)},
			{"tokenizer.ggml.tokens", []string{"a", "bc", ""}}, {"x.nested", []Array{{Type: TypeInt32, Values: []int32{1, 2}}}}} {
			if err := b.SetKV(kv.k, kv.v); err != nil {
				t.Fatal(err)
			}
		}
		w1 := make([]byte, 4*3*5)
		for i := range w1 {
			w1[i] = byte(i)
		}
		w2 := []byte{1, 2, 3, 4, 5, 6}
		if err := b.AddTensor("w1", TypeF32, []uint64{3, 5}, w1); err != nil {
			t.Fatal(err)
		}
		if err := b.AddTensor("w2", TypeBF16, []uint64{3}, w2); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := b.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		want, err := Parse(buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		got := b.File()
		if got.Version != want.Version || got.Alignment != want.Alignment || got.DataOffset != want.DataOffset {
			t.Errorf("align %d: version/alignment/data offset %d/%d/%d, want %d/%d/%d", align,
				got.Version, got.Alignment, got.DataOffset, want.Version, want.Alignment, want.DataOffset)
		}
		if !reflect.DeepEqual(got.KVs, want.KVs) {
			t.Errorf("align %d: KVs differ:\n got %#v\nwant %#v", align, got.KVs, want.KVs)
		}
		for i := range want.Tensors {
			g, w := got.Tensors[i], want.Tensors[i]
			if g.Name != w.Name || !reflect.DeepEqual(g.Dims, w.Dims) || g.Type != w.Type || g.Offset != w.Offset || g.Size != w.Size || !bytes.Equal(g.Data, w.Data) {
				t.Errorf("align %d: tensor %d = %+v, want %+v", align, i, g, w)
			}
		}
		if ti, ok := got.Tensor("w1"); !ok || &ti.Data[0] != &w1[0] {
			t.Errorf("align %d: tensor w1 does not share the builder's data", align)
		}
		if s, ok := got.String("general.architecture"); !ok || s != "llama" {
			t.Errorf("align %d: general.architecture = %q, %v", align, s, ok)
		}
		if err := got.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}
}
