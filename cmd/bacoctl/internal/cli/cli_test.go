package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/baco-go/baco/internal/testdata"
)

// run invokes bacoctl in process and returns its exit code and outputs.
func run(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, IO{In: strings.NewReader(stdin), Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

func stories(t *testing.T) string { return testdata.Path(t, "models/stories260K.gguf") }

// llama2cGreedy is the greedy continuation of "Once upon a time" (BOS +
// prompt) for 64 tokens printed by karpathy/llama2.c run.c (commit
// 350e04fe, fp32) for stories260K.bin, and identically by llama.cpp
// c392e509 (llama-simple) for stories260K.gguf.
const llama2cGreedy = ", there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too high.\nLily's mom said"

func TestGenerateGreedyMatchesLlama2c(t *testing.T) {
	m := stories(t)
	// Both models are the same file, so whatever the router picks, greedy
	// decoding must reproduce the single-model reference.
	for _, router := range []string{"p-punc:0.5", "aligned", "base", "h:1.0", "rand:0.5"} {
		code, out, errOut := run(t, "", "generate", "--base", m, "--aligned", m, "--router", router,
			"--temperature", "0", "--max-tokens", "64", "--prompt", "Once upon a time")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", router, code, errOut)
		}
		if got := strings.TrimSuffix(out, "\n"); got != llama2cGreedy {
			t.Fatalf("%s: got\n%q\nwant\n%q", router, got, llama2cGreedy)
		}
		if !strings.Contains(errOut, "64 tokens") {
			t.Fatalf("%s: summary missing: %q", router, errOut)
		}
	}
}

// TestGenerateAcceptanceCommand runs the command of the acceptance
// list: it must succeed, be reproducible and carry no colour codes when
// stdout is not a terminal.
func TestGenerateAcceptanceCommand(t *testing.T) {
	m := stories(t)
	args := []string{"generate", "--base", m, "--aligned", m, "--router", "p-punc:0.5", "--seed", "1", "--prompt", "Once upon a time"}
	code, out1, errOut := run(t, "", args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	_, out2, _ := run(t, "", args...)
	if out1 != out2 {
		t.Fatalf("same seed, different output:\n%q\n%q", out1, out2)
	}
	if strings.Contains(out1, "\x1b[") {
		t.Fatalf("colour codes in non-terminal output: %q", out1)
	}
	if len(strings.Fields(out1)) < 10 {
		t.Fatalf("output too short: %q", out1)
	}
	_, out3, _ := run(t, "", append(args[:len(args)-4], "--seed", "2", "--prompt", "Once upon a time")...)
	if out3 == out1 {
		t.Fatalf("seeds 1 and 2 gave the same text %q", out1)
	}
}

type jsonLine struct {
	Sample int    `json:"sample"`
	Text   string `json:"text"`
	Tokens []struct {
		Pos     int      `json:"pos"`
		ID      int32    `json:"id"`
		Text    string   `json:"text"`
		Source  string   `json:"source"`
		Base    *sigJSON `json:"base"`
		Aligned *sigJSON `json:"aligned"`
	} `json:"tokens"`
	Stats map[string]any `json:"stats"`
}

type sigJSON struct {
	P1      float64 `json:"p1"`
	Entropy float64 `json:"entropy"`
}

func parseJSONLines(t *testing.T, out string) []jsonLine {
	t.Helper()
	var lines []jsonLine
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var l jsonLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("bad JSON line %q: %v", sc.Text(), err)
		}
		lines = append(lines, l)
	}
	return lines
}

