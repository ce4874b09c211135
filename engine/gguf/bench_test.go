package gguf

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/baco-go/baco/internal/testdata"
)

func benchParse(b *testing.B, rel string) {
	data, err := os.ReadFile(testdata.Path(b, rel))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseVocabDeepseek parses a 102,400-token vocab with 99,757
// merges (4 MB of metadata).
func BenchmarkParseVocabDeepseek(b *testing.B) {
	benchParse(b, filepath.Join("tokenizer", "ggml-vocab-deepseek-llm.gguf"))
}

// BenchmarkParseVocabGPT2 parses the 50,257-token GPT-2 vocab.
func BenchmarkParseVocabGPT2(b *testing.B) {
	benchParse(b, filepath.Join("tokenizer", "ggml-vocab-gpt-2.gguf"))
}

// BenchmarkOpenStories260K maps and parses the tiny model.
func BenchmarkOpenStories260K(b *testing.B) {
	path := testdata.Path(b, "models/stories260K.gguf")
	b.ReportAllocs()
	for b.Loop() {
		f, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}

// BenchmarkWriteStories260K rewrites the tiny model through a Builder.
func BenchmarkWriteStories260K(b *testing.B) {
	f, err := Parse(readStories(b))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(storiesFileSize)
	b.ReportAllocs()
	for b.Loop() {
		bl, err := NewBuilderFrom(f)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := bl.WriteTo(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
