package hf_test

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/baco-go/baco/engine/gguf"
	"github.com/baco-go/baco/engine/hf"
	"github.com/baco-go/baco/engine/hf/hftest"
	"github.com/baco-go/baco/engine/modelgen"
)

// TestOpenRefusesBadDirectories breaks one file of a valid twin directory
// at a time and checks that Open fails with an error naming the problem
// (and never panics).
func TestOpenRefusesBadDirectories(t *testing.T) {
	shape := smallShape("llama")
	shape.Layers, shape.Vocab = 1, 300
	_, good := twinPair(t, modelgen.Options{Shape: shape, Type: gguf.TypeBF16, Seed: 9}, hftest.Options{})
	read := func(t *testing.T, dir, name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	write := func(t *testing.T, dir, name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	replace := func(name, old, new string) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			b := read(t, dir, name)
			if !strings.Contains(string(b), old) {
				t.Fatalf("%s does not contain %q", name, old)
			}
			write(t, dir, name, []byte(strings.Replace(string(b), old, new, 1)))
		}
	}
	for _, c := range []struct {
		name        string
		break_      func(t *testing.T, dir string)
		substr      string
		unsupported bool
	}{
		{"no config", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "config.json")) }, "config.json", false},
		{"gpt2 architecture", replace("config.json", `"LlamaForCausalLM"`, `"GPT2LMHeadModel"`), `architecture "GPT2LMHeadModel"`, true},
		{"zero layers", replace("config.json", `"num_hidden_layers": 1`, `"num_hidden_layers": 0`), "num_hidden_layers = 0", false},
		{"huge heads", replace("config.json", `"num_attention_heads": 4`, `"num_attention_heads": 99999999`), "num_attention_heads = 99999999", false},
		{"int weights", replace("model.safetensors", `"model.embed_tokens.weight":{"dtype":"BF16"`, `"model.embed_tokens.weight":{"dtype":"I16" `), "dtype I16", true},
		{"offsets past the end", func(t *testing.T, dir string) {
			b := read(t, dir, "model.safetensors")
			write(t, dir, "model.safetensors", b[:len(b)-10])
		}, "data_offsets", false},
		{"header length past the end", func(t *testing.T, dir string) {
			b := read(t, dir, "model.safetensors")
			binary.LittleEndian.PutUint64(b, 1<<40)
			write(t, dir, "model.safetensors", b)
		}, "header length", false},
		{"short file", func(t *testing.T, dir string) { write(t, dir, "model.safetensors", []byte{1, 2}) }, "too short", false},
		{"unknown tensor", replace("model.safetensors", `"model.layers.0.mlp.up_proj.weight"`, `"model.layers.0.mlp.xx_proj.weight"`), `"model.layers.0.mlp.xx_proj.weight" has no GGUF counterpart`, true},
		{"layer out of range", replace("model.safetensors", `"model.layers.0.mlp.up_proj.weight"`, `"model.layers.7.mlp.up_proj.weight"`), "layer 7, but config.json has 1 layers", false},
		{"pytorch weights only", func(t *testing.T, dir string) {
			os.Rename(filepath.Join(dir, "model.safetensors"), filepath.Join(dir, "pytorch_model.bin"))
		}, "only pytorch_model.bin", true},
		{"shard outside the directory", func(t *testing.T, dir string) {
			os.Rename(filepath.Join(dir, "model.safetensors"), filepath.Join(dir, "x.safetensors"))
			write(t, dir, "model.safetensors.index.json", []byte(`{"weight_map":{"model.norm.weight":"../x.safetensors"}}`))
		}, `shard "../x.safetensors" is not a file name inside the model directory`, false},
		{"tensor absent from its shard", func(t *testing.T, dir string) {
			os.Rename(filepath.Join(dir, "model.safetensors"), filepath.Join(dir, "x.safetensors"))
			write(t, dir, "model.safetensors.index.json", []byte(`{"weight_map":{"model.nope.weight":"x.safetensors"}}`))
		}, `tensor "model.nope.weight" is listed in x.safetensors but absent from it`, false},
		{"no tokenizer", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "tokenizer.json")) }, "no tokenizer.json", false},
		{"sentencepiece model only", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "tokenizer.json"))
			write(t, dir, "tokenizer.model", []byte{0})
		}, "only a SentencePiece tokenizer.model", true},
		{"tokenizer not json", func(t *testing.T, dir string) { write(t, dir, "tokenizer.json", []byte("{")) }, "tokenizer.json", false},
		{"unsupported rope scaling", replace("config.json", `"rope_scaling": null`, `"rope_scaling": {"type": "dynamic", "factor": 2}`), `rope_scaling type "dynamic"`, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, n := range []string{"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"} {
				write(t, dir, n, read(t, good, n))
			}
			c.break_(t, dir)
			m, err := hf.Open(dir)
			if err == nil {
				m.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), c.substr) {
				t.Fatalf("error %q does not contain %q", err, c.substr)
			}
			if c.unsupported != errors.Is(err, hf.ErrUnsupported) {
				t.Errorf("errors.Is(%v, ErrUnsupported) = %v, want %v", err, !c.unsupported, c.unsupported)
			}
		})
	}
}
