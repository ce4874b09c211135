// Package tokenizer builds the tokenizers of the embedded GGUF engine from
// GGUF metadata: SentencePiece (tokenizer.ggml.model "llama"), byte-level
// BPE ("gpt2", with the pre-tokenizer named by tokenizer.ggml.pre) and BERT
// WordPiece ("bert"). Encode and Decode reproduce llama.cpp's
// llama_tokenize and llama_detokenize (commit c392e50) token for token and
// byte for byte, including their quirks; the package tests check this
// against llama.cpp's own test vectors and against vectors recorded from
// llama.cpp.
//
// A Tokenizer is immutable after New and safe for concurrent use.
package tokenizer

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Token attributes (llama_token_attr).
const (
	attrUnknown     uint16 = 1 << 0
	attrUnused      uint16 = 1 << 1
	attrNormal      uint16 = 1 << 2
	attrControl     uint16 = 1 << 3
	attrUserDefined uint16 = 1 << 4
	attrByte        uint16 = 1 << 5
	attrLStrip      uint16 = 1 << 7
	attrRStrip      uint16 = 1 << 8
)

type kind uint8

const (
	kindSPM kind = iota
	kindBPE
	kindWPM
)

// mergeKey is one BPE merge: the left and right parts.
type mergeKey struct{ left, right string }

// Tokenizer turns text into token ids and back, as llama.cpp does for the
// same vocabulary.
type Tokenizer struct {
	v    *Vocab
	kind kind

	texts  []string // token texts (empty ones renamed "[EMPTY_<id>]")
	scores []float32
	attrs  []uint16
	toID   map[string]int32

	ranks       map[mergeKey]int32 // BPE
	pre         *preTokenizer      // BPE
	ignoreMerge bool               // BPE: look a whole word up before merging
	cleanSpaces bool               // Decode clean-up passes
	maxTokenLen int                // WPM longest token, in bytes

	byteTok [256]int32 // SPM byte fallback ids (-1: none)

	special []int32  // control/user-defined/unknown ids, longest text first
	pieces  []string // token_to_piece(id, special=true)

	bos, eos, eot, eom, unk, sep int32
	eog                          []int32
}

