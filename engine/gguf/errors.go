package gguf

import (
	"errors"
	"fmt"
)

// ErrMalformed is wrapped by every error that reports a file that breaks the
// GGUF format: truncation, impossible counts or sizes, bad offsets,
// duplicates, unknown value types.
var ErrMalformed = errors.New("gguf: malformed file")

// ErrUnsupported is wrapped by errors for well-formed files this package
// does not read: GGUF v1, big-endian files, versions newer than 3 and tensor
// types without a known layout.
var ErrUnsupported = errors.New("gguf: unsupported file")

// FormatError describes a problem found while parsing a GGUF file. It
// unwraps to ErrMalformed or ErrUnsupported.
type FormatError struct {
	// Field names what was being read, e.g. `kv[3] "tokenizer.ggml.tokens"`.
	Field string
	// Offset is the byte offset in the file where the problem was found.
	Offset int64
	// Msg says what is wrong.
	Msg string
	// Err is ErrMalformed or ErrUnsupported.
	Err error
}

// Error formats the error as `gguf: <field>: <msg> (at byte <offset>)`.
func (e *FormatError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("gguf: %s (at byte %d)", e.Msg, e.Offset)
	}
	return fmt.Sprintf("gguf: %s: %s (at byte %d)", e.Field, e.Msg, e.Offset)
}

// Unwrap returns the sentinel (ErrMalformed or ErrUnsupported).
func (e *FormatError) Unwrap() error { return e.Err }
