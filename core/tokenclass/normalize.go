package tokenclass

import (
	"strings"
	"unicode/utf8"
)

// Style says how a vocabulary piece encodes the text it stands for.
type Style uint8

const (
	// StyleAuto guesses the style of each piece on its own (see Normalize).
	// NewTable resolves it once for the whole vocabulary with DetectStyle.
	StyleAuto Style = iota
	// StyleSPM is SentencePiece: "▁" (U+2581) stands for a space and a piece
	// of the form <0xHH> stands for the single byte 0xHH.
	StyleSPM
	// StyleBPE is byte-level BPE (GPT-2, Llama 3, Qwen2, ...): every byte is
	// written as one printable rune of GPT-2's bytes_to_unicode table, e.g.
	// "Ġ" (U+0120) for a space and "Ċ" (U+010A) for a newline.
	StyleBPE
	// StyleText means the piece already is the text (backends that return
	// decoded token strings, such as OpenAI-compatible servers).
	StyleText
)

var styleNames = [...]string{"auto", "spm", "bpe", "text"}

// String returns "auto", "spm", "bpe" or "text".
func (s Style) String() string {
	if int(s) < len(styleNames) {
		return styleNames[s]
	}
	return "unknown"
}

// spmSpace is SentencePiece's visible space, U+2581 LOWER ONE EIGHTH BLOCK.
const spmSpace = "\u2581"

// bpeRuneLimit bounds the runes of GPT-2's byte alphabet: every rune it uses
// is below U+0144.
const bpeRuneLimit = 0x144

// bpeByte maps a rune of GPT-2's byte alphabet back to its byte, or -1 for a
// rune outside the alphabet. It is built once and never written again.
var bpeByte = buildBPEByte()

// buildBPEByte inverts GPT-2's bytes_to_unicode (openai/gpt-2, encoder.py):
// the printable bytes '!'..'~', '¡'..'¬' and '®'..'ÿ' stand for themselves;
// the other 68 bytes, in increasing order, are written as U+0100, U+0101, ...
func buildBPEByte() [bpeRuneLimit]int16 {
	var inv [bpeRuneLimit]int16
	for i := range inv {
		inv[i] = -1
	}
	printable := func(b int) bool {
		return ('!' <= b && b <= '~') || (0xA1 <= b && b <= 0xAC) || (0xAE <= b && b <= 0xFF)
	}
	n := 0
	for b := 0; b < 256; b++ {
		if printable(b) {
			inv[b] = int16(b)
		} else {
			inv[256+n] = int16(b)
			n++
		}
	}
	return inv
}

// Normalize returns the text a raw vocabulary piece stands for, guessing the
// piece's style from the piece alone (StyleAuto). The guess, in order:
//
//  1. a piece of exactly the form <0xHH> is a SentencePiece byte token and
//     stands for that byte;
//  2. a piece containing "▁" is SentencePiece: every "▁" becomes a space;
//  3. a piece whose runes all belong to GPT-2's byte alphabet and which
//     contains at least one rune that alphabet remaps (U+00A1–U+00FF or
//     U+0100–U+0143, e.g. "Ġ", "Ċ", "Ã") is byte-level BPE, provided the
//     decoded bytes are valid UTF-8 with no control character other than
//     newline and tab: "Ġthe" → " the", "âĢĶ" → "—";
//  4. anything else is taken as text unchanged.
//
// Rule 3 keeps real Latin-1 and Latin Extended-A text ("é", "ła", "ę") as it
// is, at the price of leaving BPE pieces that hold half of a multi-byte
// character (e.g. "âĢ") undecoded. A piece alone cannot say which vocabulary
// it comes from; when the whole vocabulary is at hand, use DetectStyle once
// and NormalizeStyle with the result (NewTable does).
func Normalize(piece string) string {
	return NormalizeStyle(piece, StyleAuto)
}