// New builds a tokenizer for v. It fails with an error wrapping
// ErrUnsupported for a tokenizer model or pre-tokenizer it does not
// implement, and with a descriptive error for an inconsistent vocabulary
// (mismatched array lengths, duplicate pieces, special ids out of range).
// v must not be modified afterwards.
func New(v *Vocab) (*Tokenizer, error) {
	t := &Tokenizer{v: v, bos: v.BOS, eos: v.EOS, eot: v.EOT, eom: v.EOM, unk: v.UNK, sep: v.SEP}
	switch v.Model {
	case ModelSPM:
		t.kind = kindSPM
	case ModelBPE:
		t.kind = kindBPE
		pre := v.Pre
		if pre == "" {
			pre = "default"
		}
		info, ok := preTypes[pre]
		if !ok {
			return nil, fmt.Errorf("tokenizer: pre-tokenizer type %q: %w", pre, ErrUnsupported)
		}
		pt, err := newPreTokenizer(pre)
		if err != nil {
			return nil, err
		}
		t.pre, t.ignoreMerge, t.cleanSpaces = pt, info.ignoreMerge, info.cleanSpaces
	case ModelWPM:
		t.kind = kindWPM
		t.cleanSpaces = true
	default:
		return nil, fmt.Errorf("tokenizer: tokenizer model %q: %w", v.Model, ErrUnsupported)
	}
	n := len(v.Tokens)
	if n == 0 {
		return nil, fmt.Errorf("tokenizer: vocabulary has no tokens")
	}
	if n > 1<<31-1 {
		return nil, fmt.Errorf("tokenizer: vocabulary of %d tokens is too large", n)
	}
	if v.Scores != nil && len(v.Scores) != n {
		return nil, fmt.Errorf("tokenizer: %d scores for %d tokens", len(v.Scores), n)
	}
	if v.Types != nil && len(v.Types) != n {
		return nil, fmt.Errorf("tokenizer: %d token types for %d tokens", len(v.Types), n)
	}
	for _, sp := range []struct {
		name string
		id   int32
	}{{"BOS", v.BOS}, {"EOS", v.EOS}, {"EOT", v.EOT}, {"EOM", v.EOM}, {"UNK", v.UNK}, {"PAD", v.PAD}, {"SEP", v.SEP}} {
		if sp.id < -1 || int(sp.id) >= n {
			return nil, fmt.Errorf("tokenizer: %s id %d outside the vocabulary of %d tokens", sp.name, sp.id, n)
		}
	}
	if v.AddBOS && v.BOS < 0 && t.kind != kindWPM {
		return nil, fmt.Errorf("tokenizer: add_bos is set but the vocabulary has no BOS token")
	}
	if v.AddEOS && v.EOS < 0 && t.kind != kindWPM {
		return nil, fmt.Errorf("tokenizer: add_eos is set but the vocabulary has no EOS token")
	}
	if t.kind == kindWPM && (v.BOS < 0 || v.SEP < 0) {
		return nil, fmt.Errorf("tokenizer: WordPiece vocabulary needs BOS (CLS) and SEP tokens")
	}

	t.texts = make([]string, n)
	t.scores = make([]float32, n)
	t.attrs = make([]uint16, n)
	t.toID = make(map[string]int32, n)
	for i, s := range v.Tokens {
		if s == "" {
			s = "[EMPTY_" + strconv.Itoa(i) + "]"
		}
		if j, dup := t.toID[s]; dup {
			return nil, fmt.Errorf("tokenizer: tokens %d and %d are both %q", j, i, s)
		}
		t.toID[s] = int32(i)
		t.texts[i] = s
		t.maxTokenLen = max(t.maxTokenLen, len(s))
		if v.Scores != nil {
			t.scores[i] = v.Scores[i]
		}
		t.attrs[i] = attrNormal
		if v.Types != nil {
			t.attrs[i] = attrOfType(v.Types[i])
		}
	}

	if t.kind == kindBPE {
		t.ranks = make(map[mergeKey]int32, len(v.Merges))
		for i, m := range v.Merges {
			var k mergeKey
			if len(m) > 1 {
				if p := strings.IndexByte(m[1:], ' '); p >= 0 {
					k = mergeKey{m[:p+1], m[p+2:]}
				}
			}
			if _, seen := t.ranks[k]; !seen {
				t.ranks[k] = int32(i)
			}
		}
	}
	if t.kind == kindSPM {
		for b := range t.byteTok {
			t.byteTok[b] = -1
			if id, ok := t.toID[fmt.Sprintf("<0x%02X>", b)]; ok {
				t.byteTok[b] = id
			} else if id, ok := t.toID[string([]byte{byte(b)})]; ok {
				t.byteTok[b] = id
			}
		}
	}

	t.detectSpecial()
	t.applyNamedAttrs()

	for id, a := range t.attrs {
		if a&(attrControl|attrUserDefined|attrUnknown) != 0 {
			t.special = append(t.special, int32(id))
		}
	}
	sort.SliceStable(t.special, func(i, j int) bool {
		return len(t.texts[t.special[i]]) > len(t.texts[t.special[j]])
	})

	t.pieces = make([]string, n)
	for id := range t.pieces {
		t.pieces[id] = t.piece(int32(id))
	}
	return t, nil
}

func attrOfType(typ int32) uint16 {
	switch typ {
	case TypeNormal:
		return attrNormal
	case TypeUnknown:
		return attrUnknown
	case TypeControl:
		return attrControl
	case TypeUserDefined:
		return attrUserDefined
	case TypeUnused:
		return attrUnused
	case TypeByte:
		return attrByte
	}
	return 0
}