func TestGenerateJSON(t *testing.T) {
	m := stories(t)
	base := []string{"generate", "--base", m, "--aligned", m, "--router", "rand:0.5", "--seed", "5", "--max-tokens", "20",
		"--json", "--prompt", "Once upon a time"}
	code, out1, errOut := run(t, "", append(base, "--n", "1")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	code, out8, errOut := run(t, "", append(base, "--n", "8")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	one, eight := parseJSONLines(t, out1), parseJSONLines(t, out8)
	if len(one) != 1 || len(eight) != 8 {
		t.Fatalf("got %d and %d lines, want 1 and 8", len(one), len(eight))
	}
	if !reflect.DeepEqual(one[0], eight[0]) {
		t.Fatalf("sample 0 differs between n=1 and n=8:\n%+v\n%+v", one[0], eight[0])
	}
	sources := map[string]int{}
	for _, l := range eight {
		var text strings.Builder
		for i, tok := range l.Tokens {
			if tok.Pos != i {
				t.Fatalf("sample %d token %d has pos %d", l.Sample, i, tok.Pos)
			}
			text.WriteString(tok.Text)
			sources[tok.Source]++
			// rand needs no distribution: only the emitting model runs,
			// so exactly that model's signal is in the trace (two when
			// word gating consulted the previous model too).
			switch tok.Source {
			case "base":
				if tok.Base == nil {
					t.Fatalf("base token without base signal: %+v", tok)
				}
			case "aligned":
				if tok.Aligned == nil {
					t.Fatalf("aligned token without aligned signal: %+v", tok)
				}
			}
			for _, s := range []*sigJSON{tok.Base, tok.Aligned} {
				if s != nil && (s.P1 <= 0 || s.P1 > 1 || s.Entropy < 0) {
					t.Fatalf("bad signal %+v", s)
				}
			}
		}
		if text.String() != l.Text {
			t.Fatalf("tokens' texts %q do not add up to the sample's text %q", text.String(), l.Text)
		}
		if int(l.Stats["tokens"].(float64)) != len(l.Tokens) {
			t.Fatalf("stats.tokens %v for %d tokens", l.Stats["tokens"], len(l.Tokens))
		}
	}
	if sources["base"] == 0 || sources["aligned"] == 0 {
		t.Fatalf("rand:0.5 over 160 tokens used one model only: %v", sources)
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	dir := t.TempDir()
	badYAML := filepath.Join(dir, "bad.yaml")
	os.WriteFile(badYAML, []byte("router: p-punc:0.5\nbase: [\n  foo\n"), 0o644)
	unknownKey := filepath.Join(dir, "unknown.yaml")
	os.WriteFile(unknownKey, []byte("router: p-punc:0.5\nroutr: x\n"), 0o644)
	badPolicy := filepath.Join(dir, "policy.yaml")
	os.WriteFile(badPolicy, []byte("vars:\n  gamma: 0.4\nrule: |\n  base.p1 < vars.gamma ?\n    \"base\" : alignd\n"), 0o644)
	m := "/nonexistent.gguf" // errors must come before any model loads
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"rule does not compile", []string{"generate", "--base", m, "--aligned", m, "--rule", "base.p1 < ", "--prompt", "x"}, []string{"1:10"}},
		{"unknown identifier", []string{"generate", "--base", m, "--aligned", m, "--rule", "base.pp1 < 0.5", "--prompt", "x"}, []string{"1:", "p1"}},
		{"unknown router", []string{"generate", "--base", m, "--aligned", m, "--router", "p-punk:0.5", "--prompt", "x"}, []string{"p-punk", "p-punc", "rand"}},
		{"gamma out of range", []string{"generate", "--base", m, "--aligned", m, "--router", "p:1.5", "--prompt", "x"}, []string{"1.5", "[0, 1]"}},
		{"malformed config", []string{"generate", "--config", badYAML, "--prompt", "x"}, []string{badYAML, "line"}},
		{"unknown config key", []string{"generate", "--config", unknownKey, "--prompt", "x"}, []string{unknownKey, "routr"}},
		{"policy file error", []string{"generate", "--base", m, "--aligned", m, "--policy", badPolicy, "--prompt", "x"}, []string{badPolicy, "5:", "alignd"}},
		{"bad boundary", []string{"generate", "--base", m, "--aligned", m, "--boundary", "sentence", "--prompt", "x"}, []string{"sentence"}},
		{"bad temperature", []string{"generate", "--base", m, "--aligned", m, "--temperature", "-1", "--prompt", "x"}, []string{"temperature"}},
		{"unknown flag", []string{"generate", "--bogus"}, []string{"bogus"}},
		{"policy check bad rule", []string{"policy", "check", "-e", `base.p1 < 0.5 ? "base" : 3`}, []string{"1:"}},
		{"missing model", []string{"generate", "--base", m, "--aligned", m, "--prompt", "x"}, []string{m}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := run(t, "", tc.args...)
			if code != ExitUsage {
				t.Fatalf("exit %d, want %d; stderr %q", code, ExitUsage, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Fatalf("stderr %q does not mention %q", errOut, w)
				}
			}
		})
	}
}

func TestPolicyCheckOK(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "p.yaml")
	os.WriteFile(p, []byte("vars:\n  gamma: 0.4\nrule: |\n  base.class == \"punct\" ? \"aligned\" : (base.p1 < vars.gamma ? \"base\" : \"aligned\")\n"), 0o644)
	for _, args := range [][]string{{"policy", "check", p}, {"policy", "check", "-e", "agree ? 0.5 : 0.0"}} {
		code, out, errOut := run(t, "", args...)
		if code != 0 || !strings.HasPrefix(out, "ok: ") || strings.Count(out, "\n") != 1 {
			t.Fatalf("%v: exit %d out %q err %q", args, code, out, errOut)
		}
	}
}