// NormalizeStyle returns the text the raw vocabulary piece stands for under
// the given style. The result may be invalid UTF-8 where the piece is one byte
// of a multi-byte character (SentencePiece <0xE2>, BPE "â").
func NormalizeStyle(piece string, s Style) string {
	switch s {
	case StyleText:
		return piece
	case StyleSPM:
		if b, ok := byteToken(piece); ok {
			return string([]byte{b})
		}
		return strings.ReplaceAll(piece, spmSpace, " ")
	case StyleBPE:
		if isASCIIGraphic(piece) {
			return piece
		}
		out, _ := decodeBPE(piece)
		return out
	}
	// StyleAuto (and any unknown value).
	if b, ok := byteToken(piece); ok {
		return string([]byte{b})
	}
	if strings.Contains(piece, spmSpace) {
		return strings.ReplaceAll(piece, spmSpace, " ")
	}
	if isASCIIGraphic(piece) {
		return piece
	}
	if !bpeCandidate(piece) {
		return piece
	}
	out, all := decodeBPE(piece)
	if !all || !utf8.ValidString(out) || hasControl(out) {
		return piece
	}
	return out
}

// DetectStyle guesses the style of a whole vocabulary: SentencePiece when
// more pieces contain "▁" or are <0xHH> byte tokens than contain "Ġ" or "Ċ",
// byte-level BPE when it is the other way round, and StyleText when neither
// marker occurs (or they tie).
func DetectStyle(pieces []string) Style {
	var spm, bpe int
	for _, p := range pieces {
		if _, ok := byteToken(p); ok || strings.Contains(p, spmSpace) {
			spm++
		}
		if strings.ContainsRune(p, 'Ġ') || strings.ContainsRune(p, 'Ċ') {
			bpe++
		}
	}
	switch {
	case spm > bpe:
		return StyleSPM
	case bpe > spm:
		return StyleBPE
	}
	return StyleText
}

// byteToken parses a SentencePiece byte piece "<0xHH>" (hex digits of either
// case).
func byteToken(p string) (byte, bool) {
	if len(p) != 6 || p[0] != '<' || p[1] != '0' || (p[2] != 'x' && p[2] != 'X') || p[5] != '>' {
		return 0, false
	}
	hi, ok1 := hexVal(p[3])
	lo, ok2 := hexVal(p[4])
	if !ok1 || !ok2 {
		return 0, false
	}
	return hi<<4 | lo, true
}

func hexVal(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// isASCIIGraphic reports whether every byte of s is printable ASCII other
// than space ('!'..'~'), the bytes GPT-2's alphabet leaves unchanged.
func isASCIIGraphic(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '!' || s[i] > '~' {
			return false
		}
	}
	return true
}

// bpeCandidate reports whether every rune of s belongs to GPT-2's byte
// alphabet and at least one is outside printable ASCII.
func bpeCandidate(s string) bool {
	remapped := false
	for _, r := range s {
		if r >= bpeRuneLimit || bpeByte[r] < 0 {
			return false
		}
		if r > '~' {
			remapped = true
		}
	}
	return remapped
}

// decodeBPE maps each rune of GPT-2's byte alphabet back to its byte; runes
// outside the alphabet (added tokens) are copied as UTF-8. all is false when
// such a rune occurred.
func decodeBPE(s string) (out string, all bool) {
	buf := make([]byte, 0, len(s))
	all = true
	for _, r := range s {
		if r >= 0 && r < bpeRuneLimit && bpeByte[r] >= 0 {
			buf = append(buf, byte(bpeByte[r]))
			continue
		}
		all = false
		buf = utf8.AppendRune(buf, r)
	}
	return string(buf), all
}

// hasControl reports whether s holds a C0/C1 control character other than
// newline and tab.
func hasControl(s string) bool {
	for _, r := range s {
		if r == '\n' || r == '\t' {
			continue
		}
		if r < 0x20 || (0x7F <= r && r < 0xA0) {
			return true
		}
	}
	return false
}
