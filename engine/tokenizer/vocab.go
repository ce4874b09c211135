package tokenizer

import (
	"errors"
	"fmt"

	"github.com/baco-go/baco/engine/gguf"
)

// Token types as stored in tokenizer.ggml.token_type (llama_token_type).
const (
	TypeUndefined   int32 = 0 // TypeUndefined is a token of no declared type.
	TypeNormal      int32 = 1 // TypeNormal is an ordinary vocabulary piece.
	TypeUnknown     int32 = 2 // TypeUnknown is the unknown token (<unk>).
	TypeControl     int32 = 3 // TypeControl is a control token (BOS, EOS, chat markers).
	TypeUserDefined int32 = 4 // TypeUserDefined is an added token matched before tokenizing.
	TypeUnused      int32 = 5 // TypeUnused is a reserved, unused slot.
	TypeByte        int32 = 6 // TypeByte is an SPM byte-fallback token like <0x0A>.
)

// Model names as stored in tokenizer.ggml.model.
const (
	ModelSPM = "llama" // ModelSPM is SentencePiece BPE (Llama 1/2, Mistral, ...).
	ModelBPE = "gpt2"  // ModelBPE is byte-level BPE (GPT-2, Llama 3, Qwen2, ...).
	ModelWPM = "bert"  // ModelWPM is BERT WordPiece.
)

// ErrUnsupported is wrapped by errors for vocabularies this package does not
// tokenize: unknown or unimplemented tokenizer models and pre-tokenizers.
var ErrUnsupported = errors.New("tokenizer: unsupported")

// Vocab is a tokenizer vocabulary as llama.cpp derives it from GGUF
// metadata. VocabFromGGUF fills every field with the value llama.cpp would
// use (defaults for absent keys included); New uses the fields as given.
type Vocab struct {
	// Model is tokenizer.ggml.model: "llama" (SPM), "gpt2" (BPE) or "bert" (WPM).
	Model string
	// Pre is tokenizer.ggml.pre, the BPE pre-tokenizer type ("default" when
	// a BPE file has none, as llama.cpp assumes); "" for SPM and WPM.
	Pre string
	// Name is general.name; llama.cpp keys a few token attributes off it
	// (Phi-3 strips spaces to the right of its special tokens).
	Name string
	// Tokens are the pieces in id order.
	Tokens []string
	// Scores are the SPM merge scores, one per token (nil: all zero).
	Scores []float32
	// Types are the token types, one per token (nil: all TypeNormal).
	Types []int32
	// Merges are the BPE merges "left right" in rank order.
	Merges []string
	// BOS is the beginning-of-sequence id, or -1.
	BOS int32
	// EOS is the end-of-sequence id, or -1.
	EOS int32
	// EOT is the end-of-turn id from metadata, or -1 (New also detects it by
	// text, as llama.cpp does).
	EOT int32
	// EOM is the end-of-message id from metadata, or -1.
	EOM int32
	// UNK is the unknown-token id, or -1.
	UNK int32
	// PAD is the padding id, or -1.
	PAD int32
	// SEP is the separator id (WPM appends it with add_special), or -1.
	SEP int32
	// AddBOS tells whether Encode with addSpecial prepends BOS.
	AddBOS bool
	// AddEOS tells whether Encode with addSpecial appends EOS.
	AddEOS bool
	// AddSpacePrefix tells whether SPM prepends a space ("▁") to text that
	// starts the input or follows a special token; Decode then drops one
	// leading space of the first token.
	AddSpacePrefix bool
}

// GGUF metadata keys read by VocabFromGGUF.
const (
	keyModel       = "tokenizer.ggml.model"
	keyPre         = "tokenizer.ggml.pre"
	keyTokens      = "tokenizer.ggml.tokens"
	keyScores      = "tokenizer.ggml.scores"
	keyTypes       = "tokenizer.ggml.token_type"
	keyMerges      = "tokenizer.ggml.merges"
	keyBOS         = "tokenizer.ggml.bos_token_id"
	keyEOS         = "tokenizer.ggml.eos_token_id"
	keyEOT         = "tokenizer.ggml.eot_token_id"
	keyEOM         = "tokenizer.ggml.eom_token_id"
	keyUNK         = "tokenizer.ggml.unknown_token_id"
	keySEP         = "tokenizer.ggml.seperator_token_id" // sic, as llama.cpp spells it
	keyPAD         = "tokenizer.ggml.padding_token_id"
	keyAddBOS      = "tokenizer.ggml.add_bos_token"
	keyAddEOS      = "tokenizer.ggml.add_eos_token"
	keyAddPrefix   = "tokenizer.ggml.add_space_prefix"
	keyGeneralName = "general.name"
)