func TestTokenizeMatchesLlamaCpp(t *testing.T) {
	m := stories(t)
	// llama.cpp c392e509: llama-tokenize -m stories260K.gguf -p "Once upon a time" --ids
	code, out, errOut := run(t, "", "tokenize", m, "Once upon a time")
	if code != 0 || out != "1 403 407 261 378\n" {
		t.Fatalf("exit %d out %q err %q", code, out, errOut)
	}
	code, out, _ = run(t, "Once upon", "tokenize", "--add-special=false", "--pieces", m)
	if code != 0 || out != "403\t▁Once\n407\t▁upon\n" {
		t.Fatalf("exit %d out %q", code, out)
	}
}

func TestInspect(t *testing.T) {
	m := stories(t)
	code, out, errOut := run(t, "", "inspect", m)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"llama.context_length", "128", "token_embd.weight", "64x512", "tensors: 48", "vocabulary: 512 tokens, fingerprint "} {
		if !strings.Contains(out, want) {
			t.Fatalf("inspect output lacks %q:\n%s", want, out)
		}
	}
}

func TestConfigEnvFlagPrecedence(t *testing.T) {
	m := stories(t)
	cfg := filepath.Join(t.TempDir(), "baco.yaml")
	os.WriteFile(cfg, []byte("base: "+m+"\naligned: "+m+"\nrouter: aligned\ntemperature: 0\nmax-tokens: 64\nprompt: Once upon a time\n"), 0o644)
	count := func(errOut string) string {
		i := strings.Index(errOut, " tokens")
		j := strings.LastIndex(errOut[:i], " ")
		return errOut[j+1 : i]
	}
	code, out, errOut := run(t, "", "generate", "--config", cfg)
	if code != 0 || strings.TrimSuffix(out, "\n") != llama2cGreedy {
		t.Fatalf("config only: exit %d out %q err %q", code, out, errOut)
	}
	t.Setenv("BACO_MAX_TOKENS", "5")
	if _, _, errOut = run(t, "", "generate", "--config", cfg); count(errOut) != "5" {
		t.Fatalf("env should override the file: %q", errOut)
	}
	if _, _, errOut = run(t, "", "generate", "--config", cfg, "--max-tokens", "3"); count(errOut) != "3" {
		t.Fatalf("flag should override env: %q", errOut)
	}
}

// TestInProcessEqualsPlugin: the default path serves the model from a
// backend plugin process (this test binary re-executed, see TestMain);
// --in-process loads it here. The same seed gives the same JSON trace.
func TestInProcessEqualsPlugin(t *testing.T) {
	m := stories(t)
	args := []string{"generate", "--base", m, "--aligned", m, "--router", "rand:0.5", "--seed", "11", "--n", "3",
		"--max-tokens", "24", "--json", "--prompt", "Once upon a time", "--log-level", "debug"}
	code, plugged, errOut := run(t, "", args...)
	if code != 0 {
		t.Fatalf("plugin path: exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "plugin") {
		t.Fatalf("the default path did not start a plugin; stderr:\n%s", errOut)
	}
	code, local, errOut := run(t, "", append(args, "--in-process")...)
	if code != 0 {
		t.Fatalf("in process: exit %d: %s", code, errOut)
	}
	if plugged != local {
		t.Fatalf("plugin and in-process outputs differ:\n%s\n%s", plugged, local)
	}
}

// TestNamedModelsFromConfig: a config file's models map names backend
// plugins with parameters (as examples/deployments does for remote
// servers); generate resolves --base/--aligned through it.
func TestNamedModelsFromConfig(t *testing.T) {
	m := stories(t)
	cfg := filepath.Join(t.TempDir(), "baco.yaml")
	os.WriteFile(cfg, []byte("models:\n  story-base:\n    backend: gguf\n    params:\n      model: "+m+"\n      context_len: 512\n"+
		"  story-chat:\n    backend: gguf\n    params: {model: "+m+"}\n"), 0o644)
	code, out, errOut := run(t, "", "generate", "--config", cfg, "--base", "story-base", "--aligned", "story-chat",
		"--temperature", "0", "--max-tokens", "64", "--prompt", "Once upon a time")
	if code != 0 || strings.TrimSuffix(out, "\n") != llama2cGreedy {
		t.Fatalf("exit %d out %q err %q", code, out, errOut)
	}
	os.WriteFile(cfg, []byte("models:\n  broken:\n    params: {model: x}\n"), 0o644)
	code, _, errOut = run(t, "", "generate", "--config", cfg, "--base", "broken", "--aligned", "broken", "--prompt", "x")
	if code != ExitUsage || !strings.Contains(errOut, "models.broken") {
		t.Fatalf("exit %d err %q", code, errOut)
	}
}