// Texts llama.cpp recognises as end-of-turn, end-of-message and
// end-of-generation tokens, and fill-in-the-middle markers (which it also
// forces to control type).
var (
	eotTexts = []string{"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<EOT>", "<｜end▁of▁sentence｜>"}
	eomTexts = []string{"<|eom_id|>"}
	fimTexts = [][]string{
		{"<|fim_prefix|>", "<fim-prefix>", "<｜fim▁begin｜>", "<PRE>"},
		{"<|fim_suffix|>", "<fim-suffix>", "<｜fim▁hole｜>", "<SUF>"},
		{"<|fim_middle|>", "<fim-middle>", "<｜fim▁end｜>", "<MID>"},
		{"<|fim_pad|>", "<fim-pad>", "<PAD>"},
		{"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>"},
		{"<|file_sep|>"},
	}
	eogTexts = []string{"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "<EOT>"}
)

// detectSpecial does what llama_vocab::load does after reading the ids: it
// finds EOT, EOM and FIM tokens by their text when the metadata names
// none, forces those (and every end-of-generation text) to control type,
// and collects the end-of-generation set. Where several texts qualify,
// llama.cpp takes whichever its hash map yields first; this takes the first
// in the lists above.
func (t *Tokenizer) detectSpecial() {
	find := func(texts []string) int32 {
		for _, s := range texts {
			if id, ok := t.toID[s]; ok {
				return id
			}
		}
		return -1
	}
	if t.eot < 0 {
		if t.eot = find(eotTexts); t.eot >= 0 {
			t.attrs[t.eot] = attrControl
		}
	}
	if t.eom < 0 {
		if t.eom = find(eomTexts); t.eom >= 0 {
			t.attrs[t.eom] = attrControl
		}
	}
	eog := map[int32]bool{}
	for i, texts := range fimTexts {
		if id := find(texts); id >= 0 {
			t.attrs[id] = attrControl
			if i >= 3 { // fim_pad, fim_rep, fim_sep end generation
				eog[id] = true
			}
		}
	}
	for _, s := range eogTexts {
		if id, ok := t.toID[s]; ok {
			eog[id] = true
			t.attrs[id] = attrControl
		}
	}
	for _, id := range []int32{t.eos, t.eot, t.eom} {
		if id >= 0 {
			eog[id] = true
		}
	}
	for id := range eog {
		t.eog = append(t.eog, id)
	}
	sort.Slice(t.eog, func(i, j int) bool { return t.eog[i] < t.eog[j] })
}

// applyNamedAttrs sets the strip attributes llama.cpp derives from the
// pre-tokenizer and model names.
func (t *Tokenizer) applyNamedAttrs() {
	set := func(text string, a uint16, on bool) {
		if id, ok := t.toID[text]; ok {
			if on {
				t.attrs[id] |= a
			} else {
				t.attrs[id] &^= a
			}
		}
	}
	name := strings.ToLower(t.v.Name)
	switch {
	case strings.Contains(t.v.Pre, "jina-v2-de"), strings.Contains(t.v.Pre, "jina-v2-es"), strings.Contains(t.v.Pre, "jina-v2-code"):
		set("<mask>", attrLStrip, true)
	case strings.Contains(name, "phi-3"), strings.Contains(name, "phi3"):
		for id, a := range t.attrs {
			if a&(attrControl|attrUserDefined|attrUnknown) != 0 {
				t.attrs[id] |= attrRStrip
			}
		}
		set("</s>", attrRStrip, true)
		for _, s := range []string{"<unk>", "<s>", "<|endoftext|>"} {
			set(s, attrRStrip, false)
		}
	}
}

// piece is llama.cpp's token_to_piece(id, special=true) without lstrip.
func (t *Tokenizer) piece(id int32) string {
	a, text := t.attrs[id], t.texts[id]
	if a&(attrUnknown|attrControl|attrUserDefined) != 0 {
		return text
	}
	switch t.kind {
	case kindBPE:
		if a&attrNormal != 0 {
			return decodeByteLevel(text)
		}
	default:
		if a&attrNormal != 0 {
			return strings.ReplaceAll(text, "▁", " ")
		}
		if a&attrByte != 0 {
			return string([]byte{tokenByte(text)})
		}
	}
	return ""
}

// tokenByte is llama.cpp's token_to_byte for SPM byte tokens: strtol of
// the two characters after "<0x" in base 16.
func tokenByte(text string) byte {
	if len(text) < 3 {
		return 0
	}
	h := text[3:min(len(text), 5)]
	var v byte
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case '0' <= c && c <= '9':
			v = v<<4 | (c - '0')
		case 'a' <= c && c <= 'f':
			v = v<<4 | (c - 'a' + 10)
		case 'A' <= c && c <= 'F':
			v = v<<4 | (c - 'A' + 10)
		default:
			return v
		}
	}
	return v
}

