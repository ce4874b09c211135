package server

import (
	"reflect"
	"testing"

	"github.com/baco-go/baco/core/decode"
)

// TestEmitter drives the streaming hold-back by hand: each step adds one
// token and releases what can no longer change; the last step releases
// the rest against the decoder's final text. Expected releases are worked
// out by hand from the rules: hold back a suffix that may start a stop
// string, anything from a completed stop string on, and an unfinished
// UTF-8 sequence.
func TestEmitter(t *testing.T) {
	cases := []struct {
		name   string
		stops  []string
		tokens []string
		final  string   // the decoder's text
		want   []string // text released after each token, then at the end
		pieces []string // texts of every released piece, in order
	}{
		{"no stops", nil, []string{",", " there", " was"}, ", there was",
			[]string{",", " there", " was", ""}, []string{",", " there", " was"}},
		{"stop across tokens", []string{" Lily"}, []string{" named", " L", "ily"}, " named",
			[]string{" named", "", "", ""}, []string{" named"}},
		{"stop inside a token", []string{"ir"}, []string{" g", "irl"}, " g",
			[]string{" g", "", ""}, []string{" g"}},
		{"stop cuts the last token", []string{"rl"}, []string{" g", "irl"}, " gi",
			[]string{" g", "", "i"}, []string{" g", "i"}},
		{"prefix that comes to nothing", []string{" Lily"}, []string{" L", "ucy", "."}, " Lucy.",
			[]string{"", " Lucy", ".", ""}, []string{" L", "ucy", "."}},
		{"split UTF-8", nil, []string{"\xc3", "\xa1", "b"}, "áb",
			[]string{"", "á", "b", ""}, []string{"\xc3", "\xa1", "b"}},
		{"two stops, earliest wins", []string{"c d", "b"}, []string{"a", " b", " c"}, "a ",
			[]string{"a", "", "", " "}, []string{"a", " "}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := &emitter{stops: c.stops}
			var got, pieces []string
			collect := func(d delta) {
				got = append(got, d.text)
				for _, p := range d.pieces {
					pieces = append(pieces, p.src.Text)
				}
			}
			for i, tok := range c.tokens {
				e.add(&tokenMsg{ev: decode.Event{Pos: i, ID: int32(i), Text: tok}})
				collect(e.release(false, ""))
			}
			collect(e.release(true, c.final))
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("released %q, want %q", got, c.want)
			}
			if !reflect.DeepEqual(pieces, c.pieces) {
				t.Errorf("pieces %q, want %q", pieces, c.pieces)
			}
		})
	}
}

func TestHoldback(t *testing.T) {
	cases := []struct {
		s     string
		stops []string
		want  int
	}{
		{"hello wor", []string{"world"}, 3},
		{"hello", []string{"world"}, 0},
		{"ab", []string{"b", "abc"}, 2},
		{"abc", []string{"abc"}, 0}, // complete: not a proper prefix
		{"x", nil, 0},
		{"", []string{"a"}, 0},
	}
	for _, c := range cases {
		if got := holdback(c.s, c.stops); got != c.want {
			t.Errorf("holdback(%q, %q) = %d, want %d", c.s, c.stops, got, c.want)
		}
	}
}
