package gguf_test

import (
	"bytes"
	"fmt"

	"github.com/baco-go/baco/engine/gguf"
)

// A Builder makes a model of any shape, here one F32 embedding matrix of
// 8 tokens × 4 dims, and Parse reads it back.
func ExampleBuilder() {
	b := gguf.NewBuilder()
	_ = b.SetKV("general.architecture", "llama")
	_ = b.SetKV("llama.embedding_length", uint32(4))
	_ = b.SetKV("tokenizer.ggml.tokens", []string{"<unk>", "<s>", "</s>", "a", "b", "c", "d", "e"})
	weights := make([]byte, 4*8*4) // dims[0]=4 per row, 8 rows, 4 bytes each
	if err := b.AddTensor("token_embd.weight", gguf.TypeF32, []uint64{4, 8}, weights); err != nil {
		fmt.Println(err)
		return
	}
	var buf bytes.Buffer
	if _, err := b.WriteTo(&buf); err != nil {
		fmt.Println(err)
		return
	}
	f, err := gguf.Parse(buf.Bytes())
	if err != nil {
		fmt.Println(err)
		return
	}
	dim, _ := f.Uint("llama.embedding_length")
	toks, _ := f.Strings("tokenizer.ggml.tokens")
	t, _ := f.Tensor("token_embd.weight")
	fmt.Println(f.Arch(), dim, len(toks), t.Type, t.Dims, t.Size)
	// Output: llama 4 8 F32 [4 8] 128
}