// VocabFromGGUF reads the tokenizer metadata of f and resolves it the way
// llama.cpp's llama_vocab::load does: per-model default special ids (SPM
// BOS=1 EOS=2 UNK=0; WPM BOS=101 UNK=100 SEP=102 PAD=0; none for BPE, where
// llama.cpp's placeholder 11 is not copied and chatglm-bpe's cleared BOS is
// thus already absent), per-model and per-pre-tokenizer
// defaults for add_bos/add_eos/add_space_prefix, then the file's own keys.
// Special ids outside the vocabulary are ignored, as llama.cpp does.
func VocabFromGGUF(f *gguf.File) (*Vocab, error) {
	model, ok := f.String(keyModel)
	if !ok {
		return nil, fmt.Errorf("tokenizer: GGUF has no %s string", keyModel)
	}
	v := &Vocab{Model: model, BOS: -1, EOS: -1, EOT: -1, EOM: -1, UNK: -1, PAD: -1, SEP: -1}
	v.Name, _ = f.String(keyGeneralName)
	switch model {
	case ModelSPM:
		v.BOS, v.EOS, v.UNK = 1, 2, 0
		v.AddBOS, v.AddSpacePrefix = true, true
	case ModelWPM:
		v.BOS, v.UNK, v.SEP, v.PAD = 101, 100, 102, 0
		v.AddBOS = true
	case ModelBPE:
		pre, ok := f.String(keyPre)
		if !ok || pre == "" {
			pre = "default"
		}
		v.Pre = pre
		info, ok := preTypes[pre]
		if !ok {
			return nil, fmt.Errorf("tokenizer: pre-tokenizer type %q (%s): %w", pre, keyPre, ErrUnsupported)
		}
		v.AddBOS = info.addBOS
		merges, ok := f.Strings(keyMerges)
		if !ok {
			return nil, fmt.Errorf("tokenizer: BPE vocabulary has no %s string array", keyMerges)
		}
		v.Merges = append([]string(nil), merges...)
	default:
		return nil, fmt.Errorf("tokenizer: tokenizer model %q (%s): %w", model, keyModel, ErrUnsupported)
	}

	tokens, ok := f.Strings(keyTokens)
	if !ok {
		return nil, fmt.Errorf("tokenizer: GGUF has no %s string array", keyTokens)
	}
	v.Tokens = append([]string(nil), tokens...)
	if _, present := f.KV(keyScores); present {
		scores, ok := f.Float32s(keyScores)
		if !ok || len(scores) != len(tokens) {
			return nil, fmt.Errorf("tokenizer: %s must be a FLOAT32 array of %d elements", keyScores, len(tokens))
		}
		v.Scores = append([]float32(nil), scores...)
	}
	if _, present := f.KV(keyTypes); present {
		types, ok := f.Int32s(keyTypes)
		if !ok || len(types) != len(tokens) {
			return nil, fmt.Errorf("tokenizer: %s must be an integer array of %d elements", keyTypes, len(tokens))
		}
		v.Types = append([]int32(nil), types...)
	}

	if b, ok := f.Bool(keyAddPrefix); ok {
		v.AddSpacePrefix = b
	}
	n := uint64(len(tokens))
	for _, sp := range []struct {
		key string
		dst *int32
	}{{keyBOS, &v.BOS}, {keyEOS, &v.EOS}, {keyEOT, &v.EOT}, {keyEOM, &v.EOM}, {keyUNK, &v.UNK}, {keySEP, &v.SEP}, {keyPAD, &v.PAD}} {
		if id, ok := f.Uint(sp.key); ok && id < n {
			*sp.dst = int32(id)
		}
	}
	if b, ok := f.Bool(keyAddBOS); ok {
		v.AddBOS = b
	}
	if b, ok := f.Bool(keyAddEOS); ok {
		v.AddEOS = b
	}
	return v, nil
}

// FromGGUF reads the vocabulary of f and builds its tokenizer.
func FromGGUF(f *gguf.File) (*Tokenizer, error) {
	v, err := VocabFromGGUF(f)
	if err != nil {
		return nil, err
	}
	return New(v)
}