// decodeByteLevel is llama.cpp's llama_decode_text: every code point of a
// byte-level BPE piece back to its byte; a code point that stands for no
// byte is written as "[UNK_BYTE_0x<hex>" followed by the whole piece and "]".
func decodeByteLevel(text string) string {
	cpts := decodeCpts(text, nil)
	out := make([]byte, 0, len(text))
	var enc []byte
	for _, c := range cpts {
		if c < uint32(len(runeByte)) && runeByte[c] >= 0 {
			out = append(out, byte(runeByte[c]))
			continue
		}
		enc = appendCpt(enc[:0], c)
		out = append(out, "[UNK_BYTE_0x"...)
		out = append(out, hex.EncodeToString(enc)...)
		out = append(out, text...)
		out = append(out, ']')
	}
	return string(out)
}

// Encode tokenizes text as llama.cpp's llama_tokenize(text, addSpecial,
// parseSpecial). addSpecial adds BOS/EOS as the vocabulary's AddBOS/AddEOS
// say (WPM: CLS and SEP). parseSpecial matches the text of control tokens
// in the input (user-defined tokens are always matched). Invalid UTF-8 is
// accepted: SPM falls back to byte tokens, BPE and WPM see U+FFFD.
func (t *Tokenizer) Encode(text string, addSpecial, parseSpecial bool) []int32 {
	frags := t.partition(text, parseSpecial)
	out := make([]int32, 0, len(text)/3+4)
	switch t.kind {
	case kindSPM:
		if addSpecial && t.v.AddBOS {
			out = append(out, t.bos)
		}
		prevSpecial := true
		var buf strings.Builder
		for _, f := range frags {
			if f.tok >= 0 {
				out = append(out, f.tok)
				prevSpecial = true
				continue
			}
			buf.Reset()
			if t.v.AddSpacePrefix && prevSpecial {
				buf.WriteString("▁")
			}
			for _, c := range []byte(text[f.start:f.end]) {
				if c == ' ' {
					buf.WriteString("▁")
				} else {
					buf.WriteByte(c)
				}
			}
			out = t.spm(buf.String(), out)
			prevSpecial = false
		}
		if addSpecial && t.v.AddEOS {
			out = append(out, t.eos)
		}
	case kindBPE:
		if addSpecial && t.v.AddBOS {
			out = append(out, t.bos)
		}
		for _, f := range frags {
			if f.tok >= 0 {
				out = append(out, f.tok)
				continue
			}
			out = t.bpe(text[f.start:f.end], out)
		}
		if addSpecial && t.v.AddEOS {
			out = append(out, t.eos)
		}
	case kindWPM:
		if addSpecial {
			out = append(out, t.bos)
		}
		for _, f := range frags {
			if f.tok >= 0 {
				out = append(out, f.tok)
				continue
			}
			out = t.wpm(text[f.start:f.end], out)
		}
		if addSpecial {
			out = append(out, t.sep)
		}
	}
	return out
}

