package tokenizer

import "testing"

// benchText is a 1 KB English paragraph.
const benchText = "The Industrial Revolution, which began in Britain in the late 18th century, transformed economies " +
	"that had been based on agriculture and handicrafts into economies based on large-scale industry, mechanized " +
	"manufacturing, and the factory system. New machines, new power sources, and new ways of organizing work made " +
	"existing industries more productive and efficient. Steam engines, first used to pump water out of mines, were " +
	"soon driving looms and spinning frames, and later locomotives and ships. Cities grew quickly as workers moved " +
	"from the countryside in search of wages, and the new factories drew on coal, iron and cotton from around the " +
	"world. Living conditions in the crowded towns were often poor, with long hours, child labour and little " +
	"sanitation, yet incomes slowly rose and goods that had been luxuries became cheap. By the middle of the 19th " +
	"century the changes had spread to Belgium, France, Germany and the United States, and they reshaped politics, " +
	"science and daily life for generations to come. Historians still debate why it started where it did, and when."

func benchEncode(b *testing.B, tok *Tokenizer) {
	b.SetBytes(int64(len(benchText)))
	b.ReportAllocs()
	for b.Loop() {
		tok.Encode(benchText, true, false)
	}
}

// BenchmarkEncodeSPM encodes the paragraph with the Llama 2 vocabulary.
func BenchmarkEncodeSPM(b *testing.B) {
	benchEncode(b, loadTokenizer(b, "tokenizer/ggml-vocab-llama-spm.gguf"))
}

// BenchmarkEncodeBPE encodes the paragraph with the GPT-2 vocabulary.
func BenchmarkEncodeBPE(b *testing.B) {
	benchEncode(b, loadTokenizer(b, "tokenizer/ggml-vocab-gpt-2.gguf"))
}

// BenchmarkEncodeBPEQwen2 encodes the paragraph with the GPT-2 vocabulary
// and the Qwen2 pre-tokenizer (the collapsed-text path).
func BenchmarkEncodeBPEQwen2(b *testing.B) {
	v := loadVocab(b, "tokenizer/ggml-vocab-gpt-2.gguf")
	v.Pre = "qwen2"
	tok, err := New(v)
	if err != nil {
		b.Fatal(err)
	}
	benchEncode(b, tok)
}

// BenchmarkDecodeBPE decodes the paragraph's GPT-2 ids.
func BenchmarkDecodeBPE(b *testing.B) {
	tok := loadTokenizer(b, "tokenizer/ggml-vocab-gpt-2.gguf")
	ids := tok.Encode(benchText, false, false)
	b.ReportAllocs()
	for b.Loop() {
		tok.Decode(ids)
	}
}

// BenchmarkNewSPM measures building the Llama 2 tokenizer from its vocab.
func BenchmarkNewSPM(b *testing.B) {
	v := loadVocab(b, "tokenizer/ggml-vocab-llama-spm.gguf")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(v); err != nil {
			b.Fatal(err)
		}
	}
}
