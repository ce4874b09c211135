// Package tensor holds the numeric kernels of the embedded GGUF inference
// engine: the ggml block layouts of the supported tensor types (F32, F16,
// BF16, Q8_0, Q4_0, Q4_K, Q6_K), ggml's reference quantisers and
// dequantisers ported bit-exactly to Go, and a persistent worker pool that
// runs matrix–vector and matrix–batch products with dequantisation fused into
// the dot product.
//
// Quantised weights are never expanded to F32: activations are quantised once
// per call to int8 blocks (Q8_0 blocks against Q8_0/Q4_0 weights, Q8_K
// super-blocks against K-quant weights) and dotted in integer arithmetic with
// the per-block scales applied afterwards, as ggml does. The Q8_0 activation
// quantiser is llama.cpp's x86 one (fp16 scale, ties to even), so Q8_0 and
// Q4_0 logits agree with llama.cpp's to float rounding.
//
// MatMul reads each weight row once for all batch columns (kernels that dot
// one row with four columns at a time), and its summation order depends only
// on the data, so a column's result is bitwise the same whatever the batch
// size or worker count.
//
// On amd64 with AVX2+FMA+F16C the inner dot products run in Go assembly; the
// build tag purego forces the portable Go kernels everywhere. The two agree
// within float32 rounding (bitwise for Q4_K and Q6_K).
//
// With AVX-512 VNNI, Q8_0, Q4_0, Q4_K and Q6_K products run in tile kernels
// instead: 16 weight rows are transposed per block so that one VPDPBUSD
// multiplies four bytes of every row by four activation bytes broadcast to
// all lanes. The integer sums are exact and are combined in float32 exactly
// as the portable kernels combine them, so on such a CPU MatMul is bitwise
// equal to the purego build for these types, at every batch size.
//
// testdata/ggmlref holds byte-exact outputs of ggml's reference quantisers
// (see its README) that the tests compare against.
package tensor
