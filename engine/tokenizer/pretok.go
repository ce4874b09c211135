package tokenizer

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// This file reproduces llama.cpp's unicode_regex_split: the text is cut into
// words by a list of regexes applied in turn, each one splitting every piece
// the previous ones left. llama.cpp runs two of the regexes (GPT-2's and
// Llama 3's) through hand-written scanners and the rest through std::regex,
// either on a "collapsed" text where every non-ASCII code point is replaced
// by one byte naming its category (when the regex uses \p{..}) or on the code
// points with non-ASCII whitespace replaced by \v. The steps below follow the
// same three routes, as hand-written linear scanners, so that the words are
// the ones llama.cpp produces and no input can make splitting quadratic.

// view selects what a step's character classes are tested against.
type view uint8

const (
	viewCollapsed view = iota // llama.cpp's collapsed bytes (regexes with \p{..})
	viewWide                  // code points, non-ASCII whitespace as 0x0B (other std::wregex regexes)
)

// Collapsed category bytes (llama.cpp k_ucat_cpt).
const (
	colOther  = 0xD0
	colNumber = 0xD1
	colLetter = 0xD2
	colPunct  = 0xD3
	colAccent = 0xD4
	colSymbol = 0xD5
)

// collapse maps one code point to its collapsed byte.
func collapse(c uint32) uint32 {
	if c < 128 {
		return c
	}
	f := cptFlags(c)
	if f&flagWhitespace != 0 {
		return 0x0B
	}
	switch f & flagCategories {
	case flagNumber:
		return colNumber
	case flagLetter:
		return colLetter
	case flagPunct:
		return colPunct
	case flagAccentMark:
		return colAccent
	case flagSymbol:
		return colSymbol
	}
	return colOther
}

// widen maps one code point to what std::wregex sees in llama.cpp.
func widen(c uint32) uint32 {
	if c > 0x7F && cptFlags(c)&flagWhitespace != 0 {
		return 0x0B
	}
	return c
}

// isSpaceC is \s as std::regex sees it in the C locale.
func isSpaceC(x uint32) bool { return x == ' ' || (x >= '\t' && x <= '\r') }

type cpRange struct{ lo, hi uint32 }

// charClass is one bracket expression or class escape of a regex.
type charClass struct {
	neg    bool
	space  bool // contains \s
	ranges []cpRange
}

func (c *charClass) has(x uint32) bool {
	in := c.space && isSpaceC(x)
	for _, r := range c.ranges {
		if in {
			break
		}
		in = r.lo <= x && x <= r.hi
	}
	return in != c.neg
}

// categoryRanges are the collapsed members of \p{X}: the category byte plus
// the ASCII code points llama.cpp lists for it (k_ucat_map).
var categoryRanges = map[byte][]cpRange{
	'N': {{colNumber, colNumber}, {'0', '9'}},
	'L': {{colLetter, colLetter}, {'A', 'Z'}, {'a', 'z'}},
	'P': {{colPunct, colPunct}, {0x21, 0x23}, {0x25, 0x2A}, {0x2C, 0x2F}, {0x3A, 0x3B}, {0x3F, 0x40}, {0x5B, 0x5D}, {0x5F, 0x5F}, {0x7B, 0x7B}, {0x7D, 0x7D}},
	'M': {{colAccent, colAccent}},
	'S': {{colSymbol, colSymbol}, {0x24, 0x24}, {0x2B, 0x2B}, {0x3C, 0x3E}, {0x5E, 0x5E}, {0x60, 0x60}, {0x7C, 0x7C}},
}

// regexParser reads the small regex subset of the "simple" pre-tokenizer
// regexes: a sequence of atoms (literal, escape, \p{X}, bracket class), each
// optionally followed by ?, + or *.
type regexParser struct {
	src string
	pos int
}

func (p *regexParser) errorf(format string, args ...any) error {
	return fmt.Errorf("tokenizer: regex %q at byte %d: %s", p.src, p.pos, fmt.Sprintf(format, args...))
}

func (p *regexParser) next() (rune, bool) {
	if p.pos >= len(p.src) {
		return 0, false
	}
	r, n := utf8.DecodeRuneInString(p.src[p.pos:])
	p.pos += n
	return r, true
}

