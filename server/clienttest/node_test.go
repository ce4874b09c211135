package clienttest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/baco-go/baco/internal/testdata"
)

// TestOpenAINodeClient runs openai.test.mjs (the official openai npm
// client) against `bacoctl serve`.
func TestOpenAINodeClient(t *testing.T) {
	if testing.Short() {
		t.Skip("builds bacoctl and runs node: skipped with -short")
	}
	model := testdata.Path(t, "models/stories260K.gguf")
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: the openai client suite needs node 20+ and npm", tool)
		}
	}
	if _, err := os.Stat(filepath.Join("node_modules", "openai", "package.json")); err != nil {
		t.Skip("the openai npm package is not installed: run `npm ci` in server/clienttest")
	}
	dir := t.TempDir()
	bin := buildBacoctl(t)
	cfg := filepath.Join(dir, "serve.yaml")
	yaml := fmt.Sprintf(`# stories260K's metadata says 128 tokens of context; it was trained with 512.
context-len: 512
threads: 1
serve:
  queue-len: 16
pipelines:
  - name: stories-baco
    base: %q
    aligned: %q
    router: p-punc:0.5
`, model, model)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	const key = "clienttest-key"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	srv := exec.CommandContext(ctx, bin, "serve", "--config", cfg, "--addr", "127.0.0.1:0", "--api-key", key, "--log-level", "info")
	stderr, err := srv.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	// The first line names the address; the rest (access logs) is kept
	// for the failure message.
	lines := bufio.NewScanner(stderr)
	addrRE := regexp.MustCompile(`serving .* on (http://\S+)`)
	var url string
	var head []string
	for lines.Scan() {
		head = append(head, lines.Text())
		if m := addrRE.FindStringSubmatch(lines.Text()); m != nil {
			url = m[1]
			break
		}
	}
	if url == "" {
		srv.Wait()
		t.Fatalf("bacoctl serve did not start:\n%s", strings.Join(head, "\n"))
	}
	logc := make(chan []string, 1)
	go func() {
		var log []string
		for lines.Scan() {
			log = append(log, lines.Text())
		}
		logc <- log
	}()

	node := exec.CommandContext(ctx, "node", "--test", "openai.test.mjs")
	node.Env = append(os.Environ(), "BACO_URL="+url+"/v1", "BACO_API_KEY="+key,
		"BACO_MODEL=stories260K", "BACO_PIPELINE=stories-baco")
	out, nodeErr := node.CombinedOutput()

	// Graceful shutdown: SIGINT, then a clean exit.
	if err := srv.Process.Signal(os.Interrupt); err != nil {
		t.Errorf("signal bacoctl: %v", err)
	}
	waitErr := srv.Wait()
	serverLog := <-logc
	if nodeErr != nil {
		t.Errorf("node --test openai.test.mjs: %v\n%s\nserver log:\n%s", nodeErr, out, strings.Join(serverLog, "\n"))
	} else {
		t.Logf("node --test openai.test.mjs:\n%s", tail(string(out), 12))
	}
	if waitErr != nil {
		t.Errorf("bacoctl serve did not exit cleanly after SIGINT: %v\n%s", waitErr, strings.Join(serverLog, "\n"))
	}
	if n := len(serverLog); n == 0 || !strings.Contains(serverLog[n-1], "server stopped") {
		t.Errorf("server log does not end with the shutdown line:\n%s", strings.Join(serverLog, "\n"))
	}
}

var (
	buildOnce sync.Once
	buildBin  string
	buildErr  error
)

// buildBacoctl builds bacoctl once per test binary.
func buildBacoctl(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "bacoctl-clienttest")
		if err != nil {
			buildErr = err
			return
		}
		buildBin = filepath.Join(dir, "bacoctl")
		if out, err := exec.Command("go", "build", "-o", buildBin, "github.com/baco-go/baco/cmd/bacoctl").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build bacoctl: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildBin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildBin != "" {
		os.RemoveAll(filepath.Dir(buildBin))
	}
	os.Exit(code)
}

// TestServeUsageErrors: bad settings exit with code 2 and a message naming
// the setting (a bad router or rule before any model is loaded).
func TestServeUsageErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("builds bacoctl: skipped with -short")
	}
	model := testdata.Path(t, "models/stories260K.gguf")
	bin := buildBacoctl(t)
	dir := t.TempDir()
	badRule := filepath.Join(dir, "bad-rule.yaml")
	os.WriteFile(badRule, []byte("pipelines:\n  - name: p\n    base: "+model+"\n    aligned: "+model+"\n    rule: 'base.p1 <'\n"), 0o600)
	clash := filepath.Join(dir, "clash.yaml")
	os.WriteFile(clash, []byte("pipelines:\n  - name: stories260K\n    base: "+model+"\n    aligned: "+model+"\n"), 0o600)
	unknown := filepath.Join(dir, "unknown.yaml")
	os.WriteFile(unknown, []byte("pipelines:\n  - name: p\n    base: "+model+"\n    aligned: "+model+"\n    routr: base\n"), 0o600)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"serve"}, "nothing to serve"},
		{[]string{"serve", "--model", model, "--addr", "localhost"}, "--addr"},
		{[]string{"serve", "--model", model, "--queue-len", "0"}, "--queue-len"},
		{[]string{"serve", "--model", model, "--api-key", " "}, "--api-key"},
		{[]string{"serve", "--base", model, "--aligned", model, "--router", "nope"}, "nope"},
		{[]string{"serve", "--config", badRule}, "pipeline p"},
		{[]string{"serve", "--config", unknown}, "routr"},
		{[]string{"serve", "--config", clash}, "stories260K"},
	}
	for _, c := range cases {
		cmd := exec.Command(bin, c.args...)
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != 2 || !strings.Contains(string(out), c.want) {
			t.Errorf("bacoctl %s: exit %d, want 2 with %q:\n%s", strings.Join(c.args, " "), code, c.want, out)
		}
	}
}

func tail(s string, n int) string {
	ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, "\n")
}