// fragment is a piece of the input: raw text [start, end) or, when tok is
// not -1, a special token found in the text.
type fragment struct {
	tok        int32
	start, end int
}

func isSpaceByte(c byte) bool { return c == ' ' || (c >= '\t' && c <= '\r') }

// partition is llama.cpp's tokenizer_st_partition: every special token, the
// longest first, is cut out of the raw-text fragments left by the previous
// ones. Control and unknown tokens take part only with parseSpecial.
func (t *Tokenizer) partition(text string, parseSpecial bool) []fragment {
	if text == "" {
		return nil
	}
	frags := []fragment{{tok: -1, start: 0, end: len(text)}}
	var next []fragment
	for _, id := range t.special {
		a := t.attrs[id]
		if !parseSpecial && a&(attrControl|attrUnknown) != 0 {
			continue
		}
		st := t.texts[id]
		if !strings.Contains(text, st) {
			continue
		}
		next = next[:0]
		for _, f := range frags {
			if f.tok >= 0 {
				next = append(next, f)
				continue
			}
			start, end := f.start, f.end
			for start < end {
				i := strings.Index(text[start:end], st)
				if i < 0 {
					break
				}
				m := start + i
				if m > start {
					l := m
					if a&attrLStrip != 0 {
						for l > start && isSpaceByte(text[l-1]) {
							l--
						}
					}
					if l > start {
						next = append(next, fragment{tok: -1, start: start, end: l})
					}
				}
				next = append(next, fragment{tok: id})
				start = m + len(st)
				if a&attrRStrip != 0 {
					for start < end && isSpaceByte(text[start]) {
						start++
					}
				}
			}
			if start < end {
				next = append(next, fragment{tok: -1, start: start, end: end})
			}
		}
		frags, next = next, frags
	}
	return frags
}

// Decode turns ids back into text as llama.cpp's llama_detokenize with
// remove_special=false and unparse_special=false: control and unknown
// tokens give nothing, SPM "▁" becomes a space and byte tokens their byte,
// byte-level BPE pieces their bytes; with AddSpacePrefix one leading space
// of the first token is dropped; BPE and WPM vocabularies (except the
// pre-tokenizers llama.cpp exempts) then get llama.cpp's clean-up of spaces
// before punctuation and contractions. Ids outside the vocabulary give
// nothing.
func (t *Tokenizer) Decode(ids []int32) string {
	var buf []byte
	for i, id := range ids {
		if id < 0 || int(id) >= len(t.pieces) || t.attrs[id]&(attrUnknown|attrControl) != 0 {
			continue
		}
		p := t.pieces[id]
		if i == 0 && t.v.AddSpacePrefix && strings.HasPrefix(p, " ") {
			p = p[1:]
		}
		buf = append(buf, p...)
	}
	if t.cleanSpaces {
		buf = cleanUpSpaces(buf)
	}
	return string(buf)
}

// cleanUpSpaces is the clean_spaces part of llama.cpp's detokenize, three
// in-place passes over the bytes: drop the space before ? ! . , ; drop the
// spaces around a lone apostrophe; drop the space before 's 'm 're 've.
func cleanUpSpaces(text []byte) []byte {
	n := len(text)
	if n == 0 {
		return text
	}
	total := 1
	for i := 1; i < n; i++ {
		x := text[i]
		if text[i-1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',') {
			total--
		}
		text[total] = x
		total++
	}
	n, total = total, 1
	for i := 1; i < n; i++ {
		x := text[i]
		if x == '\'' && i+1 < n && text[i-1] == ' ' && text[i+1] == ' ' {
			total--
			i++
			text[i] = 0
		}
		text[total] = x
		total++
	}
	n, total = total, 1
	for i := 1; i < n; i++ {
		x := text[i]
		if text[i-1] == ' ' && x == '\'' && i+1 < n {
			x1 := text[i+1]
			switch {
			case x1 == 't' || x1 == 'd':
			case x1 == 's' || x1 == 'm':
				total--
			case i+2 < n:
				x2 := text[i+2]
				if (x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e') {
					total--
				}
			}
		}
		text[total] = x
		total++
	}
	return text[:total]
}