// escape reads what follows a backslash: it adds a class (\s, \p{X}) to cc
// and returns ok=false, or returns a literal rune.
func (p *regexParser) escape(cc *charClass) (rune, bool, error) {
	r, ok := p.next()
	if !ok {
		return 0, false, p.errorf("trailing backslash")
	}
	switch r {
	case 's':
		cc.space = true
		return 0, false, nil
	case 'p':
		if p.pos+3 > len(p.src) || p.src[p.pos] != '{' || p.src[p.pos+2] != '}' {
			return 0, false, p.errorf("bad \\p escape")
		}
		rs, ok := categoryRanges[p.src[p.pos+1]]
		if !ok {
			return 0, false, p.errorf("unknown category \\p{%c}", p.src[p.pos+1])
		}
		cc.ranges = append(cc.ranges, rs...)
		p.pos += 3
		return 0, false, nil
	case 'r':
		return '\r', true, nil
	case 'n':
		return '\n', true, nil
	case 't':
		return '\t', true, nil
	}
	if r < 128 && !('a' <= r && r <= 'z') && !('A' <= r && r <= 'Z') && !('0' <= r && r <= '9') {
		return r, true, nil
	}
	return 0, false, p.errorf("unsupported escape \\%c", r)
}

// atom reads one atom and returns it as a class.
func (p *regexParser) atom() (charClass, error) {
	var cc charClass
	r, _ := p.next()
	switch r {
	case '\\':
		lit, isLit, err := p.escape(&cc)
		if err != nil {
			return cc, err
		}
		if isLit {
			cc.ranges = append(cc.ranges, cpRange{uint32(lit), uint32(lit)})
		}
		return cc, nil
	case '[':
		if strings.HasPrefix(p.src[p.pos:], "^") {
			cc.neg = true
			p.pos++
		}
		for {
			r, ok := p.next()
			if !ok {
				return cc, p.errorf("unterminated bracket")
			}
			if r == ']' {
				return cc, nil
			}
			lo := r
			if r == '\\' {
				lit, isLit, err := p.escape(&cc)
				if err != nil {
					return cc, err
				}
				if !isLit {
					continue
				}
				lo = lit
			}
			hi := lo
			if strings.HasPrefix(p.src[p.pos:], "-") && !strings.HasPrefix(p.src[p.pos:], "-]") {
				p.pos++
				h, _ := p.next()
				if h == '\\' {
					lit, isLit, err := p.escape(&cc)
					if err != nil || !isLit {
						return cc, p.errorf("bad range end")
					}
					h = lit
				}
				hi = h
			}
			cc.ranges = append(cc.ranges, cpRange{uint32(lo), uint32(hi)})
		}
	case '(', ')', '|', '?', '*', '+', '{', '}', '.', '$', '^':
		return cc, p.errorf("unsupported construct %q", r)
	}
	cc.ranges = append(cc.ranges, cpRange{uint32(r), uint32(r)})
	return cc, nil
}

type quant uint8

const (
	quantOne  quant = iota
	quantOpt        // ?
	quantPlus       // +
)

type atomQ struct {
	cls charClass
	q   quant
}

func parseSimple(expr string) ([]atomQ, error) {
	p := &regexParser{src: expr}
	var out []atomQ
	for p.pos < len(p.src) {
		cc, err := p.atom()
		if err != nil {
			return nil, err
		}
		q := quantOne
		switch {
		case strings.HasPrefix(p.src[p.pos:], "?"):
			q = quantOpt
			p.pos++
		case strings.HasPrefix(p.src[p.pos:], "+"):
			q = quantPlus
			p.pos++
		case strings.HasPrefix(p.src[p.pos:], "*"), strings.HasPrefix(p.src[p.pos:], "{"):
			return nil, p.errorf("unsupported quantifier")
		}
		out = append(out, atomQ{cc, q})
	}
	return out, nil
}

// The regexes llama.cpp runs through dedicated code (GPT-2, Llama 3) and the
// Qwen2 one, which std::regex runs but whose meaning is reproduced here.
const (
	reGPT2          = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)"
	reLlama3        = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
	reLlama3I       = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
	reQwen2         = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
	reTrailingSpace = "\\s+$"
)

