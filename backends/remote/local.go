package remote

import (
	"fmt"
	"slices"

	"github.com/baco-go/baco/engine/gguf"
	"github.com/baco-go/baco/engine/tokenizer"
)

// LocalVocab is a vocabulary read from a local GGUF file holding the same
// vocabulary as the served model (the served file itself, or a
// vocabulary-only GGUF): exact raw pieces, control and user-defined ids,
// BOS/EOS and the end-of-generation set, as the embedded engine reads
// them.
type LocalVocab struct {
	*Vocab
	// Path is the file read.
	Path string
	// BOS and EOS are the file's ids, or -1.
	BOS, EOS int32
	// AddBOS tells whether tokenizing with special tokens prepends BOS.
	AddBOS bool
	// Stop are the end-of-generation ids.
	Stop []int32
	// TextIDs are the user-defined ids (pieces stored as plain text).
	TextIDs []int32
	// ChatTemplate is the file's chat template, or "".
	ChatTemplate string
	// Decode is the file's detokenizer (llama.cpp's llama_detokenize
	// without special tokens), exactly as the embedded engine decodes.
	Decode func(ids []int32) string
	// Encode is the file's tokenizer, exactly as the embedded engine (and
	// llama.cpp) tokenizes.
	Encode func(text string, addSpecial, parseSpecial bool) []int32
}

// ReadGGUFVocab reads the vocabulary of the GGUF file at path (memory
// mapped; weights are not read).
func ReadGGUFVocab(path string) (*LocalVocab, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("vocabulary file: %w", err)
	}
	defer f.Close()
	tok, err := tokenizer.FromGGUF(f)
	if err != nil {
		return nil, fmt.Errorf("vocabulary file %s: %w", path, err)
	}
	n := tok.VocabSize()
	v := &Vocab{Pieces: make([]string, n), Texts: make([]string, n), Control: make([]bool, n)}
	if s := tok.Style(); s == "spm" || s == "bpe" {
		v.Style = s
	}
	for i := range n {
		id := int32(i)
		v.Pieces[i] = tok.Piece(id)
		v.Texts[i] = tok.TokenText(id)
		v.Control[i] = tok.IsControl(id)
	}
	lv := &LocalVocab{Vocab: v, Path: path, BOS: tok.BOS(), EOS: tok.EOS(), AddBOS: tok.AddBOS(), Stop: tok.StopIDs(),
		Decode: tok.Decode, Encode: tok.Encode}
	for _, id := range []int32{tok.EOS(), tok.EOT(), tok.EOM()} {
		if id >= 0 && !slices.Contains(lv.Stop, id) {
			lv.Stop = append(lv.Stop, id)
		}
	}
	slices.Sort(lv.Stop)
	if types := tok.Vocab().Types; types != nil {
		for i, t := range types {
			if t == tokenizer.TypeUserDefined {
				lv.TextIDs = append(lv.TextIDs, int32(i))
			}
		}
	}
	lv.ChatTemplate, _ = f.String("tokenizer.chat_template")
	return lv, nil
}

// Spread returns up to n ids spread evenly over [0, size), always
// including the first and last (for spot checks of a vocabulary).
func Spread(size, n int) []int32 {
	if size <= 0 || n <= 0 {
		return nil
	}
	if n >= size {
		ids := make([]int32, size)
		for i := range ids {
			ids[i] = int32(i)
		}
		return ids
	}
	ids := make([]int32, 0, n)
	for i := range n {
		ids = append(ids, int32(int64(i)*int64(size-1)/int64(max(n-1, 1))))
	}
	return slices.Compact(ids)
}
