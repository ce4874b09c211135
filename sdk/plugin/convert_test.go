package plugin

import (
	"encoding/binary"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/baco-go/baco/core/dist"
	"github.com/baco-go/baco/core/route"
	"github.com/baco-go/baco/core/tokenclass"
	pb "github.com/baco-go/baco/sdk/proto/pluginv1"
)

func TestPackFloats(t *testing.T) {
	v := []float32{0, -1.5, float32(math.Inf(-1)), 3.25e-7}
	b := packFloats(v)
	// The wire format is little-endian IEEE-754, whatever the machine.
	for i, f := range v {
		if got := math.Float32frombits(binary.LittleEndian.Uint32(b[i*4:])); got != f && !(math.IsInf(float64(got), -1) && math.IsInf(float64(f), -1)) {
			t.Errorf("float %d: packed %v, want %v", i, got, f)
		}
	}
	back, err := unpackFloats(append([]byte(nil), b...))
	if err != nil || !reflect.DeepEqual(back, v) {
		t.Errorf("unpack = %v, %v; want %v", back, err, v)
	}
	// A misaligned buffer is copied, not reinterpreted.
	odd := make([]byte, len(b)+1)
	copy(odd[1:], b)
	back, err = unpackFloats(odd[1:])
	if err != nil || !reflect.DeepEqual(back, v) {
		t.Errorf("unpack of a misaligned buffer = %v, %v", back, err)
	}
	if _, err := unpackFloats([]byte{1, 2, 3}); err == nil {
		t.Error("3 bytes unpacked")
	}
	if packFloats(nil) != nil {
		t.Error("packFloats(nil) != nil")
	}
}

func TestDistRoundTrip(t *testing.T) {
	logits := []float32{1, 3, -2, 0.5, 3}
	d := dist.FromLogits(logits, 3)
	d.Top[0].Piece = "▁a"
	d.Top[1].Piece = "."
	m := distToProto(&d, true)
	got, err := distFromProto(m, len(logits), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, d) {
		t.Errorf("round trip:\n%+v\nwant\n%+v", got, d)
	}
	noFull, err := distFromProto(distToProto(&d, false), len(logits), nil)
	if err != nil || noFull.Full != nil || !reflect.DeepEqual(noFull.Top, d.Top) {
		t.Errorf("without full: %+v, %v", noFull, err)
	}
	est := dist.Dist{Top: []dist.Candidate{{ID: 2, LogProb: -0.1}}, Entropy: 0.4, EntropyEstimated: true, TailMass: 0.1}
	if got, err := distFromProto(distToProto(&est, true), 5, nil); err != nil || !reflect.DeepEqual(got, est) {
		t.Errorf("estimated dist: %+v, %v", got, err)
	}
}

func TestDistValidation(t *testing.T) {
	ok := func() *pb.Dist {
		return &pb.Dist{TopIds: []int32{1, 0}, TopLogprobs: []float32{-0.1, -2}, Entropy: 0.3, Full: packFloats([]float32{-2, -0.1, -5})}
	}
	tests := []struct {
		name  string
		edit  func(*pb.Dist)
		vocab int
		want  string
	}{
		{"nil", nil, 3, "missing"},
		{"lengths", func(m *pb.Dist) { m.TopLogprobs = m.TopLogprobs[:1] }, 3, "2 top ids but 1 log-probabilities"},
		{"pieces", func(m *pb.Dist) { m.TopPieces = []string{"a"} }, 3, "2 top ids but 1 pieces"},
		{"id range", func(m *pb.Dist) { m.TopIds[0] = 3 }, 3, "outside the vocabulary of 3"},
		{"negative id", func(m *pb.Dist) { m.TopIds[0] = -1 }, 3, "outside the vocabulary"},
		{"positive logprob", func(m *pb.Dist) { m.TopLogprobs[0] = 0.5 }, 3, "log-probability 0.5"},
		{"nan logprob", func(m *pb.Dist) { m.TopLogprobs[0] = float32(math.NaN()) }, 3, "log-probability NaN"},
		{"nan entropy", func(m *pb.Dist) { m.Entropy = math.NaN() }, 3, "entropy"},
		{"full size", func(m *pb.Dist) {}, 4, "3 entries for a vocabulary of 4"},
		{"full bytes", func(m *pb.Dist) { m.Full = m.Full[:5] }, 3, "whole number"},
	}
	for _, tt := range tests {
		var m *pb.Dist
		if tt.edit != nil {
			m = ok()
			tt.edit(m)
		}
		_, err := distFromProto(m, tt.vocab, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want it to mention %q", tt.name, err, tt.want)
		}
	}
	if _, err := distFromProto(ok(), 3, nil); err != nil {
		t.Errorf("valid dist refused: %v", err)
	}
}