// splitCtx holds one text being split: its code points and, when a step
// needs them, their collapsed and wide views.
type splitCtx struct {
	cpts      []uint32
	collapsed []uint32
	wide      []uint32
}

func (s *splitCtx) viewOf(v view) []uint32 {
	switch v {
	case viewCollapsed:
		if s.collapsed == nil {
			s.collapsed = make([]uint32, len(s.cpts))
			for i, c := range s.cpts {
				s.collapsed[i] = collapse(c)
			}
		}
		return s.collapsed
	default:
		if s.wide == nil {
			s.wide = make([]uint32, len(s.cpts))
			for i, c := range s.cpts {
				s.wide[i] = widen(c)
			}
		}
		return s.wide
	}
}

// step is one regex of a pre-tokenizer: it splits the code points
// [start, end) and appends the lengths of the pieces to out.
type step interface {
	split(s *splitCtx, start, end int, out []int) []int
}

// compileRegex turns one of llama.cpp's pre-tokenizer regexes into a step.
func compileRegex(expr string) (step, error) {
	switch expr {
	case reGPT2:
		return gpt2Step{}, nil
	case reLlama3, reLlama3I:
		return llama3Step{}, nil
	case reQwen2:
		return qwen2Step{}, nil
	}
	v := viewWide
	if strings.Contains(expr, "\\p{") {
		v = viewCollapsed
	}
	if expr == reTrailingSpace {
		return trailingSpaceStep{v: v}, nil
	}
	atoms, err := parseSimple(expr)
	if err != nil {
		return nil, err
	}
	switch {
	case len(atoms) == 1 && atoms[0].q != quantOpt:
		return runStep{v: v, cls: atoms[0].cls, plus: atoms[0].q == quantPlus}, nil
	case len(atoms) == 2 && atoms[0].q == quantOpt && atoms[1].q != quantOpt:
		pre := atoms[0].cls
		return runStep{v: v, prefix: &pre, cls: atoms[1].cls, plus: atoms[1].q == quantPlus}, nil
	case len(atoms) > 1:
		same := true
		for _, a := range atoms {
			same = same && a.q == quantOne && equalClass(a.cls, atoms[0].cls)
		}
		if same {
			return runStep{v: v, cls: atoms[0].cls, count: len(atoms)}, nil
		}
	}
	return nil, fmt.Errorf("tokenizer: pre-tokenizer regex %q has a shape this package does not implement", expr)
}

func equalClass(a, b charClass) bool {
	if a.neg != b.neg || a.space != b.space || len(a.ranges) != len(b.ranges) {
		return false
	}
	for i := range a.ranges {
		if a.ranges[i] != b.ranges[i] {
			return false
		}
	}
	return true
}

// searchSplit is how llama.cpp turns std::regex matches into pieces: each
// match is a piece, and so is each non-empty run of text between matches.
// match returns the length of the leftmost-first match at p, or 0.
func searchSplit(start, end int, out []int, match func(p int) int) []int {
	last := start
	for p := start; p < end; {
		n := match(p)
		if n == 0 {
			p++
			continue
		}
		if p > last {
			out = append(out, p-last)
		}
		out = append(out, n)
		p += n
		last = p
	}
	if last < end {
		out = append(out, end-last)
	}
	return out
}

// runStep is a regex of the shapes X, X+, P?X, P?X+ or XXX…X (count
// copies), where P and X are single characters classes.
type runStep struct {
	v      view
	prefix *charClass
	cls    charClass
	plus   bool
	count  int
}

func (r runStep) split(s *splitCtx, start, end int, out []int) []int {
	t := s.viewOf(r.v)
	return searchSplit(start, end, out, func(p int) int {
		if r.count > 1 {
			if p+r.count > end {
				return 0
			}
			for i := 0; i < r.count; i++ {
				if !r.cls.has(t[p+i]) {
					return 0
				}
			}
			return r.count
		}
		q := p
		if r.prefix != nil && r.prefix.has(t[p]) && p+1 < end && r.cls.has(t[p+1]) {
			q = p + 1
		} else if !r.cls.has(t[p]) {
			return 0
		}
		q++
		if r.plus {
			for q < end && r.cls.has(t[q]) {
				q++
			}
		}
		return q - p
	})
}

// trailingSpaceStep is \s+$: the run of whitespace that ends the piece.
type trailingSpaceStep struct{ v view }

