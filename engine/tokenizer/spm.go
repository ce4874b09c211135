package tokenizer

import "math"

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

// qitem is a candidate merge of symbols left and right (size: their
// total length in bytes) in a merge queue ordered by key.
type qitem struct {
	key         uint64
	left, right int32
	size        int32
}

// mergeQueue is a binary min-heap of candidate merges by key.
type mergeQueue []qitem

func (h *mergeQueue) push(x qitem) {
	q := append(*h, x)
	for i := len(q) - 1; i > 0; {
		p := (i - 1) / 2
		if q[i].key >= q[p].key {
			break
		}
		q[i], q[p] = q[p], q[i]
		i = p
	}
	*h = q
}

func (h *mergeQueue) pop() qitem {
	q := *h
	top := q[0]
	last := len(q) - 1
	q[0] = q[last]
	q = q[:last]
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < last && q[l].key < q[m].key {
			m = l
		}
		if r := l + 1; r < last && q[r].key < q[m].key {
			m = r
		}
		if m == i {
			break
		}
		q[i], q[m] = q[m], q[i]
		i = m
	}
	*h = q
	return top
}

// spmKey orders the SPM queue as llama.cpp's llm_bigram_spm comparator:
// higher score first, then leftmost. The score maps to an unsigned integer
// that sorts like -score (-0 taken as 0, as the float comparison does).
func spmKey(score float32, left int) uint64 {
	if score == 0 {
		score = 0
	}
	b := math.Float32bits(-score)
	if b&0x80000000 != 0 {
		b = ^b
	} else {
		b |= 0x80000000
	}
	return uint64(b)<<32 | uint64(uint32(left))
}

// spm is llama.cpp's llm_tokenizer_spm_session::tokenize on text whose
// spaces are already "▁": repeatedly merge the adjacent pair that forms the
// vocabulary piece with the highest score (leftmost on ties), then emit each
// symbol's id, or its bytes as byte tokens when it is not a piece.
func (t *Tokenizer) spm(text string, out []int32) []int32 {
	syms := splitSymbols(text, make([]symbol, 0, len(text)))
	q := make(mergeQueue, 0, len(syms))
	tryAdd := func(left, right int) {
		if left < 0 || right < 0 {
			return
		}
		s := text[syms[left].start : syms[left].start+syms[left].n+syms[right].n]
		id, ok := t.toID[s]
		if !ok {
			return
		}
		q.push(qitem{key: spmKey(t.scores[id], left), left: int32(left), right: int32(right), size: int32(len(s))})
	}
	for i := 1; i < len(syms); i++ {
		tryAdd(i-1, i)
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
		tryAdd(l.prev, int(b.left))
		tryAdd(int(b.left), l.next)
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
