package plots

import (
	"bytes"
	"encoding/xml"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
)

func plane() Plane {
	return Plane{
		Title: "distinct-2 vs loglik", XLabel: "distinct-2", YLabel: "loglik",
		Series: []Series{
			{Name: "p-punc", X: []float64{0.2, 0.4, 0.6}, Y: []float64{-1, -1.5, -2.5}, Labels: []string{"0.2", "0.4", "0.6"}},
			{Name: "aligned", X: []float64{0.1}, Y: []float64{-0.8}},
			{Name: "broken", X: []float64{math.NaN()}, Y: []float64{1}},
		},
		Frontier: [][2]float64{{0.1, -0.8}, {0.2, -1}, {0.4, -1.5}, {0.6, -2.5}},
	}
}

// checkSVG parses the document and checks its root element.
func checkSVG(t *testing.T, b []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	var root string
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	// Decode the whole document strictly.
	var v struct {
		XMLName xml.Name
	}
	if err := xml.Unmarshal(b, &v); err != nil {
		t.Fatalf("SVG does not parse: %v", err)
	}
	if root != "svg" || v.XMLName.Local != "svg" {
		t.Fatalf("root element %q, want svg", root)
	}
}

func TestEncode(t *testing.T) {
	b, err := Encode(plane(), "png")
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("PNG does not decode: %v", err)
	}
	if r := img.Bounds(); r.Dx() < 100 || r.Dy() < 100 {
		t.Fatalf("PNG is %v", r)
	}
	s, err := Encode(plane(), "svg")
	if err != nil {
		t.Fatal(err)
	}
	checkSVG(t, s)
	for _, want := range []string{"p-punc", "aligned", "Pareto frontier", "distinct-2"} {
		if !bytes.Contains(s, []byte(want)) {
			t.Errorf("SVG lacks %q", want)
		}
	}
}

func TestSaveAndDegenerate(t *testing.T) {
	base := filepath.Join(t.TempDir(), "plane")
	one := Plane{Title: "t", XLabel: "x", YLabel: "y", Series: []Series{{Name: "base", X: []float64{2}, Y: []float64{2}}}}
	svg, err := Save(one, base)
	if err != nil {
		t.Fatal(err)
	}
	checkSVG(t, svg)
	b, err := os.ReadFile(base + ".png")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	if _, err := Encode(Plane{Series: []Series{{Name: "x", X: []float64{math.Inf(1)}, Y: []float64{0}}}}, "png"); err == nil {
		t.Error("no finite point: no error")
	}
}
