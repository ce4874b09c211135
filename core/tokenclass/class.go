// Package tokenclass assigns each vocabulary piece a class (punctuation,
// function word, content word, ...) and tells whether a piece starts a new
// word. Routers read these to decide which model emits the next token.
package tokenclass

// Class is the role of a token piece.
type Class uint8

// The classes of DESIGN §5.
const (
	// Content is any other alphabetic piece (the default).
	Content Class = iota
	// Function is a lower-cased word in the English function-word list.
	Function
	// Punct is a piece of only Unicode punctuation or symbols.
	Punct
	// Number is a piece of only digits (and number punctuation).
	Number
	// Space is a piece of only whitespace or newlines.
	Space
	// Special is a control token (BOS, EOS, chat markers, ...).
	Special
)

var classNames = [...]string{"content", "function", "punct", "number", "space", "special"}

// String returns the class name used in traces and expr rules.
func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return "unknown"
}
