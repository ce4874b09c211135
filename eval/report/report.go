// Package report renders the self-contained HTML report of an eval run:
// the setup, a summary of every method's coverage and dominance, one
// section per diversity–quality plane with its plot inlined as SVG, the
// table of every point's measures and a few samples. It loads nothing from
// the network: styles are inline and plots are embedded.
package report

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
)

// Data is what the report shows.
type Data struct {
	// Title heads the page.
	Title string
	// Generated is when the report was written.
	Generated string
	// Setup lists key/value facts of the run (models, prompts, samples…).
	Setup [][2]string
	// Summary is one row per method (its cells already formatted) under
	// SummaryColumns.
	SummaryColumns []string
	Summary        [][]string
	// Planes are the plane sections.
	Planes []Plane
	// PointColumns and Points are the table of every point's measures.
	PointColumns []string
	Points       [][]string
	// Samples are example outputs.
	Samples []Sample
	// Notes are remarks shown at the end (skipped measures, warnings).
	Notes []string
}

// Plane is one plane's section.
type Plane struct {
	// ID is the section anchor and the plot's file name.
	ID string
	// Title names the plane ("distinct-2 × loglik").
	Title string
	// SVG is the plot (see InlineSVG).
	SVG template.HTML
	// Columns and Rows are the method table.
	Columns []string
	Rows    [][]string
}

// Sample is one example output.
type Sample struct {
	// Point is "method@γ".
	Point string
	// Prompt is the prompt's text.
	Prompt string
	// Text is the generated text.
	Text string
}

// InlineSVG prepares an SVG document for inlining in HTML: everything
// before the <svg element (the XML declaration, a doctype) is dropped.
// The SVG must come from a trusted renderer (eval/plots): it is not escaped.
func InlineSVG(svg []byte) template.HTML {
	if i := bytes.Index(svg, []byte("<svg")); i > 0 {
		svg = svg[i:]
	}
	return template.HTML(svg)
}

var page = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 72em; color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f3f3f3; }
.plot svg { max-width: 100%; height: auto; }
.sample { white-space: pre-wrap; background: #f8f8f8; border-left: 3px solid #999; padding: 0.4em 0.8em; margin: 0.3em 0 1em; }
nav a { margin-right: 1em; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p>Generated {{.Generated}}.</p>
<h2 id="setup">Setup</h2>
<table>{{range .Setup}}<tr><th>{{index . 0}}</th><td>{{index . 1}}</td></tr>{{end}}</table>
<h2 id="summary">Summary</h2>
<p>Coverage is the area a method's points dominate in the normalised plane (0–1); dominance is its share of the global Pareto frontier. Means over planes.</p>
<table><tr>{{range .SummaryColumns}}<th>{{.}}</th>{{end}}</tr>
{{range .Summary}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>
{{if .Planes}}<nav>{{range .Planes}}<a href="#{{.ID}}">{{.Title}}</a> {{end}}</nav>{{end}}
{{range .Planes}}<h2 id="{{.ID}}">{{.Title}}</h2>
<div class="plot">{{.SVG}}</div>
<table><tr>{{range .Columns}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>
{{end}}
<h2 id="points">Measures per point</h2>
<table><tr>{{range .PointColumns}}<th>{{.}}</th>{{end}}</tr>
{{range .Points}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>
{{if .Samples}}<h2 id="samples">Samples</h2>
{{range .Samples}}<h3>{{.Point}}</h3><p><em>{{.Prompt}}</em></p><div class="sample">{{.Text}}</div>
{{end}}{{end}}
{{if .Notes}}<h2 id="notes">Notes</h2><ul>{{range .Notes}}<li>{{.}}</li>{{end}}</ul>{{end}}
</body>
</html>
`))

// Render writes the report.
func Render(w io.Writer, d *Data) error {
	if err := page.Execute(w, d); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}
