package modelgen

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/baco-go/baco/engine/gguf"
)

// VocabSource is the tokenizer a generated model carries: the tokenizer.*
// metadata of an existing GGUF (so the random model shares that model's
// vocabulary) or a synthetic byte-level BPE vocabulary. It is immutable and
// safe for concurrent use.
type VocabSource struct {
	from string    // where it came from, for errors
	kvs  []gguf.KV // tokenizer.* entries, in order
	size int
}

// Size returns the number of tokens.
func (v *VocabSource) Size() int { return v.size }

// KVs returns the tokenizer.* metadata entries the source writes. The slice
// is a copy; the arrays inside the values are shared and must not be
// modified.
func (v *VocabSource) KVs() []gguf.KV { return append([]gguf.KV(nil), v.kvs...) }

// VocabFromFile reads the tokenizer.* metadata of the GGUF file at path.
func VocabFromFile(path string) (*VocabSource, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("modelgen: vocabulary: %w", err)
	}
	defer f.Close()
	v, err := VocabFromGGUF(f)
	if err != nil {
		return nil, err
	}
	v.from = path
	return v, nil
}

// VocabFromGGUF copies every tokenizer.* metadata entry of f (tokens, scores,
// token types, merges, special ids, chat template, ...). The copy stays
// valid after f is closed.
func VocabFromGGUF(f *gguf.File) (*VocabSource, error) {
	toks, ok := f.Strings("tokenizer.ggml.tokens")
	if !ok || len(toks) == 0 {
		return nil, fmt.Errorf("modelgen: vocabulary: the GGUF file has no tokenizer.ggml.tokens")
	}
	if len(toks) > maxVocab {
		return nil, fmt.Errorf("modelgen: vocabulary: %d tokens, at most %d supported", len(toks), maxVocab)
	}
	v := &VocabSource{from: "GGUF file", size: len(toks)}
	for _, kv := range f.KVs {
		if strings.HasPrefix(kv.Key, "tokenizer.") {
			v.kvs = append(v.kvs, kv) // the reader's metadata does not alias the file
		}
	}
	return v, nil
}

// Special tokens of a synthetic vocabulary, at ids 0, 1 and 2.
const (
	// SynthEndOfText is id 0, the BOS and EOS token.
	SynthEndOfText = "<|endoftext|>"
	// SynthIMStart is id 1, ChatML's turn opener.
	SynthIMStart = "<|im_start|>"
	// SynthIMEnd is id 2, ChatML's turn closer and the end-of-turn token.
	SynthIMEnd = "<|im_end|>"
)

// ChatMLTemplate is the ChatML chat template (teknium/OpenHermes-2.5's) that
// synthetic vocabularies carry as tokenizer.chat_template.
const ChatMLTemplate = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"

// MinSyntheticVocab is the smallest synthetic vocabulary: three special
// tokens and the 256 byte tokens.
const MinSyntheticVocab = 3 + 256

// maxPieceBytes bounds the length of a synthetic merged piece.
const maxPieceBytes = 16

// synthWords are the words whose pieces (with and without a leading space)
// a synthetic vocabulary builds first, so that common English text,
// function words especially, tokenises into multi-byte pieces.
var synthWords = strings.Fields(`
the of and to a in is it you that he was for on are with as I his they be at
one have this from or had by not word but what some we can out other were all
there when up use your how said an each she which do their time if will way
about many then them write would like so these her long make thing see him two
has look more day could go come did number sound no most people my over know
water than call first who may down side been now find any new work part take
get place made live where after back little only round man year came show every
good me give our under name very through just form sentence great think say help
low line differ turn cause much mean before move right boy old too same tell does
set three want air well also play small end put home read hand port large spell
add even land here must big high such follow act why ask men change went light
kind off need house picture try us again animal point mother world near build
self earth father head stand own page should country found answer school grow
study still learn plant cover food sun four between state keep eye never last
let thought city tree cross farm hard start might story saw far sea draw left
late run while press close night real life few north once upon girl happy
`)