func (r trailingSpaceStep) split(s *splitCtx, start, end int, out []int) []int {
	t := s.viewOf(r.v)
	q := end
	for q > start && isSpaceC(t[q-1]) {
		q--
	}
	if q > start {
		out = append(out, q-start)
	}
	if q < end {
		out = append(out, end-q)
	}
	return out
}

// gpt2Step is llama.cpp's unicode_regex_split_custom_gpt2:
// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
type gpt2Step struct{}

func (gpt2Step) split(s *splitCtx, start, end int, out []int) []int {
	cp := s.cpts
	flags := func(p int) uint16 {
		if p >= start && p < end {
			return cptFlags(cp[p])
		}
		return 0
	}
	prev := start
	add := func(e int) int {
		n := e - prev
		if n > 0 {
			out = append(out, n)
		}
		prev = e
		return n
	}
	for pos := start; pos < end; {
		c := cp[pos]
		f := flags(pos)
		if c == '\'' && pos+1 < end {
			n := cp[pos+1]
			if n == 's' || n == 't' || n == 'm' || n == 'd' {
				pos += add(pos + 2)
				continue
			}
			if pos+2 < end {
				nn := cp[pos+2]
				if (n == 'r' && nn == 'e') || (n == 'v' && nn == 'e') || (n == 'l' && nn == 'l') {
					pos += add(pos + 3)
					continue
				}
			}
		}
		f2 := f
		if c == ' ' {
			f2 = flags(pos + 1)
		}
		if f2&flagLetter != 0 {
			if c == ' ' {
				pos++
			}
			for f2&flagLetter != 0 {
				pos++
				f2 = flags(pos)
			}
			add(pos)
			continue
		}
		if f2&flagNumber != 0 {
			if c == ' ' {
				pos++
			}
			for f2&flagNumber != 0 {
				pos++
				f2 = flags(pos)
			}
			add(pos)
			continue
		}
		if f2&(flagWhitespace|flagLetter|flagNumber) == 0 && f2 != 0 {
			if c == ' ' {
				pos++
			}
			for f2&(flagWhitespace|flagLetter|flagNumber) == 0 && f2 != 0 {
				pos++
				f2 = flags(pos)
			}
			add(pos)
			continue
		}
		nws := 0
		for flags(pos+nws)&flagWhitespace != 0 {
			nws++
		}
		if nws > 1 && pos+nws < end {
			pos += nws - 1
			add(pos)
			continue
		}
		if nws > 0 {
			pos += nws
			add(pos)
			continue
		}
		pos++
		add(pos)
	}
	return out
}

// llama3Step is llama.cpp's unicode_regex_split_custom_llama3:
// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
type llama3Step struct{}

func (llama3Step) split(s *splitCtx, start, end int, out []int) []int {
	cp := s.cpts
	flags := func(p int) uint16 {
		if p >= start && p < end {
			return cptFlags(cp[p])
		}
		return 0
	}
	const outOfRange = 0xFFFFFFFF
	cpt := func(p int) uint32 {
		if p >= start && p < end {
			return cp[p]
		}
		return outOfRange
	}
	prev := start
	add := func(e int) int {
		n := e - prev
		if n > 0 {
			out = append(out, n)
		}
		prev = e
		return n
	}
	for pos := start; pos < end; {
		c := cp[pos]
		f := flags(pos)
		if c == '\'' && pos+1 < end {
			n := toLower(cp[pos+1])
			if n == 's' || n == 't' || n == 'm' || n == 'd' {
				pos += add(pos + 2)
				continue
			}
			if pos+2 < end {
				nn := toLower(cp[pos+2])
				if (n == 'r' && nn == 'e') || (n == 'v' && nn == 'e') || (n == 'l' && nn == 'l') {
					pos += add(pos + 3)
					continue
				}
			}
		}
		if !(c == '\r' || c == '\n' || f&flagNumber != 0) {
			if f&flagLetter != 0 || flags(pos+1)&flagLetter != 0 {
				pos++
				for flags(pos)&flagLetter != 0 {
					pos++
				}
				add(pos)
				continue
			}
		}
		if f&flagNumber != 0 {
			ini := pos
			for flags(pos)&flagNumber != 0 {
				pos++
				if pos-ini >= 3 {
					add(pos)
					ini = pos
				}
			}
			add(pos)
			continue
		}
		f2 := f
		if c == ' ' {
			f2 = flags(pos + 1)
		}
		if f2&(flagWhitespace|flagLetter|flagNumber) == 0 && f != 0 {
			if c == ' ' {
				pos++
			}
			for f2&(flagWhitespace|flagLetter|flagNumber) == 0 && f2 != 0 {
				pos++
				f2 = flags(pos)
			}
			for c2 := cpt(pos); c2 == '\r' || c2 == '\n'; c2 = cpt(pos) {
				pos++
			}
			add(pos)
			continue
		}
		nws, lastRN := 0, 0
		for flags(pos+nws)&flagWhitespace != 0 {
			if c2 := cpt(pos + nws); c2 == '\r' || c2 == '\n' {
				lastRN = pos + nws + 1
			}
			nws++
		}
		if lastRN > 0 {
			pos = lastRN
			add(pos)
			continue
		}
		if nws > 1 && pos+nws < end {
			pos += nws - 1
			add(pos)
			continue
		}
		if nws > 0 {
			pos += nws
			add(pos)
			continue
		}
		pos++
		add(pos)
	}
	return out
}

