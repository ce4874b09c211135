package remote

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Vocab is a remote model's vocabulary as the core needs it: the raw
// piece of every id (as the GGUF stores it, "▁the", "Ġthe", "<0x0A>"),
// what each id reads as text, and which ids are control tokens.
type Vocab struct {
	// Style is "spm", "bpe" or "" (unknown).
	Style string
	// Pieces are the raw pieces in id order.
	Pieces []string
	// Texts are the decoded texts (llama.cpp's token_to_piece with
	// special=true) in id order.
	Texts []string
	// Control marks control tokens.
	Control []bool

	once   sync.Once
	byText map[string]int32
	dupes  map[string]bool
}

// Fingerprint is the hex SHA-256 of every piece in id order, each preceded
// by its length in bytes as a little-endian uint64 — the same formula as
// the embedded engine's tokenizer, so a remote model and a local GGUF with
// the same vocabulary have the same fingerprint.
func Fingerprint(pieces []string) string {
	h := sha256.New()
	var n [8]byte
	for _, s := range pieces {
		binary.LittleEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Fingerprint returns the fingerprint of v's pieces.
func (v *Vocab) Fingerprint() string { return Fingerprint(v.Pieces) }

// Size is the number of ids.
func (v *Vocab) Size() int { return len(v.Pieces) }

// ControlIDs returns the control ids in increasing order.
func (v *Vocab) ControlIDs() []int32 {
	var ids []int32
	for i, c := range v.Control {
		if c {
			ids = append(ids, int32(i))
		}
	}
	return ids
}

// Find returns the id whose raw piece is piece, preferring a control
// token, or -1.
func (v *Vocab) Find(piece string) int32 {
	found := int32(-1)
	for i, p := range v.Pieces {
		if p == piece {
			if v.Control[i] {
				return int32(i)
			}
			if found < 0 {
				found = int32(i)
			}
		}
	}
	return found
}

// ByText returns the id whose decoded text is s (for servers that name
// candidates by text only). Where several ids share a text, a normal
// token wins over a byte token, then the lowest id; ambiguous reports
// whether there was a choice.
func (v *Vocab) ByText(s string) (id int32, ok, ambiguous bool) {
	v.once.Do(func() {
		v.byText = make(map[string]int32, len(v.Texts))
		v.dupes = make(map[string]bool)
		for i, t := range v.Texts {
			j, dup := v.byText[t]
			if !dup {
				v.byText[t] = int32(i)
				continue
			}
			v.dupes[t] = true
			if isBytePiece(v.Pieces[j]) && !isBytePiece(v.Pieces[i]) {
				v.byText[t] = int32(i)
			}
		}
	})
	id, ok = v.byText[s]
	return id, ok, v.dupes[s]
}

func isBytePiece(p string) bool {
	return len(p) == 6 && strings.HasPrefix(p, "<0x") && p[5] == '>'
}

// EOGTexts are the end-of-turn texts llama.cpp treats as end of
// generation when the vocabulary holds them (kept in step with the
// embedded tokenizer).
var EOGTexts = []string{"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "<EOT>"}

// StopIDs returns eos (when ≥ 0) and every control token whose piece is
// an end-of-turn text, in increasing order.
func (v *Vocab) StopIDs(eos int32) []int32 {
	var ids []int32
	if eos >= 0 {
		ids = append(ids, eos)
	}
	for i, p := range v.Pieces {
		if slices.Contains(EOGTexts, p) && !slices.Contains(ids, int32(i)) {
			ids = append(ids, int32(i))
		}
	}
	slices.Sort(ids)
	return ids
}

// RebuildVocab reconstructs raw pieces from what a llama.cpp server says
// each id reads as: texts[i] is token_to_piece(i, special=true) and
// control[i] is true where the id reads as "" with special=false (a
// control or unknown token). style is "spm" or "bpe" (anything else keeps
// the texts as pieces).
//
// SPM: a control token keeps its text; a run of 256 ids reading as the
// bytes 0x00..0xFF (0x80..0xFF may arrive as U+FFFD) are the byte tokens
// "<0x00>".."<0xFF>"; any other id turns its spaces back into "▁".
// BPE: a control token keeps its text; any other id is byte-level
// encoded (" " → "Ġ", "\n" → "Ċ", ...).
//
// Tokens llama.cpp marks user-defined keep their text on the server but
// are re-encoded here, so a user-defined token holding a space comes out
// wrong: give the backend a local vocabulary file where that matters.
// The "<unk>" token is an unknown token, not a control token.
func RebuildVocab(style string, texts []string, control []bool) (*Vocab, error) {
	if len(texts) != len(control) {
		return nil, fmt.Errorf("vocabulary: %d texts but %d control flags", len(texts), len(control))
	}
	v := &Vocab{Style: style, Texts: texts, Pieces: make([]string, len(texts)), Control: make([]bool, len(texts))}
	byteStart := -1
	if style == "spm" {
		byteStart = byteRun(texts)
	}
	for i, t := range texts {
		switch {
		case control[i]:
			v.Pieces[i] = t
			v.Control[i] = t != "<unk>"
		case byteStart >= 0 && i >= byteStart && i < byteStart+256:
			v.Pieces[i] = fmt.Sprintf("<0x%02X>", i-byteStart)
		case style == "spm":
			v.Pieces[i] = strings.ReplaceAll(t, " ", "▁")
		case style == "bpe":
			v.Pieces[i] = EncodeByteLevel(t)
		default:
			v.Pieces[i] = t
		}
		if v.Pieces[i] == "" {
			v.Pieces[i] = fmt.Sprintf("[EMPTY_%d]", i) // as llama.cpp names empty pieces
		}
	}
	return v, nil
}

// byteRun finds the first id s such that ids s..s+255 read as the single
// bytes 0x00..0xFF (bytes ≥ 0x80 may read as U+FFFD, the server's
// replacement for invalid UTF-8), or -1.
func byteRun(texts []string) int {
	for s := 0; s+256 <= len(texts); s++ {
		if texts[s] != "\x00" {
			continue
		}
		ok := true
		for b := 0; b < 256 && ok; b++ {
			t := texts[s+b]
			ok = t == string([]byte{byte(b)}) || (b >= 0x80 && t == "\uFFFD")
		}
		if ok {
			return s
		}
	}
	return -1
}

// byteLevel maps each byte to the printable rune GPT-2's byte-level BPE
// stores it as.
var byteLevel = func() [256]rune {
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
}()

// EncodeByteLevel writes s's bytes in GPT-2's byte-level alphabet.
func EncodeByteLevel(s string) string {
	var b strings.Builder
	b.Grow(2 * len(s))
	for i := 0; i < len(s); i++ {
		b.WriteRune(byteLevel[s[i]])
	}
	return b.String()
}

// FindText returns the id whose decoded text is s, preferring a control
// token, or -1 (for s == "" too).
func (v *Vocab) FindText(s string) int32 {
	if s == "" {
		return -1
	}
	found := int32(-1)
	for i, t := range v.Texts {
		if t == s {
			if v.Control[i] {
				return int32(i)
			}
			if found < 0 {
				found = int32(i)
			}
		}
	}
	return found
}

// Decode turns ids into text as llama.cpp's llama_detokenize does without
// special tokens: control and unknown tokens are left out, and with SPM
// the space the tokenizer put before the first word is removed. (Servers
// that clean up spaces around punctuation are not followed: give a local
// vocabulary file for that.) Ids must be in range.
func (v *Vocab) Decode(ids []int32) string {
	var b strings.Builder
	first := true
	for _, id := range ids {
		if v.Control[id] || v.Pieces[id] == "<unk>" {
			continue
		}
		t := v.Texts[id]
		if first && v.Style == "spm" {
			t = strings.TrimPrefix(t, " ")
		}
		first = false
		b.WriteString(t)
	}
	return b.String()
}
