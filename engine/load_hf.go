package engine

import (
	"fmt"
	"log/slog"
	"os"
	"runtime"

	"github.com/baco-go/baco/engine/hf"
)

// LoadHF opens a Hugging Face model directory (config.json, safetensors
// weights, tokenizer.json; see package hf for what is supported) and
// builds its tokenizer and model exactly as Load does for the GGUF file
// llama.cpp's converter would make from it. The weights stay memory-mapped
// in their stored type (F32, F16 or BF16) until Close.
func LoadHF(dir string, opts ...Option) (*Engine, error) {
	o := options{threads: runtime.NumCPU(), logger: slog.Default()}
	for _, opt := range opts {
		opt(&o)
	}
	if o.threads < 1 {
		return nil, fmt.Errorf("engine: load %s: %d threads, want at least 1", dir, o.threads)
	}
	if o.contextLen < 0 {
		return nil, fmt.Errorf("engine: load %s: context length %d, want positive", dir, o.contextLen)
	}
	m, err := hf.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("engine: load %s: %w", dir, err)
	}
	e, err := newEngine(m.File(), dir, o)
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("engine: load %s: %w", dir, err)
	}
	e.release = m.Close
	return e, nil
}

// LoadPath loads path with Load when it is a file (GGUF) and with LoadHF
// when it is a directory (a Hugging Face model).
func LoadPath(path string, opts ...Option) (*Engine, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("engine: load %s: %w", path, err)
	}
	if st.IsDir() {
		return LoadHF(path, opts...)
	}
	return Load(path, opts...)
}