// qwen2Step reproduces what std::regex does in llama.cpp with the Qwen2
// regex on collapsed text:
// (?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
// Every alternative is resolved in leftmost-first order with the greedy
// choice backtracking would settle on.
type qwen2Step struct{}

func (qwen2Step) split(s *splitCtx, start, end int, out []int) []int {
	t := s.viewOf(viewCollapsed)
	isL := func(x uint32) bool { return x == colLetter || ('A' <= x && x <= 'Z') || ('a' <= x && x <= 'z') }
	isN := func(x uint32) bool { return x == colNumber || ('0' <= x && x <= '9') }
	isX := func(x uint32) bool { return !isSpaceC(x) && !isL(x) && !isN(x) }
	lower := func(x uint32) uint32 {
		if 'A' <= x && x <= 'Z' {
			return x + 'a' - 'A'
		}
		return x
	}
	return searchSplit(start, end, out, func(p int) int {
		x := t[p]
		if x == '\'' && p+1 < end {
			n := lower(t[p+1])
			if n == 's' || n == 't' || n == 'm' || n == 'd' {
				return 2
			}
			if p+2 < end {
				nn := lower(t[p+2])
				if (n == 'r' && nn == 'e') || (n == 'v' && nn == 'e') || (n == 'l' && nn == 'l') {
					return 3
				}
			}
		}
		if x != '\r' && x != '\n' && !isL(x) && !isN(x) && p+1 < end && isL(t[p+1]) {
			q := p + 2
			for q < end && isL(t[q]) {
				q++
			}
			return q - p
		}
		if isL(x) {
			q := p + 1
			for q < end && isL(t[q]) {
				q++
			}
			return q - p
		}
		if isN(x) {
			return 1
		}
		q := p
		if x == ' ' && p+1 < end && isX(t[p+1]) {
			q = p + 1
		}
		if isX(t[q]) {
			for q < end && isX(t[q]) {
				q++
			}
			for q < end && (t[q] == '\r' || t[q] == '\n') {
				q++
			}
			return q - p
		}
		q = p
		lastRN := -1
		for q < end && isSpaceC(t[q]) {
			if t[q] == '\r' || t[q] == '\n' {
				lastRN = q
			}
			q++
		}
		switch {
		case q == p:
			return 0
		case lastRN >= 0:
			return lastRN + 1 - p
		case q == end || q-p == 1:
			return q - p
		default:
			return q - 1 - p
		}
	})
}

// preTokenizer is the ordered list of steps of one pre-tokenizer type.
type preTokenizer struct {
	name  string
	steps []step
}

