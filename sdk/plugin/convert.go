package plugin

import (
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"

	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/core/dist"
	"github.com/baco-go/baco/core/route"
	"github.com/baco-go/baco/core/tokenclass"
	pb "github.com/baco-go/baco/sdk/proto/pluginv1"
)

// This file converts between the core's Go types and the generated protocol
// messages. Nothing outside this package sees a generated type.

// littleEndian is true on little-endian machines, where a []float32 can be
// reinterpreted as the protocol's packed little-endian bytes without a copy.
var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// packFloats returns v as packed little-endian float32 bytes. On
// little-endian machines the result aliases v (no copy); callers must not
// modify v while the bytes are in use.
func packFloats(v []float32) []byte {
	if len(v) == 0 {
		return nil
	}
	if littleEndian {
		return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), len(v)*4)
	}
	b := make([]byte, len(v)*4)
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[i*4:], math.Float32bits(f))
	}
	return b
}

// unpackFloats decodes packed little-endian float32 bytes. On little-endian
// machines with a 4-byte aligned buffer the result aliases b.
func unpackFloats(b []byte) ([]float32, error) {
	if len(b) == 0 {
		return nil, nil
	}
	if len(b)%4 != 0 {
		return nil, fmt.Errorf("full distribution of %d bytes is not a whole number of float32", len(b))
	}
	n := len(b) / 4
	if littleEndian && uintptr(unsafe.Pointer(unsafe.SliceData(b)))%unsafe.Alignof(float32(0)) == 0 {
		return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(b))), n), nil
	}
	out := make([]float32, n)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[i*4:]))
	}
	return out, nil
}

// distToProto converts a Dist; full controls whether Dist.Full is sent.
func distToProto(d *dist.Dist, full bool) *pb.Dist {
	m := &pb.Dist{
		TopIds:           make([]int32, len(d.Top)),
		TopLogprobs:      make([]float32, len(d.Top)),
		Entropy:          d.Entropy,
		EntropyEstimated: d.EntropyEstimated,
		TailMass:         d.TailMass,
	}
	pieces := false
	for i, c := range d.Top {
		m.TopIds[i] = c.ID
		m.TopLogprobs[i] = c.LogProb
		if c.Piece != "" {
			pieces = true
		}
	}
	if pieces {
		m.TopPieces = make([]string, len(d.Top))
		for i, c := range d.Top {
			m.TopPieces[i] = c.Piece
		}
	}
	if full {
		m.Full = packFloats(d.Full)
	}
	return m
}

// distFromProto converts and validates a Dist. vocab > 0 bounds the ids and
// the length of Full; slot is the shared-memory slot lent to the call that
// returned m (nil when none).
func distFromProto(m *pb.Dist, vocab int, slot []byte) (dist.Dist, error) {
	if m == nil {
		return dist.Dist{}, fmt.Errorf("missing distribution")
	}
	n := len(m.TopIds)
	if len(m.TopLogprobs) != n {
		return dist.Dist{}, fmt.Errorf("distribution has %d top ids but %d log-probabilities", n, len(m.TopLogprobs))
	}
	if len(m.TopPieces) != 0 && len(m.TopPieces) != n {
		return dist.Dist{}, fmt.Errorf("distribution has %d top ids but %d pieces", n, len(m.TopPieces))
	}
	if math.IsNaN(m.Entropy) || m.Entropy < 0 {
		return dist.Dist{}, fmt.Errorf("distribution entropy %v is not a non-negative number", m.Entropy)
	}
	d := dist.Dist{
		Top:              make([]dist.Candidate, n),
		Entropy:          m.Entropy,
		EntropyEstimated: m.EntropyEstimated,
		TailMass:         m.TailMass,
	}
	for i, id := range m.TopIds {
		if id < 0 || (vocab > 0 && int(id) >= vocab) {
			return dist.Dist{}, fmt.Errorf("distribution candidate %d has token id %d outside the vocabulary of %d", i, id, vocab)
		}
		lp := m.TopLogprobs[i]
		if math.IsNaN(float64(lp)) || lp > maxLogProb {
			return dist.Dist{}, fmt.Errorf("distribution candidate %d (token %d) has log-probability %v", i, id, lp)
		}
		d.Top[i] = dist.Candidate{ID: id, LogProb: lp}
		if len(m.TopPieces) != 0 {
			d.Top[i].Piece = m.TopPieces[i]
		}
	}
	var full []float32
	var err error
	switch {
	case m.FullShm && slot == nil:
		return dist.Dist{}, fmt.Errorf("distribution in shared memory, but no slot was lent")
	case m.FullShm && len(m.Full) > 0:
		return dist.Dist{}, fmt.Errorf("distribution both inline and in shared memory")
	case m.FullShm:
		if vocab > 0 && int(m.FullShmCount) != vocab {
			return dist.Dist{}, fmt.Errorf("full distribution has %d entries for a vocabulary of %d", m.FullShmCount, vocab)
		}
		full, err = readFloats(slot, m.FullShmOffset, m.FullShmCount)
	default:
		full, err = unpackFloats(m.Full)
	}
	if err != nil {
		return dist.Dist{}, err
	}
	if full != nil && vocab > 0 && len(full) != vocab {
		return dist.Dist{}, fmt.Errorf("full distribution has %d entries for a vocabulary of %d", len(full), vocab)
	}
	d.Full = full
	return d, nil
}

