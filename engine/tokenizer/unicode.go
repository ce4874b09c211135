package tokenizer

// unicode_tables.go is generated from llama.cpp's src/unicode-data.cpp:
//
//	go run gen_unicode.go -src /path/to/llama.cpp/src/unicode-data.cpp

import "sort"

// Code point flags, numbered as llama.cpp's unicode_cpt_flags so that the
// pre-tokenizers can be checked line by line against unicode.cpp.
const (
	flagUndefined  = 0x0001
	flagNumber     = 0x0002 // \p{N}
	flagLetter     = 0x0004 // \p{L}
	flagSeparator  = 0x0008 // \p{Z}
	flagAccentMark = 0x0010 // \p{M}
	flagPunct      = 0x0020 // \p{P}
	flagSymbol     = 0x0040 // \p{S}
	flagControl    = 0x0080 // \p{C}
	flagCategories = 0x00FF
	flagWhitespace = 0x0100 // \s as llama.cpp defines it
)

// maxCodepoints is one past the largest code point in the tables.
const maxCodepoints = 0x110000

// asciiFlags caches cptFlags for code points below 128, the common case.
var asciiFlags = func() (t [128]uint16) {
	for c := range t {
		t[c] = cptFlagsSlow(uint32(c))
	}
	return t
}()

// cptFlags returns llama.cpp's flags for one code point: its general
// category bit, plus flagWhitespace for members of llama.cpp's whitespace
// set. Code points past U+10FFFF are undefined, as in llama.cpp.
func cptFlags(c uint32) uint16 {
	if c < 128 {
		return asciiFlags[c]
	}
	return cptFlagsSlow(c)
}

func cptFlagsSlow(c uint32) uint16 {
	if c >= maxCodepoints {
		return flagUndefined
	}
	i := sort.Search(len(flagStarts), func(i int) bool { return flagStarts[i] > c }) - 1
	f := flagValues[i]
	if isWhitespaceCpt(c) {
		f |= flagWhitespace
	}
	return f
}

func isWhitespaceCpt(c uint32) bool {
	i := sort.Search(len(whitespaceCpts), func(i int) bool { return whitespaceCpts[i] >= c })
	return i < len(whitespaceCpts) && whitespaceCpts[i] == c
}

// toLower is llama.cpp's unicode_tolower: the simple lower-case mapping,
// or c itself.
func toLower(c uint32) uint32 {
	i := sort.Search(len(lowerFrom), func(i int) bool { return lowerFrom[i] >= c })
	if i < len(lowerFrom) && lowerFrom[i] == c {
		return lowerTo[i]
	}
	return c
}

// nfd is llama.cpp's one-code-point NFD approximation
// (unicode_cpts_normalize_nfd): the first code point of the decomposition.
func nfd(c uint32) uint32 {
	i := sort.Search(len(nfdFirst), func(i int) bool { return nfdFirst[i] > c }) - 1
	if i >= 0 && nfdFirst[i] <= c && c <= nfdLast[i] {
		return nfdTo[i]
	}
	return c
}

// utf8Len is llama.cpp's unicode_len_utf8: the sequence length implied by a
// lead byte's high nibble (continuation bytes count as 1).
func utf8Len(b byte) int {
	switch b >> 4 {
	case 0xC, 0xD:
		return 2
	case 0xE:
		return 3
	case 0xF:
		return 4
	}
	return 1
}

// replacementChar is what llama.cpp substitutes for each byte it cannot
// decode.
const replacementChar = 0xFFFD

// decodeCpts decodes s as llama.cpp's unicode_cpts_from_utf8 does. The
// decoder is lenient (overlong forms and surrogates pass, as their arithmetic
// value); a malformed sequence yields U+FFFD for its first byte only and
// decoding resumes at the next byte.
func decodeCpts(s string, dst []uint32) []uint32 {
	for off := 0; off < len(s); {
		c, n := decodeOne(s, off)
		dst = append(dst, c)
		off += n
	}
	return dst
}

func decodeOne(s string, off int) (uint32, int) {
	b0 := s[off]
	switch {
	case b0&0x80 == 0:
		return uint32(b0), 1
	case b0&0x40 == 0:
		return replacementChar, 1
	case b0&0x20 == 0:
		if off+1 >= len(s) || s[off+1]&0xC0 != 0x80 {
			return replacementChar, 1
		}
		return uint32(b0&0x1F)<<6 | uint32(s[off+1]&0x3F), 2
	case b0&0x10 == 0:
		if off+2 >= len(s) || s[off+1]&0xC0 != 0x80 || s[off+2]&0xC0 != 0x80 {
			return replacementChar, 1
		}
		return uint32(b0&0x0F)<<12 | uint32(s[off+1]&0x3F)<<6 | uint32(s[off+2]&0x3F), 3
	case b0&0x08 == 0:
		if off+3 >= len(s) || s[off+1]&0xC0 != 0x80 || s[off+2]&0xC0 != 0x80 || s[off+3]&0xC0 != 0x80 {
			return replacementChar, 1
		}
		return uint32(b0&0x07)<<18 | uint32(s[off+1]&0x3F)<<12 | uint32(s[off+2]&0x3F)<<6 | uint32(s[off+3]&0x3F), 4
	}
	return replacementChar, 1
}

// appendCpt appends the UTF-8 form of c as llama.cpp's unicode_cpt_to_utf8
// writes it (surrogates included). llama.cpp throws for values past
// U+10FFFF, which only arise from F5..F7 lead bytes; those are written as
// U+FFFD here instead.
func appendCpt(dst []byte, c uint32) []byte {
	switch {
	case c <= 0x7F:
		return append(dst, byte(c))
	case c <= 0x7FF:
		return append(dst, 0xC0|byte(c>>6&0x1F), 0x80|byte(c&0x3F))
	case c <= 0xFFFF:
		return append(dst, 0xE0|byte(c>>12&0x0F), 0x80|byte(c>>6&0x3F), 0x80|byte(c&0x3F))
	case c <= 0x10FFFF:
		return append(dst, 0xF0|byte(c>>18&0x07), 0x80|byte(c>>12&0x3F), 0x80|byte(c>>6&0x3F), 0x80|byte(c&0x3F))
	}
	return append(dst, 0xEF, 0xBF, 0xBD)
}

// byteRunes is GPT-2's byte-to-unicode table (llama.cpp
// unicode_byte_to_utf8_map): printable Latin-1 bytes map to themselves, the
// others to U+0100 onwards in byte order.
var byteRunes = func() (t [256]rune) {
	n := rune(0)
	for b := 0; b < 256; b++ {
		if (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			t[b] = rune(b)
		} else {
			t[b] = 256 + n
			n++
		}
	}
	return t
}()

// runeByte inverts byteRunes: runeByte[r] is the byte for rune r (< 324),
// or -1 when r stands for no byte.
var runeByte = func() (t [324]int16) {
	for i := range t {
		t[i] = -1
	}
	for b, r := range byteRunes {
		t[r] = int16(b)
	}
	return t
}()
