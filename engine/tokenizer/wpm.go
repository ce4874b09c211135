package tokenizer

// wpm is llama.cpp's llm_tokenizer_wpm_session::tokenize for one raw-text
// fragment: normalize and split into words, then cover "▁"+word greedily
// with the longest pieces; a word that cannot be covered becomes UNK.
func (t *Tokenizer) wpm(text string, out []int32) []int32 {
	for _, word := range wpmWords(text) {
		w := "▁" + word
		n := len(w)
		mark := len(out)
		for i := 0; i < n; i++ {
			match := false
			for j := min(n, i+t.maxTokenLen+1); j > i; j-- {
				if id, ok := t.toID[w[i:j]]; ok {
					out = append(out, id)
					match = true
					i = j - 1
					break
				}
			}
			if !match {
				out = out[:mark]
				break
			}
		}
		if len(out) == mark {
			out = append(out, t.unk)
		}
	}
	return out
}

// wpmWords is llama.cpp's WPM preprocess: one-code-point NFD, lower case,
// whitespace splits words, control characters, NUL and U+FFFD vanish,
// punctuation, ASCII symbols and CJK ideographs are words of their own.
func wpmWords(text string) []string {
	cpts := decodeCpts(text, nil)
	words := []string{""}
	var cur []byte
	flush := func() {
		words[len(words)-1] = string(cur)
		cur = cur[:0]
	}
	for _, c := range cpts {
		c = nfd(c)
		f := cptFlags(c)
		if f&flagWhitespace != 0 {
			if len(cur) > 0 {
				flush()
				words = append(words, "")
			}
			continue
		}
		if c == 0 || c == replacementChar || f&flagControl != 0 {
			continue
		}
		lc := toLower(c)
		if f&flagPunct != 0 || (c < 0x7F && f&flagSymbol != 0) || isChineseCpt(c) {
			if len(cur) > 0 {
				flush()
				words = append(words, "")
			}
			cur = appendCpt(cur, lc)
			flush()
			words = append(words, "")
			continue
		}
		cur = appendCpt(cur, lc)
	}
	flush()
	if words[len(words)-1] == "" {
		words = words[:len(words)-1]
	}
	return words
}

func isChineseCpt(c uint32) bool {
	return (c >= 0x04E00 && c <= 0x09FFF) ||
		(c >= 0x03400 && c <= 0x04DBF) ||
		(c >= 0x20000 && c <= 0x2A6DF) ||
		(c >= 0x2A700 && c <= 0x2B73F) ||
		(c >= 0x2B740 && c <= 0x2B81F) ||
		(c >= 0x2B920 && c <= 0x2CEAF) ||
		(c >= 0x0F900 && c <= 0x0FAFF) ||
		(c >= 0x2F800 && c <= 0x2FA1F)
}
