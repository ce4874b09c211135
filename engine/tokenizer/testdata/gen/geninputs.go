//go:build ignore

// geninputs writes the stress test strings (llama.cpp .inp format) that
// refdump feeds to llama.cpp: fixed realistic texts plus pseudo-random mixes
// of code points chosen to exercise every branch of the pre-tokenizers
// (categories, whitespace kinds, contractions, digits, CJK, marks, emoji,
// special-token texts, invalid UTF-8).
//
//	go run geninputs.go > stress.inp
package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
)

var fixed = []string{
	"Once upon a time",
	"Once upon a time, there was a little girl named Lily.",
	"The quick brown fox jumps over the lazy dog. It's 2024; we've won 1,234,567 prizes!",
	"Hello world\n\nThis is a test.\r\n\tIndented\v\fline",
	"func main() {\n\tfmt.Println(\"héllo, 世界\")\n\treturn 0x1F + 42_000 // done\n}\n",
	"I'll say they're sure it'S 'LL do: don't won't can't shouldn't 'tis",
	"   leading and trailing spaces   ",
	"multiple\n\n\n   \n  newlines \n\t \r\n",
	"数字１２３ and ٣٤٥ and ²³ and ½ and Ⅻ",
	"Ελληνικά кириллица עברית العربية हिन्दी। ไทย 한국어 日本語のテキスト",
	"emoji 🦙🦙 😀👍🏽 👨‍👩‍👧 flags 🇫🇷",
	"<s>Hello</s> <unk> [CLS] x [SEP] [MASK] <|endoftext|> <|im_start|>user\nhi<|im_end|>",
	"<s> <s>  </s>\n<|endoftext|><|endoftext|>text<|endoftext|>",
	"math: a+b=c, x^2 < y|z > w ~ v `code` $100 €5 ©2024 ±0.5",
	"tabs\t\t\tand\u00a0nbsp\u3000ideographic\u2028line\u0085nel\u001cfs",
	"combining é (e\u0301) ñ (n\u0303) Å",
	"ǅungla ſtreet \u212a Kelvin İstanbul \u2126Ohm \u1f7d \u1fd3 ﬁ ligature",
	"invalid \xff bytes \xc3 here \xe2\x96 and \xed\xa0\x80 surrogate \x80",
	"\x00nul and control \x01\x02\x7f chars",
	"'s's's 're've'm'll'd 'S'T'RE'VE'M'LL'D",
	"1234567890 12 123 1234 12345 3.14159 1e10 -7",
	"    def f(x):\n        return x  # comment\n\n",
	"¡Hola! ¿Qué tal? «quotes» “curly” ‘single’ — dash – en … ellipsis",
	"The Industrial Revolution, which began in Britain in the late 18th century, transformed economies that had been based on agriculture and handicrafts into economies based on large-scale industry, mechanized manufacturing, and the factory system. New machines, new power sources, and new ways of organizing work made existing industries more productive and efficient.",
}

var pool = []string{
	"a", "b", "z", "A", "Q", "Z", "e", "s", "t", "m", "d", "r", "v", "l", "S", "T", "M", "D", "R", "E", "V", "L",
	"0", "1", "5", "9", "٣", "²", "½", "Ⅻ", "１",
	" ", " ", " ", "  ", "\t", "\n", "\r", "\r\n", "\v", "\f", "\u00a0", "\u3000", "\u2028", "\u0085", "\u001c", "\u2003",
	"'", "'", "’", "\"", ".", ",", "!", "?", ";", ":", "-", "_", "(", ")", "[", "]", "{", "}", "/", "\\", "@", "#", "%", "&", "*",
	"$", "+", "<", "=", ">", "^", "`", "|", "~", "€", "©", "±", "…", "。", "，", "、", "।", "۔", "،", "¿", "«",
	"é", "ß", "ſ", "\u212a", "İ", "\u2126", "\u1f7d", "\u0390", "ǅ", "ﬁ", "\u0301", "\u0303", "ą", "ж", "λ", "א", "ع", "ह", "ก",
	"一", "中", "龥", "가", "힣", "あ", "カ", "ー", "🦙", "😀", "👍🏽", "\u200d", "\u00ad",
	"\u0378", "\ue000", "\U000E0001", "\x00", "\x01", "\x7f",
	"<s>", "</s>", "<unk>", "<|endoftext|>", "[CLS]", "[SEP]", "<|im_start|>", "<0x0A>",
	"the", "The", " the", "hello", "world", "Once", " upon", "ing", "'s", "'ll", "'RE", "don't",
}

var invalid = []string{"\xff", "\xc3", "\xe2\x96", "\xed\xa0\x80", "\x80", "\xf0\x9f", "\xc0\xaf", "\xfe"}

func main() {
	r := rand.New(rand.NewPCG(2025, 2))
	var b strings.Builder
	emit := func(s string) { b.WriteString(s); b.WriteString("\n__ggml_vocab_test__\n") }
	for _, s := range fixed {
		emit(s)
	}
	for i := 0; i < 160; i++ {
		n := 1 + r.IntN(24)
		var s strings.Builder
		for j := 0; j < n; j++ {
			if i%8 == 7 && r.IntN(6) == 0 {
				s.WriteString(invalid[r.IntN(len(invalid))])
				continue
			}
			s.WriteString(pool[r.IntN(len(pool))])
		}
		emit(s.String())
	}
	if _, err := os.Stdout.WriteString(b.String()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
