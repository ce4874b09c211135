package tokenizer

// symbol is one piece of the text being merged: bytes [start, start+n) and
// its neighbours in the linked list (-1: none). n == 0 marks a symbol merged
// into its left neighbour.
type symbol struct {
	start, n   int
	prev, next int
}

// splitSymbols cuts s into one symbol per UTF-8 character, with llama.cpp's
// lead-byte lengths clipped at the end of s.
func splitSymbols(s string, syms []symbol) []symbol {
	for off := 0; off < len(s); {
		n := min(utf8Len(s[off]), len(s)-off)
		next := len(syms) + 1
		if off+n == len(s) {
			next = -1
		}
		syms = append(syms, symbol{start: off, n: n, prev: len(syms) - 1, next: next})
		off += n
	}
	return syms
}

// spmBigram is a candidate merge of symbols left and right.
type spmBigram struct {
	left, right int
	score       float32
	size        int
}

// spmBefore orders the SPM queue: higher score first, then leftmost.
func spmBefore(a, b spmBigram) bool {
	return a.score > b.score || (a.score == b.score && a.left < b.left)
}

// heap is a binary heap ordered by before (before(a, b): a pops first).
type heap[T any] struct {
	items  []T
	before func(a, b T) bool
}

func (h *heap[T]) push(x T) {
	h.items = append(h.items, x)
	i := len(h.items) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !h.before(h.items[i], h.items[p]) {
			break
		}
		h.items[i], h.items[p] = h.items[p], h.items[i]
		i = p
	}
}

func (h *heap[T]) pop() T {
	top := h.items[0]
	last := len(h.items) - 1
	h.items[0] = h.items[last]
	h.items = h.items[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < last && h.before(h.items[l], h.items[m]) {
			m = l
		}
		if r < last && h.before(h.items[r], h.items[m]) {
			m = r
		}
		if m == i {
			break
		}
		h.items[i], h.items[m] = h.items[m], h.items[i]
		i = m
	}
	return top
}

// spm is llama.cpp's llm_tokenizer_spm_session::tokenize on text whose
// spaces are already "▁": repeatedly merge the adjacent pair that forms the
// vocabulary piece with the highest score (leftmost on ties), then emit each
// symbol's id, or its bytes as byte tokens when it is not a piece.
func (t *Tokenizer) spm(text string, out []int32) []int32 {
	syms := splitSymbols(text, nil)
	q := heap[spmBigram]{before: spmBefore}
	tryAdd := func(left, right int) {
		if left < 0 || right < 0 {
			return
		}
		s := text[syms[left].start : syms[left].start+syms[left].n+syms[right].n]
		id, ok := t.toID[s]
		if !ok {
			return
		}
		q.push(spmBigram{left: left, right: right, score: t.scores[id], size: len(s)})
	}
	for i := 1; i < len(syms); i++ {
		tryAdd(i-1, i)
	}
	for len(q.items) > 0 {
		b := q.pop()
		l, r := &syms[b.left], &syms[b.right]
		if l.n == 0 || r.n == 0 || l.n+r.n != b.size {
			continue
		}
		l.n += r.n
		r.n = 0
		l.next = r.next
		if r.next >= 0 {
			syms[r.next].prev = b.left
		}
		tryAdd(l.prev, b.left)
		tryAdd(b.left, l.next)
	}
	// llama.cpp's resegment also consults the pairs it merged, but every
	// merged symbol is a vocabulary piece, so only single characters can
	// miss the lookup and those go to byte fallback.
	for i := 0; i != -1 && len(syms) > 0; i = syms[i].next {
		s := text[syms[i].start : syms[i].start+syms[i].n]
		if id, ok := t.toID[s]; ok {
			out = append(out, id)
			continue
		}
		for j := 0; j < len(s); j++ {
			if id := t.byteTok[s[j]]; id >= 0 {
				out = append(out, id)
			} else if t.unk >= 0 {
				// llama.cpp throws here (no byte token); emit UNK instead.
				out = append(out, t.unk)
			}
		}
	}
	return out
}
