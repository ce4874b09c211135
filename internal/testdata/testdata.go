// Package testdata locates the shared real test files (models, tokenizer
// vectors) that live outside the repository. Tests call Dir or Path and are
// skipped with a clear message where the files are absent.
package testdata

import (
	"os"
	"path/filepath"
	"testing"
)

// EnvVar names the environment variable that overrides the test data folder.
const EnvVar = "BACO_TESTDATA"

// Root returns the test data folder: $BACO_TESTDATA, or ../shared/testdata
// relative to the module root (the folder holding go.mod). It returns "" when
// neither can be found.
func Root() string {
	if d := os.Getenv(EnvVar); d != "" {
		return d
	}
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			// The example module under examples/ has its own go.mod; keep
			// walking while the candidate folder does not exist.
			cand := filepath.Join(dir, "..", "shared", "testdata")
			if _, err := os.Stat(cand); err == nil {
				return cand
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// Path returns the path of rel inside the test data folder, or skips the test
// with a message naming what is missing and how to provide it.
func Path(tb testing.TB, rel string) string {
	tb.Helper()
	root := Root()
	if root == "" {
		tb.Skipf("test data folder not found: set %s or place it at ../shared/testdata beside the repository", EnvVar)
	}
	p := filepath.Join(root, rel)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("test data %s absent (%v); set %s to the shared testdata folder", rel, err, EnvVar)
	}
	return p
}