func TestViewRoundTrip(t *testing.T) {
	classes := []tokenclass.Class{tokenclass.Content, tokenclass.Function, tokenclass.Punct, tokenclass.Number, tokenclass.Space, tokenclass.Special}
	sources := []route.Source{route.Aligned, route.Base, route.Mixed}
	for i, c := range classes {
		b := dist.FromLogits([]float32{0, 1, 2}, 2)
		v := route.View{
			Sample: i, Pos: 10 + i, PromptLen: 7, Base: &b,
			BaseTop:    route.Top{ID: 2, Piece: "x", Class: c, WordStart: i%2 == 0},
			AlignedTop: route.Top{ID: -1},
			Prev:       sources[i%3], BaseFrac: 0.25, U: 0.5,
		}
		got, err := viewFromProto(viewToProto(&v, true))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, v) {
			t.Errorf("class %v: round trip\n%+v\nwant\n%+v", c, got, v)
		}
		light, err := viewFromProto(viewToProto(&v, false))
		if err != nil || light.Base.Full != nil || !reflect.DeepEqual(light.Base.Top, b.Top) {
			t.Errorf("view without full distributions: %+v, %v", light.Base, err)
		}
	}
	if _, err := viewFromProto(&pb.View{Prev: 9}); err == nil {
		t.Error("unknown source accepted")
	}
	if _, err := viewFromProto(&pb.View{BaseTop: &pb.Top{Class: 42}}); err == nil {
		t.Error("unknown class accepted")
	}
}

func TestInfoValidation(t *testing.T) {
	for _, v := range []int32{0, -1, maxVocab + 1} {
		if _, err := infoFromProto(&pb.InfoResponse{VocabSize: v}); err == nil {
			t.Errorf("vocabulary size %d accepted", v)
		}
	}
	if _, err := infoFromProto(&pb.InfoResponse{VocabSize: 5, ContextLen: -1}); err == nil {
		t.Error("negative context accepted")
	}
}

func TestDefaultName(t *testing.T) {
	for in, want := range map[string]string{
		"/x/baco-router-warmup": "warmup", "baco-backend-gguf.exe": "gguf", "./myplugin": "myplugin",
	} {
		if got := defaultName(in); got != want {
			t.Errorf("defaultName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSharedMemorySlots(t *testing.T) {
	slot := make([]byte, 64)
	cursor := 0
	a := []float32{1, 2, 3}
	off, ok := writeFloats(slot, &cursor, a)
	if !ok || off != 0 || cursor != 12 {
		t.Fatalf("first write at %d (%v), cursor %d", off, ok, cursor)
	}
	off2, ok := writeFloats(slot, &cursor, []float32{4, 5})
	if !ok || off2 != 12 {
		t.Fatalf("second write at %d (%v)", off2, ok)
	}
	if _, ok := writeFloats(slot, &cursor, make([]float32, 12)); ok {
		t.Error("a write past the slot succeeded")
	}
	got, err := readFloats(slot, uint64(off2), 2)
	if err != nil || !reflect.DeepEqual(got, []float32{4, 5}) {
		t.Errorf("read = %v, %v", got, err)
	}
	for _, c := range []struct {
		off   uint64
		count uint32
	}{{2, 1}, {60, 2}, {64, 1}, {1 << 40, 1}, {0, 1 << 31}} {
		if _, err := readFloats(slot, c.off, c.count); err == nil {
			t.Errorf("read of %d floats at %d accepted", c.count, c.off)
		}
	}
	m := &pb.Dist{TopIds: []int32{0}, TopLogprobs: []float32{-0.1}, FullShm: true, FullShmOffset: 0, FullShmCount: 3}
	if _, err := distFromProto(m, 3, nil); err == nil || !strings.Contains(err.Error(), "no slot") {
		t.Errorf("shared-memory dist without a slot: %v", err)
	}
	if d, err := distFromProto(m, 3, slot); err != nil || !reflect.DeepEqual(d.Full, a) {
		t.Errorf("shared-memory dist: %v, %v", d.Full, err)
	}
	if _, err := distFromProto(m, 4, slot); err == nil {
		t.Error("shared-memory dist of the wrong size accepted")
	}
	m.Full = []byte{0, 0, 0, 0}
	if _, err := distFromProto(m, 3, slot); err == nil {
		t.Error("dist both inline and shared accepted")
	}
}