func infoToProto(in backend.Info) *pb.InfoResponse {
	return &pb.InfoResponse{
		Name: in.Name, Arch: in.Arch, VocabSize: clampInt32(in.VocabSize), Fingerprint: in.Fingerprint,
		Bos: in.BOS, Eos: in.EOS, StopIds: in.StopIDs, AddBos: in.AddBOS,
		ContextLen: clampInt32(in.ContextLen), ChatTemplate: in.ChatTemplate, Tokenizer: in.Tokenizer,
		ControlIds: in.ControlIDs,
		Caps: &pb.Caps{
			FullDist: in.Caps.FullDist, MaxTopK: clampInt32(in.Caps.MaxTopK), MaxBatch: clampInt32(in.Caps.MaxBatch),
			TokenPrompts: in.Caps.TokenPrompts, AllPositions: in.Caps.AllPositions,
		},
	}
}

// maxLogProb is the largest log-probability accepted from a plugin: 0 plus
// room for rounding in remote servers' answers.
const maxLogProb = 1e-3

// maxVocab bounds the vocabulary size a plugin may report, so that a garbage
// answer cannot make the host allocate without limit (the largest real
// vocabularies hold about 260k ids).
const maxVocab = 1 << 24

func infoFromProto(m *pb.InfoResponse) (backend.Info, error) {
	if m.VocabSize <= 0 || m.VocabSize > maxVocab {
		return backend.Info{}, fmt.Errorf("info: vocabulary size %d outside 1..%d", m.VocabSize, maxVocab)
	}
	if m.ContextLen < 0 {
		return backend.Info{}, fmt.Errorf("info: negative context length %d", m.ContextLen)
	}
	in := backend.Info{
		Name: m.Name, Arch: m.Arch, VocabSize: int(m.VocabSize), Fingerprint: m.Fingerprint,
		BOS: m.Bos, EOS: m.Eos, StopIDs: m.StopIds, AddBOS: m.AddBos, ContextLen: int(m.ContextLen),
		ChatTemplate: m.ChatTemplate, Tokenizer: m.Tokenizer, ControlIDs: m.ControlIds,
	}
	if c := m.Caps; c != nil {
		in.Caps = backend.Caps{
			FullDist: c.FullDist, MaxTopK: int(c.MaxTopK), MaxBatch: int(c.MaxBatch),
			TokenPrompts: c.TokenPrompts, AllPositions: c.AllPositions,
		}
	}
	return in, nil
}

func clampInt32(n int) int32 {
	switch {
	case n > math.MaxInt32:
		return math.MaxInt32
	case n < math.MinInt32:
		return math.MinInt32
	}
	return int32(n)
}

func classToProto(c tokenclass.Class) pb.TokenClass {
	switch c {
	case tokenclass.Function:
		return pb.TokenClass_TOKEN_CLASS_FUNCTION
	case tokenclass.Punct:
		return pb.TokenClass_TOKEN_CLASS_PUNCT
	case tokenclass.Number:
		return pb.TokenClass_TOKEN_CLASS_NUMBER
	case tokenclass.Space:
		return pb.TokenClass_TOKEN_CLASS_SPACE
	case tokenclass.Special:
		return pb.TokenClass_TOKEN_CLASS_SPECIAL
	}
	return pb.TokenClass_TOKEN_CLASS_CONTENT
}

