package tokenizer

// bpeKey orders the BPE queue as llama.cpp's llm_bigram_bpe comparator:
// lowest merge rank first, then leftmost.
func bpeKey(rank int32, left int) uint64 {
	return uint64(uint32(rank))<<32 | uint64(uint32(left))
}

// bpe is llama.cpp's llm_tokenizer_bpe_session::tokenize for one raw-text
// fragment: pre-tokenize into byte-level words, merge each word by rank,
// and emit the ids of the resulting symbols. A symbol that is not a piece
// is emitted as the pieces of its single bytes where those exist and
// dropped otherwise, as llama.cpp does.
func (t *Tokenizer) bpe(text string, out []int32) []int32 {
	var syms []symbol
	var q mergeQueue
	for _, word := range t.pre.split(text) {
		syms = syms[:0]
		q = q[:0]
		if t.ignoreMerge {
			if id, ok := t.toID[word]; ok {
				out = append(out, id)
				continue
			}
		}
		syms = splitSymbols(word, syms)
		add := func(left, right int) {
			if left < 0 || right < 0 {
				return
			}
			l, r := syms[left], syms[right]
			rank, ok := t.ranks[mergeKey{word[l.start : l.start+l.n], word[r.start : r.start+r.n]}]
			if !ok {
				return
			}
			q.push(qitem{key: bpeKey(rank, left), left: int32(left), right: int32(right), size: int32(l.n + r.n)})
		}
		for i := 1; i < len(syms); i++ {
			add(i-1, i)
		}
		for len(q) > 0 {
			b := q.pop()
			l, r := &syms[b.left], &syms[b.right]
			if l.n == 0 || r.n == 0 || l.n+r.n != int(b.size) {
				continue
			}
			l.n += r.n
			r.n = 0
			l.next = r.next
			if r.next >= 0 {
				syms[r.next].prev = int(b.left)
			}
			add(l.prev, int(b.left))
			add(int(b.left), l.next)
		}
		for _, s := range syms {
			if s.n == 0 {
				continue
			}
			piece := word[s.start : s.start+s.n]
			if id, ok := t.toID[piece]; ok {
				out = append(out, id)
				continue
			}
			for j := 0; j < len(piece); j++ {
				if id, ok := t.toID[piece[j:j+1]]; ok {
					out = append(out, id)
				}
			}
		}
	}
	return out
}