// preRegexes lists, for each llama.cpp pre-tokenizer type this package
// implements, the regexes of llm_tokenizer_bpe (src/llama-vocab.cpp,
// llama.cpp c392e50), verbatim.
var preRegexes = map[string][]string{
	"default": {
		"[\\p{P}\\$\\+<=>\\^~\\|]+",
		reGPT2,
		"\\p{N}+",
		"[0-9][0-9][0-9]",
	},
	"llama3": {reLlama3},
	"dbrx":   {reLlama3},
	"smaug":  {reLlama3},
	"deepseek-llm": {
		"[\r\n]",
		"\\s?[A-Za-z\u00b5\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u01ba\u01bc-\u01bf\u01c4-\u0293\u0295-\u02af\u0370-\u0373\u0376\u0377\u037b-\u037d\u037f\u0386\u0388-\u038a\u038c\u038e-\u03a1\u03a3-\u03f5\u03f7-\u0481\u048a-\u052f\u0531-\u0556\u10a0-\u10c5\u13a0-\u13f5\u13f8-\u13fd\u1c90-\u1cba\u1cbd-\u1cbf\u1d00-\u1d2b\u1d6b-\u1d77\u1d79-\u1d9a\u1e00-\u1f15\u1f18-\u1f1d\u1f20-\u1f45\u1f48-\u1f4d\u1f50-\u1f57\u1f59\u1f5b\u1f5d\u1f5f-\u1f7d\u1f80-\u1fb4\u1fb6-\u1fbc\u1fbe\u1fc2-\u1fc4\u1fc6-\u1fcc\u1fd0-\u1fd3\u1fd6-\u1fdb\u1fe0-\u1fec\u1ff2-\u1ff4\u1ff6-\u1ffc\u2102\u2107\u210a-\u2113\u2115\u2119-\u211d\u2124\u2126\u2128\u212a-\u212d\u212f-\u2134\u2139\u213c-\u213f\u2145-\u2149\u214e\u2183\u2184\u2c00-\u2c7b\u2c7e-\u2ce4\u2ceb-\u2cee\u2cf2\u2cf3\ua640-\ua66d\ua680-\ua69b\ua722-\ua76f\ua771-\ua787\ua78b-\ua78e\uab70-\uabbf\ufb00-\ufb06\ufb13-\ufb17\uff21-\uff3a\uff41-\uff5a\U00010400-\U0001044f\U000104b0-\U000104d3\U000104d8-\U000104fb\U00010c80-\U00010cb2\U00010cc0-\U00010cf2\U000118a0-\U000118df\U0001e900-\U0001e943]+",
		"\\s?[!-/:-~\uff01-\uff0f\uff1a-\uff5e\u2018-\u201f\u3000-\u3002]+",
		"\\s+$",
		"[\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff]+",
		"\\p{N}+",
	},
	"deepseek-coder": {
		"[\r\n]",
		"\\s?\\p{L}+",
		"\\s?\\p{P}+",
		"[\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff]+",
		"\\p{N}",
	},
	"falcon": {
		"[\\p{P}\\$\\+<=>\\^~\\|`]+",
		reGPT2,
		"[0-9][0-9][0-9]",
	},
	"starcoder": {"\\p{N}", reGPT2},
	"gpt2":      {reGPT2},
	"qwen2":     {reQwen2},
	"poro":      {" ?[^(\\s|.,!?\u2026\u3002\uff0c\u3001\u0964\u06d4\u060c)]+"},
	"chatglm4":  {reLlama3},
	"viking":    {" ?[^(\\s|.,!?\u2026\u3002\uff0c\u3001\u0964\u06d4\u060c)]+", "\\p{N}"},
}

// preInfo is what a tokenizer.ggml.pre value selects in llama.cpp.
type preInfo struct {
	regexes     string // key of preRegexes
	ignoreMerge bool   // whole-word lookup before merging (Llama 3)
	addBOS      bool   // add_bos default forced on
	cleanSpaces bool   // detokenizer clean-up passes
}

