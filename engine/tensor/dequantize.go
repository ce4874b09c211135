package tensor

import (
	"fmt"

	"github.com/baco-go/baco/engine/gguf"
)

// Dequantize expands data, a whole number of blocks of type t, into out,
// which must hold exactly the number of elements data encodes. It ports
// ggml's dequantize_row_* functions.
func Dequantize(t gguf.TensorType, data []byte, out []float32) error {
	n, err := rowBytes(t, len(out))
	if err != nil {
		return fmt.Errorf("dequantize: %w", err)
	}
	if n != len(data) {
		return fmt.Errorf("dequantize: %d bytes of %v do not encode %d elements (want %d bytes)", len(data), t, len(out), n)
	}
	dequantize(t, data, out)
	return nil
}

// dequantize is Dequantize without the checks; sizes must already agree.
func dequantize(t gguf.TensorType, data []byte, out []float32) {
	switch t {
	case gguf.TypeF32:
		for i := range out {
			out[i] = getF32(data[4*i:])
		}
	case gguf.TypeF16:
		for i := range out {
			out[i] = fp16ToF32(le16(data[2*i:]))
		}
	case gguf.TypeBF16:
		for i := range out {
			out[i] = bf16ToF32(le16(data[2*i:]))
		}
	case gguf.TypeQ8_0:
		for i := 0; i < len(out)/qk8_0; i++ {
			b := data[i*blockQ8_0Bytes : (i+1)*blockQ8_0Bytes]
			d := fp16ToF32(le16(b))
			y := out[i*qk8_0 : (i+1)*qk8_0]
			for j := range y {
				y[j] = float32(int8(b[2+j])) * d
			}
		}
	case gguf.TypeQ4_0:
		for i := 0; i < len(out)/qk4_0; i++ {
			b := data[i*blockQ4_0Bytes : (i+1)*blockQ4_0Bytes]
			d := fp16ToF32(le16(b))
			y := out[i*qk4_0 : (i+1)*qk4_0]
			for j := 0; j < qk4_0/2; j++ {
				y[j] = float32(int(b[2+j]&0xF)-8) * d
				y[j+qk4_0/2] = float32(int(b[2+j]>>4)-8) * d
			}
		}
	case gguf.TypeQ4_K:
		for i := 0; i < len(out)/qkK; i++ {
			dequantizeBlockQ4K(data[i*blockQ4KBytes:(i+1)*blockQ4KBytes], out[i*qkK:(i+1)*qkK])
		}
	case gguf.TypeQ6_K:
		for i := 0; i < len(out)/qkK; i++ {
			dequantizeBlockQ6K(data[i*blockQ6KBytes:(i+1)*blockQ6KBytes], out[i*qkK:(i+1)*qkK])
		}
	}
}

// dequantizeBlockQ4K ports dequantize_row_q4_K for one super-block.
func dequantizeBlockQ4K(b []byte, y []float32) {
	d := fp16ToF32(le16(b[0:]))
	dmin := fp16ToF32(le16(b[2:]))
	sc := b[4 : 4+kScaleSize]
	q := b[4+kScaleSize:]
	is := 0
	for j := 0; j < qkK; j += 64 {
		s, m := scaleMinK4(is, sc)
		d1, m1 := float32(d*float32(s)), float32(dmin*float32(m))
		s, m = scaleMinK4(is+1, sc)
		d2, m2 := float32(d*float32(s)), float32(dmin*float32(m))
		for l := 0; l < 32; l++ {
			y[j+l] = float32(d1*float32(q[l]&0xF)) - m1
			y[j+32+l] = float32(d2*float32(q[l]>>4)) - m2
		}
		q = q[32:]
		is += 2
	}
}

// dequantizeBlockQ6K ports dequantize_row_q6_K for one super-block.
func dequantizeBlockQ6K(b []byte, y []float32) {
	ql := b[0 : qkK/2]
	qh := b[qkK/2 : qkK/2+qkK/4]
	sc := b[qkK/2+qkK/4 : qkK/2+qkK/4+qkK/16]
	d := fp16ToF32(le16(b[qkK/2+qkK/4+qkK/16:]))
	for n := 0; n < qkK; n += 128 {
		for l := 0; l < 32; l++ {
			is := l / 16
			q1 := int8(ql[l]&0xF|((qh[l]>>0)&3)<<4) - 32
			q2 := int8(ql[l+32]&0xF|((qh[l]>>2)&3)<<4) - 32
			q3 := int8(ql[l]>>4|((qh[l]>>4)&3)<<4) - 32
			q4 := int8(ql[l+32]>>4|((qh[l]>>6)&3)<<4) - 32
			y[n+l] = float32(d*float32(int8(sc[is]))) * float32(q1)
			y[n+l+32] = float32(d*float32(int8(sc[is+2]))) * float32(q2)
			y[n+l+64] = float32(d*float32(int8(sc[is+4]))) * float32(q3)
			y[n+l+96] = float32(d*float32(int8(sc[is+6]))) * float32(q4)
		}
		ql = ql[64:]
		qh = qh[32:]
		sc = sc[8:]
	}
}