func classFromProto(c pb.TokenClass) (tokenclass.Class, error) {
	switch c {
	case pb.TokenClass_TOKEN_CLASS_CONTENT:
		return tokenclass.Content, nil
	case pb.TokenClass_TOKEN_CLASS_FUNCTION:
		return tokenclass.Function, nil
	case pb.TokenClass_TOKEN_CLASS_PUNCT:
		return tokenclass.Punct, nil
	case pb.TokenClass_TOKEN_CLASS_NUMBER:
		return tokenclass.Number, nil
	case pb.TokenClass_TOKEN_CLASS_SPACE:
		return tokenclass.Space, nil
	case pb.TokenClass_TOKEN_CLASS_SPECIAL:
		return tokenclass.Special, nil
	}
	return 0, fmt.Errorf("unknown token class %d", int32(c))
}

func sourceToProto(s route.Source) pb.Source {
	switch s {
	case route.Base:
		return pb.Source_SOURCE_BASE
	case route.Mixed:
		return pb.Source_SOURCE_MIXED
	}
	return pb.Source_SOURCE_ALIGNED
}

func sourceFromProto(s pb.Source) (route.Source, error) {
	switch s {
	case pb.Source_SOURCE_ALIGNED:
		return route.Aligned, nil
	case pb.Source_SOURCE_BASE:
		return route.Base, nil
	case pb.Source_SOURCE_MIXED:
		return route.Mixed, nil
	}
	return 0, fmt.Errorf("unknown source %d", int32(s))
}

func topToProto(t route.Top) *pb.Top {
	return &pb.Top{Id: t.ID, Piece: t.Piece, Class: classToProto(t.Class), WordStart: t.WordStart}
}

func topFromProto(m *pb.Top) (route.Top, error) {
	if m == nil {
		return route.Top{ID: -1}, nil
	}
	c, err := classFromProto(m.Class)
	if err != nil {
		return route.Top{}, err
	}
	return route.Top{ID: m.Id, Piece: m.Piece, Class: c, WordStart: m.WordStart}, nil
}

// viewToProto converts a router view; full controls whether full
// distributions travel.
func viewToProto(v *route.View, full bool) *pb.View {
	m := &pb.View{
		Sample: clampInt32(v.Sample), Pos: clampInt32(v.Pos), PromptLen: clampInt32(v.PromptLen),
		BaseTop: topToProto(v.BaseTop), AlignedTop: topToProto(v.AlignedTop),
		Prev: sourceToProto(v.Prev), BaseFrac: v.BaseFrac, U: v.U,
	}
	if v.Base != nil {
		m.Base = distToProto(v.Base, full)
	}
	if v.Aligned != nil {
		m.Aligned = distToProto(v.Aligned, full)
	}
	return m
}

// viewFromProto converts a view received by a router plugin.
func viewFromProto(m *pb.View) (route.View, error) {
	if m == nil {
		return route.View{}, fmt.Errorf("missing view")
	}
	v := route.View{
		Sample: int(m.Sample), Pos: int(m.Pos), PromptLen: int(m.PromptLen),
		BaseFrac: m.BaseFrac, U: m.U,
	}
	var err error
	if v.Prev, err = sourceFromProto(m.Prev); err != nil {
		return route.View{}, err
	}
	if v.BaseTop, err = topFromProto(m.BaseTop); err != nil {
		return route.View{}, fmt.Errorf("base top: %w", err)
	}
	if v.AlignedTop, err = topFromProto(m.AlignedTop); err != nil {
		return route.View{}, fmt.Errorf("aligned top: %w", err)
	}
	if m.Base != nil {
		d, err := distFromProto(m.Base, 0, nil)
		if err != nil {
			return route.View{}, fmt.Errorf("base: %w", err)
		}
		v.Base = &d
	}
	if m.Aligned != nil {
		d, err := distFromProto(m.Aligned, 0, nil)
		if err != nil {
			return route.View{}, fmt.Errorf("aligned: %w", err)
		}
		v.Aligned = &d
	}
	return v, nil
}