// preTypes maps tokenizer.ggml.pre values to llama.cpp's pre-tokenizer
// types (llama_vocab::impl::load). Types whose regexes need lookarounds
// that are not reproduced here (tekken, chameleon, deepseek-v3) are absent
// and refused.
var preTypes = map[string]preInfo{
	"default":          {regexes: "default", cleanSpaces: true},
	"llama3":           {regexes: "llama3", ignoreMerge: true, addBOS: true, cleanSpaces: true},
	"llama-v3":         {regexes: "llama3", ignoreMerge: true, addBOS: true, cleanSpaces: true},
	"llama-bpe":        {regexes: "llama3", ignoreMerge: true, addBOS: true, cleanSpaces: true},
	"falcon3":          {regexes: "llama3", ignoreMerge: true, addBOS: true, cleanSpaces: true},
	"deepseek-llm":     {regexes: "deepseek-llm"},
	"deepseek-coder":   {regexes: "deepseek-coder"},
	"falcon":           {regexes: "falcon", cleanSpaces: true},
	"mpt":              {regexes: "gpt2", cleanSpaces: true},
	"starcoder":        {regexes: "starcoder", cleanSpaces: true},
	"gpt-2":            {regexes: "gpt2", cleanSpaces: true},
	"phi-2":            {regexes: "gpt2", cleanSpaces: true},
	"jina-es":          {regexes: "gpt2", cleanSpaces: true},
	"jina-de":          {regexes: "gpt2", cleanSpaces: true},
	"gigachat":         {regexes: "gpt2", cleanSpaces: true},
	"jina-v1-en":       {regexes: "gpt2", cleanSpaces: true},
	"jina-v2-es":       {regexes: "gpt2", cleanSpaces: true},
	"jina-v2-de":       {regexes: "gpt2", cleanSpaces: true},
	"jina-v2-code":     {regexes: "gpt2", cleanSpaces: true},
	"roberta-bpe":      {regexes: "gpt2", cleanSpaces: true},
	"refact":           {regexes: "starcoder", cleanSpaces: true},
	"command-r":        {regexes: "starcoder"},
	"qwen2":            {regexes: "qwen2"},
	"deepseek-r1-qwen": {regexes: "qwen2"},
	"stablelm2":        {regexes: "qwen2", cleanSpaces: true},
	"olmo":             {regexes: "gpt2", cleanSpaces: true},
	"dbrx":             {regexes: "dbrx", cleanSpaces: true},
	"smaug-bpe":        {regexes: "smaug", cleanSpaces: true},
	"poro-chat":        {regexes: "poro"},
	"chatglm-bpe":      {regexes: "chatglm4", cleanSpaces: true},
	"viking":           {regexes: "viking"},
	"jais":             {regexes: "gpt2", cleanSpaces: true},
	"smollm":           {regexes: "starcoder"},
	"codeshell":        {regexes: "starcoder", cleanSpaces: true},
	"bloom":            {regexes: "poro", cleanSpaces: true},
	"gpt3-finnish":     {regexes: "poro", cleanSpaces: true},
	"exaone":           {regexes: "starcoder", cleanSpaces: true},
	"minerva-7b":       {regexes: "starcoder", cleanSpaces: true},
	"megrez":           {regexes: "qwen2", cleanSpaces: true},
}

// newPreTokenizer compiles the steps for one pre-tokenizer type.
func newPreTokenizer(name string) (*preTokenizer, error) {
	info, ok := preTypes[name]
	if !ok {
		return nil, fmt.Errorf("tokenizer: unsupported pre-tokenizer type %q (tokenizer.ggml.pre)", name)
	}
	pt := &preTokenizer{name: name}
	for _, re := range preRegexes[info.regexes] {
		st, err := compileRegex(re)
		if err != nil {
			return nil, fmt.Errorf("tokenizer: pre-tokenizer %q: %w", name, err)
		}
		pt.steps = append(pt.steps, st)
	}
	return pt, nil
}

// split cuts text into words and returns them byte-level encoded (every
// byte as its GPT-2 rune), as llama.cpp's unicode_regex_split does.
func (pt *preTokenizer) split(text string) []string {
	s := &splitCtx{cpts: decodeCpts(text, make([]uint32, 0, len(text)))}
	offsets := []int{len(s.cpts)}
	var next []int
	for _, st := range pt.steps {
		next = next[:0]
		start := 0
		for _, n := range offsets {
			next = st.split(s, start, start+n, next)
			start += n
		}
		offsets, next = next, offsets
	}
	words := make([]string, 0, len(offsets))
	var raw, enc []byte
	start := 0
	for _, n := range offsets {
		raw = raw[:0]
		for _, c := range s.cpts[start : start+n] {
			raw = appendCpt(raw, c)
		}
		start += n
		enc = enc[:0]
		for _, b := range raw {
			enc = utf8.AppendRune(enc, byteRunes[b])
		}
		words = append(words, string(enc))
	}
	return words
}
