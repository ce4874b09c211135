package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runEvalCmd runs bacoctl like Main.
func runEvalCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return run(t, "", args...)
}

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Bad experiments, methods and prompts files exit 2 with an error naming
// the field, before any model is loaded.
func TestEvalUsageErrors(t *testing.T) {
	dir := t.TempDir()
	prompts := writeFile(t, dir, "p.jsonl", `{"id":"a","prompt":"Once upon a time"}`+"\n")
	empty := writeFile(t, dir, "empty.jsonl", "")
	bad := writeFile(t, dir, "bad.yaml", "base: b.gguf\naligned: a.gguf\nprompts: p.jsonl\nmethods:\n  - router: nudging\n    gamma: [0.2, high]\n")
	unknown := writeFile(t, dir, "unknown.yaml", "base: b.gguf\naligned: a.gguf\nprompts: p.jsonl\nsamlpes: 3\nmethods: [{router: base}]\n")
	missing := filepath.Join(dir, "nope.gguf")
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"malformed experiment", []string{"eval", "--experiment", bad}, []string{"methods[0].gamma[1]", "line 6", "bad.yaml"}},
		{"unknown field", []string{"eval", "--experiment", unknown}, []string{`unknown field "samlpes"`, "samples"}},
		{"unknown method", []string{"eval", "--base", missing, "--aligned", missing, "--prompts", prompts, "--method", "judgy:0.5"},
			[]string{"methods[0].router", `unknown router "judgy"`}},
		{"bad method grid", []string{"eval", "--base", missing, "--aligned", missing, "--prompts", prompts, "--method", "p:0.1,x"},
			[]string{"--method", `"x" is not a number`}},
		{"no method", []string{"eval", "--base", missing, "--aligned", missing, "--prompts", prompts}, []string{"methods", "required"}},
		{"empty prompts", []string{"eval", "--base", missing, "--aligned", missing, "--prompts", empty, "--method", "aligned", "--out", filepath.Join(dir, "r")},
			[]string{"prompts file", "no prompts"}},
		{"missing experiment", []string{"eval", "--experiment", filepath.Join(dir, "none.yaml")}, []string{"experiment file"}},
	}
	for _, tc := range tests {
		code, _, errOut := runEvalCmd(t, tc.args...)
		if code != ExitUsage {
			t.Errorf("%s: exit %d, want %d: %s", tc.name, code, ExitUsage, errOut)
		}
		for _, w := range tc.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%s: stderr %q does not contain %q", tc.name, errOut, w)
			}
		}
	}
}

// A tiny evaluation through the command line on stories260K (base =
// aligned, plumbing only): it finishes, prints the summary and writes the
// report; a rerun generates nothing.
func TestEvalStories(t *testing.T) {
	m := stories(t)
	dir := t.TempDir()
	prompts := writeFile(t, dir, "p.csv", "id,prompt\nlily,Once upon a time\n")
	out := filepath.Join(dir, "run")
	args := []string{"eval", "--base", m, "--aligned", m, "--prompts", prompts, "--method", "aligned", "--method", "nudging:0.4,0.8",
		"--samples", "2", "--max-tokens", "8", "--context-len", "512", "--threads", "1", "--out", out, "--seed", "3"}
	code, stdout, errOut := runEvalCmd(t, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, w := range []string{"3 points × 1 prompts × 2 samples = 6 rows (6 generated now)", "nudging", "report: " + out + "/report.html"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("stdout lacks %q:\n%s", w, stdout)
		}
	}
	if !strings.Contains(errOut, "generate: 6/6 samples") {
		t.Errorf("no progress on stderr: %q", errOut)
	}
	if _, err := os.Stat(filepath.Join(out, "report.html")); err != nil {
		t.Fatal(err)
	}
	code, stdout, errOut = runEvalCmd(t, args...)
	if code != 0 || !strings.Contains(stdout, "(0 generated now), 0 groups scored now") {
		t.Errorf("rerun: exit %d\n%s\n%s", code, stdout, errOut)
	}
	// The same directory with another seed is a usage error naming it.
	args[len(args)-1] = "4"
	if code, _, errOut := runEvalCmd(t, args...); code != ExitUsage || !strings.Contains(errOut, "seed was 3, now 4") {
		t.Errorf("changed seed: exit %d: %s", code, errOut)
	}
}
