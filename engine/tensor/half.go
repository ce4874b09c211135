package tensor

import "math"

// fp16ToF32 converts an IEEE binary16 value to float32 exactly (a port of
// ggml_compute_fp16_to_fp32's bit manipulation).
func fp16ToF32(h uint16) float32 {
	w := uint32(h) << 16
	sign := w & 0x80000000
	twoW := w + w
	const expOffset = uint32(0xE0) << 23
	const expScale = float32(0x1.0p-112)
	normalized := math.Float32frombits((twoW>>4)+expOffset) * expScale
	const magicMask = uint32(126) << 23
	const magicBias = float32(0.5)
	denormalized := math.Float32frombits((twoW>>17)|magicMask) - magicBias
	const denormCutoff = uint32(1) << 27
	var bits uint32
	if twoW < denormCutoff {
		bits = math.Float32bits(denormalized)
	} else {
		bits = math.Float32bits(normalized)
	}
	return math.Float32frombits(sign | bits)
}

// f32ToFP16 converts float32 to IEEE binary16 rounding to nearest even, NaN
// becoming 0x7E00 with the sign kept (a port of ggml_compute_fp32_to_fp16,
// which is bit-identical to the F16C instruction ggml uses on x86).
func f32ToFP16(f float32) uint16 {
	const scaleToInf = float32(0x1.0p+112)
	const scaleToZero = float32(0x1.0p-110)
	abs := math.Float32frombits(math.Float32bits(f) &^ 0x80000000)
	base := float32(abs*scaleToInf) * scaleToZero

	w := math.Float32bits(f)
	shl1W := w + w
	sign := w & 0x80000000
	bias := shl1W & 0xFF000000
	if bias < 0x71000000 {
		bias = 0x71000000
	}
	base = math.Float32frombits((bias>>1)+0x07800000) + base
	bits := math.Float32bits(base)
	expBits := (bits >> 13) & 0x00007C00
	mantBits := bits & 0x00000FFF
	nonsign := expBits + mantBits
	if shl1W > 0xFF000000 {
		nonsign = 0x7E00
	}
	return uint16(sign>>16) | uint16(nonsign)
}

// bf16ToF32 widens a brain-float16 value to float32 exactly.
func bf16ToF32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// f32ToBF16 narrows float32 to brain-float16 rounding to nearest even; NaNs
// stay NaN and become quiet (a port of ggml_compute_fp32_to_bf16).
func f32ToBF16(f float32) uint16 {
	u := math.Float32bits(f)
	if u&0x7fffffff > 0x7f800000 {
		return uint16(u>>16) | 64
	}
	return uint16((u + (0x7fff + ((u >> 16) & 1))) >> 16)
}

// le16 reads a little-endian uint16 at b[0:2].
func le16(b []byte) uint16 { return uint16(b[0]) | uint16(b[1])<<8 }

// put16 writes v little-endian into b[0:2].
func put16(b []byte, v uint16) { b[0] = byte(v); b[1] = byte(v >> 8) }
