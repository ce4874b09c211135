package tokenclass

// Table holds, for every id of a vocabulary, the normalized text, the class
// and the word-start flag, computed once when a model is loaded so that the
// decode loop only indexes slices.
type Table struct {
	// Text is the normalized text of each id (the raw piece for special ids).
	Text []string
	// Class is the class of each id.
	Class []Class
	// WordStart tells whether each id starts a new word.
	WordStart []bool
	// Style is the style the pieces were normalized with (never StyleAuto).
	Style Style
}

// Kind says how NewTableKinds treats one vocabulary piece.
type Kind uint8

const (
	// KindNormal is an ordinary piece, normalized with the table's style.
	KindNormal Kind = iota
	// KindSpecial is a control token (BOS, EOS, chat markers): class Special.
	KindSpecial
	// KindText is a piece stored as plain text whatever the vocabulary's
	// style, such as GGUF's USER_DEFINED tokens (token_type 4), which
	// llama.cpp copies verbatim instead of decoding bytes.
	KindText
)

// NewTable classifies a vocabulary. pieces are the raw vocabulary pieces in
// id order; special[i] marks id i as a control token (Class Special,
// WordStart true, Text the raw piece). special may be nil or shorter than
// pieces: missing entries count as false. StyleAuto is resolved once for the
// whole vocabulary with DetectStyle, which is more reliable than guessing
// piece by piece.
func NewTable(pieces []string, special []bool, style Style) *Table {
	kinds := make([]Kind, len(pieces))
	for i := range kinds {
		if i < len(special) && special[i] {
			kinds[i] = KindSpecial
		}
	}
	return NewTableKinds(pieces, kinds, style)
}

// NewTableKinds is NewTable with a Kind per piece, for vocabularies that
// also hold plain-text pieces (GGUF token_type: 3 control → KindSpecial,
// 4 user-defined → KindText, others → KindNormal). kinds may be nil or
// shorter than pieces: missing entries are KindNormal.
func NewTableKinds(pieces []string, kinds []Kind, style Style) *Table {
	if style == StyleAuto {
		style = DetectStyle(pieces)
	}
	t := &Table{
		Text:      make([]string, len(pieces)),
		Class:     make([]Class, len(pieces)),
		WordStart: make([]bool, len(pieces)),
		Style:     style,
	}
	for i, p := range pieces {
		k := KindNormal
		if i < len(kinds) {
			k = kinds[i]
		}
		if k == KindSpecial {
			t.Text[i] = p
			t.Class[i] = Special
			t.WordStart[i] = true
			continue
		}
		text := p
		if k != KindText {
			text = NormalizeStyle(p, style)
		}
		t.Text[i] = text
		t.Class[i] = Classify(text)
		t.WordStart[i] = StartsWord(text)
	}
	return t
}

// Len is the number of ids in the table.
func (t *Table) Len() int { return len(t.Text) }

// Lookup returns the text, class and word-start flag of id; ok is false for
// an id outside the table (text "", class Content, word start false).
func (t *Table) Lookup(id int32) (text string, class Class, wordStart bool, ok bool) {
	if id < 0 || int(id) >= len(t.Text) {
		return "", Content, false, false
	}
	return t.Text[id], t.Class[id], t.WordStart[id], true
}
