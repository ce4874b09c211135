package report

import (
	"bytes"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// walk collects the elements of a parsed document by tag.
func walk(n *html.Node, out map[string][]*html.Node) {
	if n.Type == html.ElementNode {
		out[n.Data] = append(out[n.Data], n)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, out)
	}
}

func text(n *html.Node) string {
	var b strings.Builder
	var f func(*html.Node)
	f = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			f(c)
		}
	}
	f(n)
	return b.String()
}

func TestRender(t *testing.T) {
	svg := []byte(`<?xml version="1.0"?>` + "\n" + `<!DOCTYPE svg><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><circle cx="5" cy="5" r="4"/></svg>`)
	d := &Data{
		Title: "eval run", Generated: "now",
		Setup:          [][2]string{{"base", "b.gguf"}},
		SummaryColumns: []string{"method", "coverage"}, Summary: [][]string{{"p-punc", "0.44"}},
		Planes: []Plane{{ID: "distinct-2__loglik", Title: "distinct-2 × loglik", SVG: InlineSVG(svg),
			Columns: []string{"method", "coverage", "dominance"}, Rows: [][]string{{"p-punc", "0.44", "0.75"}}}},
		PointColumns: []string{"point", "distinct-2"}, Points: [][]string{{"p-punc@0.5", "0.8"}},
		Samples: []Sample{{Point: "p-punc@0.5", Prompt: "Tell <me>", Text: "a <script>alert(1)</script> & b"}},
		Notes:   []string{"judge not configured"},
	}
	var b bytes.Buffer
	if err := Render(&b, d); err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	els := map[string][]*html.Node{}
	walk(doc, els)
	if len(els["svg"]) != 1 || len(els["circle"]) != 1 {
		t.Errorf("inline svg: %d svg, %d circle elements", len(els["svg"]), len(els["circle"]))
	}
	if len(els["script"]) != 0 {
		t.Error("sample text was not escaped: a script element exists")
	}
	if len(els["table"]) != 4 {
		t.Errorf("%d tables, want 4 (setup, summary, plane, points)", len(els["table"]))
	}
	if got := text(els["title"][0]); got != "eval run" {
		t.Errorf("title %q", got)
	}
	if !strings.Contains(b.String(), "a &lt;script&gt;alert(1)&lt;/script&gt; &amp; b") {
		t.Error("escaped sample text missing")
	}
	for _, link := range []string{"http://", "https://"} {
		if strings.Contains(strings.ReplaceAll(b.String(), `xmlns="http://www.w3.org/2000/svg"`, ""), link) {
			t.Errorf("report refers to %s: not self-contained", link)
		}
	}
}
