package policy

import (
	"fmt"
	"io"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// MaxFileSize bounds the size of a policy file.
const MaxFileSize = 1 << 20

// LoadFile reads and compiles a YAML policy file:
//
//	# route punctuation to the aligned model, uncertain tokens to base
//	rule: |
//	  base.class == "punct" ? "aligned"
//	    : (base.p1 < vars.gamma ? "base" : "aligned")
//	vars:
//	  gamma: 0.5
//
// Errors name the file and the line:col in the file. Positions inside the
// rule are exact for a literal block (rule: |) and for a rule on one line
// (plain or quoted, escapes aside); for a folded (>) or multi-line plain rule
// the line is where the rule starts, with the position inside the rule in
// the message.
func LoadFile(path string) (*Policy, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("policy: read %s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, &Error{File: path, Msg: fmt.Sprintf("file larger than %d bytes", MaxFileSize)}
	}
	return LoadBytes(path, data)
}

// LoadBytes compiles a YAML policy document (see LoadFile); name is used in
// error messages in place of a file name.
func LoadBytes(name string, data []byte) (*Policy, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &Error{File: name, Msg: "invalid YAML: " + err.Error(), Err: err}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, &Error{File: name, Msg: "empty policy file; it needs a rule: field"}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, at(name, root, "a policy file must be a mapping with the fields rule and vars")
	}
	var ruleNode *yaml.Node
	vars := map[string]any{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "rule":
			if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
				return nil, at(name, v, "rule must be a string holding an expr expression")
			}
			ruleNode = v
		case "vars":
			if v.Kind != yaml.MappingNode {
				if v.Tag == "!!null" {
					continue
				}
				return nil, at(name, v, "vars must be a mapping of names to constants, e.g. gamma: 0.5")
			}
			for j := 0; j+1 < len(v.Content); j += 2 {
				vk, vv := v.Content[j], v.Content[j+1]
				if vv.Kind != yaml.ScalarNode || vv.Tag == "!!null" {
					return nil, at(name, vv, fmt.Sprintf("vars.%s must be a bool, string or number", vk.Value))
				}
				var x any
				if err := vv.Decode(&x); err != nil {
					return nil, at(name, vv, fmt.Sprintf("vars.%s: %v", vk.Value, err))
				}
				if _, dup := vars[vk.Value]; dup {
					return nil, at(name, vk, fmt.Sprintf("vars.%s defined twice", vk.Value))
				}
				vars[vk.Value] = x
			}
		default:
			return nil, at(name, k, fmt.Sprintf("unknown field %q%s; a policy file has the fields rule and vars", k.Value, suggest(k.Value, []string{"rule", "vars"})))
		}
	}
	if ruleNode == nil {
		return nil, &Error{File: name, Line: root.Line, Column: root.Column, Msg: "no rule: field"}
	}
	if _, err := cleanVars(vars); err != nil {
		return nil, &Error{File: name, Msg: err.Error()}
	}
	return compile(ruleNode.Value, vars, ruleLocator(name, data, ruleNode))
}

// at builds an *Error at a YAML node.
func at(name string, n *yaml.Node, msg string) error {
	return &Error{File: name, Line: n.Line, Column: n.Column, Msg: msg}
}

// ruleLocator maps a line:col inside the rule to a line:col in the file.
func ruleLocator(name string, data []byte, n *yaml.Node) locator {
	lines := strings.Split(string(data), "\n")
	switch {
	case n.Style&yaml.LiteralStyle != 0:
		// The rule's lines are the file's lines after the indicator, each
		// with the block's indentation removed.
		indent := 0
		for i := n.Line; i < len(lines); i++ { // lines[n.Line] is file line n.Line+1
			if t := strings.TrimLeft(lines[i], " "); t != "" {
				indent = len(lines[i]) - len(t)
				break
			}
		}
		return func(l, c int) (string, int, int, bool) {
			if l <= 0 {
				return name, 0, 0, true
			}
			return name, n.Line + l, indent + c, true
		}
	case !strings.Contains(n.Value, "\n") && n.Style&yaml.FoldedStyle == 0:
		shift := 0
		if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
			shift = 1
		}
		return func(l, c int) (string, int, int, bool) {
			if l <= 0 {
				return name, 0, 0, true
			}
			return name, n.Line, n.Column + shift + c - 1, l == 1
		}
	}
	return func(l, c int) (string, int, int, bool) {
		if l <= 0 {
			return name, 0, 0, true
		}
		return name, n.Line, n.Column, false
	}
}
