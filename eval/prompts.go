package eval

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Limits on a prompts file.
const (
	// MaxPromptsFile bounds the size of a prompts file.
	MaxPromptsFile = 256 << 20
	// MaxPrompts bounds the number of prompts.
	MaxPrompts = 100000
)

// Prompt is one prompt of an evaluation.
type Prompt struct {
	// ID identifies the prompt in generations.jsonl (default: its 1-based
	// position in the file).
	ID string `json:"id"`
	// Text is the user message.
	Text string `json:"prompt"`
	// System is an optional system message (chat prompts).
	System string `json:"system,omitempty"`
}

// PromptSet is a loaded prompts file.
type PromptSet struct {
	// Prompts in file order.
	Prompts []Prompt
	// Digest is the sha256 of the file, recorded in the run directory.
	Digest string
}

// LoadPrompts reads a prompts file: JSON Lines ({"id", "prompt", "system"}
// per line; .jsonl, .ndjson or .json) or CSV with a header naming the
// columns id, prompt and system (.csv; only prompt is required). Errors name
// the file, the line and the field; an empty file is an error.
func LoadPrompts(path string) (*PromptSet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: prompts: %w", ErrExperiment, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxPromptsFile+1))
	if err != nil {
		return nil, fmt.Errorf("%w: prompts file %s: %w", ErrExperiment, path, err)
	}
	if len(data) > MaxPromptsFile {
		return nil, fmt.Errorf("%w: prompts file %s: larger than %d bytes", ErrExperiment, path, MaxPromptsFile)
	}
	var ps []Prompt
	var lines []int
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		ps, lines, err = parseCSV(data)
	case ".jsonl", ".ndjson", ".json":
		ps, lines, err = parseJSONL(data)
	default:
		return nil, fmt.Errorf("%w: prompts file %s: unknown format; name it .jsonl (one {\"id\", \"prompt\", \"system\"} object per line) or .csv (header id,prompt,system)", ErrExperiment, path)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: prompts file %s: %w", ErrExperiment, path, err)
	}
	if len(ps) == 0 {
		return nil, fmt.Errorf("%w: prompts file %s: no prompts (each needs a non-empty \"prompt\" field)", ErrExperiment, path)
	}
	seen := map[string]int{}
	for i := range ps {
		if ps[i].ID == "" {
			ps[i].ID = strconv.Itoa(i + 1)
		}
		if strings.ContainsAny(ps[i].ID, "\x00\n") {
			return nil, fmt.Errorf("%w: prompts file %s line %d: field \"id\" holds a newline or NUL", ErrExperiment, path, lines[i])
		}
		if j, dup := seen[ps[i].ID]; dup {
			return nil, fmt.Errorf("%w: prompts file %s line %d: field \"id\" %q repeats the id of line %d", ErrExperiment, path, lines[i], ps[i].ID, lines[j])
		}
		seen[ps[i].ID] = i
	}
	sum := sha256.Sum256(data)
	return &PromptSet{Prompts: ps, Digest: hex.EncodeToString(sum[:])}, nil
}

func parseJSONL(data []byte) ([]Prompt, []int, error) {
	var ps []Prompt
	var lines []int
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), MaxPromptsFile)
	n := 0
	for sc.Scan() {
		n++
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil {
			return nil, nil, fmt.Errorf("line %d: not a JSON object: %w", n, err)
		}
		var p Prompt
		for k, v := range obj {
			var dst *string
			switch k {
			case "id":
				dst = &p.ID
			case "prompt":
				dst = &p.Text
			case "system":
				dst = &p.System
			default:
				return nil, nil, fmt.Errorf("line %d: unknown field %q; valid fields: id, prompt, system", n, k)
			}
			if err := json.Unmarshal(v, dst); err != nil {
				// A numeric id is accepted and kept as written.
				if k == "id" {
					var num json.Number
					if json.Unmarshal(v, &num) == nil {
						p.ID = num.String()
						continue
					}
				}
				return nil, nil, fmt.Errorf("line %d: field %q: want a string", n, k)
			}
		}
		if strings.TrimSpace(p.Text) == "" {
			return nil, nil, fmt.Errorf("line %d: field \"prompt\" is missing or empty", n)
		}
		if len(ps) >= MaxPrompts {
			return nil, nil, fmt.Errorf("line %d: more than %d prompts", n, MaxPrompts)
		}
		ps = append(ps, p)
		lines = append(lines, n)
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("line %d: %w", n+1, err)
	}
	return ps, lines, nil
}

func parseCSV(data []byte) ([]Prompt, []int, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		switch h {
		case "id", "prompt", "system":
			if _, dup := col[h]; dup {
				return nil, nil, fmt.Errorf("header: column %q appears twice", h)
			}
			col[h] = i
		default:
			return nil, nil, fmt.Errorf("header: unknown column %q; valid columns: id, prompt, system", h)
		}
	}
	if _, ok := col["prompt"]; !ok {
		return nil, nil, fmt.Errorf("header: no \"prompt\" column (header is %q)", strings.Join(header, ","))
	}
	get := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return rec[i]
		}
		return ""
	}
	var ps []Prompt
	var lines []int
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			return nil, nil, err
		}
		if len(rec) > len(header) {
			return nil, nil, fmt.Errorf("line %d: %d fields, the header has %d", line, len(rec), len(header))
		}
		p := Prompt{ID: strings.TrimSpace(get(rec, "id")), Text: get(rec, "prompt"), System: get(rec, "system")}
		if strings.TrimSpace(p.Text) == "" {
			return nil, nil, fmt.Errorf("line %d: field \"prompt\" is empty", line)
		}
		if len(ps) >= MaxPrompts {
			return nil, nil, fmt.Errorf("line %d: more than %d prompts", line, MaxPrompts)
		}
		ps = append(ps, p)
		lines = append(lines, line)
	}
	return ps, lines, nil
}