// Piece returns the raw vocabulary piece of id (e.g. "▁the", "Ġthe",
// "<0x0A>"), or "" for an id outside the vocabulary. An empty piece in the
// file reads "[EMPTY_<id>]", as in llama.cpp.
func (t *Tokenizer) Piece(id int32) string {
	if id < 0 || int(id) >= len(t.texts) {
		return ""
	}
	return t.texts[id]
}

// TokenText returns what id stands for as text on its own: llama.cpp's
// token_to_piece(id, special=true), so "▁the" gives " the", "<0x0A>" gives
// "\n", "Ġthe" gives " the", a control token its own text (e.g. "</s>"),
// and an unused token "". A byte token of a multi-byte character gives that
// lone byte. It returns "" for an id outside the vocabulary.
func (t *Tokenizer) TokenText(id int32) string {
	if id < 0 || int(id) >= len(t.pieces) {
		return ""
	}
	return t.pieces[id]
}

// VocabSize returns the number of token ids.
func (t *Tokenizer) VocabSize() int { return len(t.texts) }

// IsControl reports whether id is a control token (BOS, EOS, chat
// markers, and the texts llama.cpp forces to control such as
// "<|endoftext|>"). Unknown and user-defined tokens are not control tokens.
func (t *Tokenizer) IsControl(id int32) bool {
	return id >= 0 && int(id) < len(t.attrs) && t.attrs[id]&attrControl != 0
}

// IsEOG reports whether id ends generation in llama.cpp (EOS, EOT, EOM,
// the end-of-turn texts and some fill-in-the-middle markers).
func (t *Tokenizer) IsEOG(id int32) bool {
	i := sort.Search(len(t.eog), func(i int) bool { return t.eog[i] >= id })
	return i < len(t.eog) && t.eog[i] == id
}

// StopIDs returns the end-of-generation ids in increasing order.
func (t *Tokenizer) StopIDs() []int32 { return append([]int32(nil), t.eog...) }

// ControlIDs returns the ids of every control token in increasing order.
func (t *Tokenizer) ControlIDs() []int32 {
	var ids []int32
	for id, a := range t.attrs {
		if a&attrControl != 0 {
			ids = append(ids, int32(id))
		}
	}
	return ids
}

// BOS returns the beginning-of-sequence id, or -1.
func (t *Tokenizer) BOS() int32 { return t.bos }

// EOS returns the end-of-sequence id, or -1.
func (t *Tokenizer) EOS() int32 { return t.eos }

// EOT returns the end-of-turn id (from metadata or detected by text), or -1.
func (t *Tokenizer) EOT() int32 { return t.eot }

// EOM returns the end-of-message id (from metadata or detected by text), or -1.
func (t *Tokenizer) EOM() int32 { return t.eom }

// AddBOS tells whether Encode with addSpecial prepends BOS.
func (t *Tokenizer) AddBOS() bool { return t.v.AddBOS || t.kind == kindWPM }

// Style returns the vocabulary style: "spm", "bpe" or "wpm".
func (t *Tokenizer) Style() string {
	return [...]string{kindSPM: "spm", kindBPE: "bpe", kindWPM: "wpm"}[t.kind]
}

// Vocab returns the vocabulary the tokenizer was built from. It must not be
// modified.
func (t *Tokenizer) Vocab() *Vocab { return t.v }

// Fingerprint returns the hex SHA-256 of every piece (as Piece returns it)
// in id order, each preceded by its length in bytes as a little-endian
// uint64. Two tokenizers with equal fingerprints have the same pieces under
// the same ids.
func (t *Tokenizer) Fingerprint() string {
	h := sha256.New()
	var n [8]byte
	for _, s := range t.texts {
		binary.LittleEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	return hex.EncodeToString(h.Sum(nil))
}
