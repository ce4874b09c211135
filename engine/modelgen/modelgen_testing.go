package modelgen

import (
	"path/filepath"
	"testing"
)

// WriteTemp writes the model o describes into a temporary folder of tb
// (removed when the test ends) and returns its path. It fails the test on
// error.
func WriteTemp(tb testing.TB, o Options) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "model.gguf")
	if err := Write(path, o); err != nil {
		tb.Fatalf("modelgen: %v", err)
	}
	return path
}
