package tokenclass

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Classify returns the class of a normalized piece (see Normalize). Leading
// and trailing whitespace is ignored, then the first rule that matches wins:
//
//   - Space: nothing but whitespace (or the empty string);
//   - Punct: only Unicode punctuation (P*) and symbols (S*, emoji included),
//     possibly with inner whitespace, e.g. ",", "—", "“", ").", "**";
//   - Number: digits (any Unicode N*) with optional '.' and ',' separators,
//     e.g. "123", "3.14", "1,000";
//   - Function: the lower-cased text is an English function word
//     (IsFunctionWord), e.g. "the", "The", "of", "'s";
//   - Content: anything else, including text that is not valid UTF-8 (one
//     byte of a multi-byte character).
//
// Special is never returned: control tokens are known only to the vocabulary,
// and NewTable marks them.
func Classify(text string) Class {
	t := strings.TrimSpace(text)
	if t == "" {
		return Space
	}
	if !utf8.ValidString(t) {
		return Content
	}
	if isPunct(t) {
		return Punct
	}
	if isNumber(t) {
		return Number
	}
	if IsFunctionWord(t) {
		return Function
	}
	return Content
}

// StartsWord reports whether a token with this normalized text starts a new
// word: its text begins with whitespace (space, newline, tab, ...) or its
// first rune is punctuation or a symbol. The empty string does not.
func StartsWord(text string) bool {
	if text == "" {
		return false
	}
	r, size := utf8.DecodeRuneInString(text)
	if r == utf8.RuneError && size <= 1 {
		return false
	}
	return unicode.IsSpace(r) || isPunctRune(r)
}

// IsFunctionWord reports whether the word, trimmed of surrounding whitespace
// and lower-cased, is in the English function-word list (functionwords.go).
// The typographic apostrophe ’ counts as ', so "’s" and "don’t" match too.
func IsFunctionWord(word string) bool {
	w := strings.TrimSpace(word)
	if w == "" || len(w) > maxFunctionWordLen*4 {
		return false
	}
	if _, ok := functionWords[w]; ok {
		return true
	}
	w = strings.ToLower(strings.ReplaceAll(w, "’", "'"))
	_, ok := functionWords[w]
	return ok
}

func isPunctRune(r rune) bool {
	return unicode.IsPunct(r) || unicode.IsSymbol(r)
}

// isPunct: every rune is punctuation, a symbol or whitespace, and at least
// one is not whitespace (the caller has trimmed the ends).
func isPunct(t string) bool {
	for _, r := range t {
		if !isPunctRune(r) && !unicode.IsSpace(r) {
			return false
		}
	}
	return true
}

// isNumber: only Unicode numbers and the separators '.' and ',', with at
// least one number rune.
func isNumber(t string) bool {
	digits := false
	for _, r := range t {
		switch {
		case unicode.IsNumber(r):
			digits = true
		case r == '.' || r == ',':
		default:
			return false
		}
	}
	return digits
}