// SyntheticVocab returns a byte-level BPE vocabulary (GGUF tokenizer model
// "gpt2", pre-tokenizer "gpt-2") of exactly size tokens, size ≥
// MinSyntheticVocab. It depends on size alone, so two models generated with
// the same vocabulary size share it whatever their seeds.
//
// Ids 0, 1, 2 are the control tokens SynthEndOfText (BOS and EOS),
// SynthIMStart and SynthIMEnd (end of turn); ids 3..258 are the 256 byte
// tokens, in byte order, spelled with GPT-2's byte-to-unicode map ("Ġ" is
// the space byte); every later token is the result of one merge, in merge
// order: first the pieces that spell common English words (with and without
// a leading space), then random merges of letter pieces from a fixed seed.
// No BOS is added when tokenising; the chat template is ChatMLTemplate.
func SyntheticVocab(size int) (*VocabSource, error) {
	if size < MinSyntheticVocab || size > maxVocab {
		return nil, fmt.Errorf("modelgen: synthetic vocabulary of %d tokens: want %d..%d (3 control tokens + 256 bytes + merges)",
			size, MinSyntheticVocab, maxVocab)
	}
	b2u := byteToUnicode()
	tokens := make([]string, 0, size)
	types := make([]int32, 0, size)
	index := make(map[string]bool, size)
	for _, s := range []string{SynthEndOfText, SynthIMStart, SynthIMEnd} {
		tokens, types = append(tokens, s), append(types, 3) // control
		index[s] = true
	}
	for b := range 256 {
		s := string(b2u[b])
		tokens, types = append(tokens, s), append(types, 1) // normal
		index[s] = true
	}
	merges := make([]string, 0, size-MinSyntheticVocab)
	// heads may start a merge (letters, the space mark, letter pieces);
	// tails may end one (letters and letter pieces without the space mark).
	space := string(b2u[' '])
	heads := []string{space}
	var tails []string
	for c := 'a'; c <= 'z'; c++ {
		heads, tails = append(heads, string(c)), append(tails, string(c))
	}
	add := func(a, b string) {
		s := a + b
		if len(tokens) == size || index[s] {
			return
		}
		tokens, types = append(tokens, s), append(types, 1)
		index[s] = true
		merges = append(merges, a+" "+b)
		heads = append(heads, s)
		if !strings.HasPrefix(s, space) {
			tails = append(tails, s)
		}
	}
	for _, w := range synthWords {
		w = strings.ToLower(w)
		for _, form := range []string{space + w, w} {
			r := []rune(form)
			cur := string(r[0])
			for _, c := range r[1:] {
				add(cur, string(c))
				cur += string(c)
			}
		}
	}
	rng := rand.New(rand.NewPCG(0x6261636f, 0x766f636162)) // fixed: the vocabulary depends on size only
	for tries := 0; len(tokens) < size; tries++ {
		if tries > 64*size {
			return nil, fmt.Errorf("modelgen: synthetic vocabulary: no new piece found after %d tries at %d tokens", tries, len(tokens))
		}
		a, b := heads[rng.IntN(len(heads))], tails[rng.IntN(len(tails))]
		if len(a)+len(b) <= maxPieceBytes {
			add(a, b)
		}
	}
	str := func(k, v string) gguf.KV { return gguf.KV{Key: k, Type: gguf.TypeString, Value: v} }
	u32 := func(k string, v uint32) gguf.KV { return gguf.KV{Key: k, Type: gguf.TypeUint32, Value: v} }
	kvs := []gguf.KV{
		str("tokenizer.ggml.model", "gpt2"),
		str("tokenizer.ggml.pre", "gpt-2"),
		{Key: "tokenizer.ggml.tokens", Type: gguf.TypeArray, Value: gguf.Array{Type: gguf.TypeString, Values: tokens}},
		{Key: "tokenizer.ggml.token_type", Type: gguf.TypeArray, Value: gguf.Array{Type: gguf.TypeInt32, Values: types}},
		{Key: "tokenizer.ggml.merges", Type: gguf.TypeArray, Value: gguf.Array{Type: gguf.TypeString, Values: merges}},
		u32("tokenizer.ggml.bos_token_id", 0),
		u32("tokenizer.ggml.eos_token_id", 0),
		u32("tokenizer.ggml.eot_token_id", 2),
		{Key: "tokenizer.ggml.add_bos_token", Type: gguf.TypeBool, Value: false},
		str("tokenizer.chat_template", ChatMLTemplate),
	}
	return &VocabSource{from: "synthetic vocabulary", kvs: kvs, size: size}, nil
}

// byteToUnicode is GPT-2's map from bytes to printable runes: printable
// Latin-1 bytes map to themselves, the others to U+0100 onwards in byte
// order (so the space byte is 'Ġ', U+0120, and '\n' is 'Ċ').
func byteToUnicode() [256]rune {
	var m [256]rune
	n := 0
	for b := range 256 {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			m[b] = rune(b)
		} else {
			m[b] = rune(256 + n)
			n++
		}
	}
	return m
}
