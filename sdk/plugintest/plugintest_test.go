package plugintest_test

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/baco-go/baco/internal/testdata"
	"github.com/baco-go/baco/sdk/plugintest"
)

var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "plugintest")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	err = plugintest.BuildAll("", dir, map[string]string{
		"baco-backend-fake":     "github.com/baco-go/baco/pluginhost/internal/testplugins/fake",
		"baco-backend-gguf":     "github.com/baco-go/baco/plugins/backends/gguf",
		"baco-router-p-punc":    "github.com/baco-go/baco/plugins/routers/p-punc",
		"baco-router-expr":      "github.com/baco-go/baco/plugins/routers/expr",
		"baco-backend-llamacpp": "github.com/baco-go/baco/plugins/backends/llamacpp",
		"baco-backend-openai":   "github.com/baco-go/baco/plugins/backends/openai",
	})
	if err == nil {
		err = buildExample(dir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func bin(name string) string { return filepath.Join(binDir, name) }

// buildExample builds examples/router-plugin, its own module (a third
// party's view of the SDK), into dir. It builds with a temporary copy of
// the example's go.mod and a go.sum merged from both modules, so the build
// neither needs the network nor touches the repository when this module's
// dependencies have moved on since the example's go.sum was written.
func buildExample(dir string) error {
	example, err := filepath.Abs(filepath.Join("..", "..", "examples", "router-plugin"))
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(dir, "modfile")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	mod, err := os.ReadFile(filepath.Join(example, "go.mod"))
	if err != nil {
		return err
	}
	// The temporary go.mod lives elsewhere: make the replace path absolute.
	mod = []byte(strings.ReplaceAll(string(mod), "=> ../..", "=> "+filepath.Dir(filepath.Dir(example))))
	var sum []byte
	for _, f := range []string{filepath.Join(example, "go.sum"), filepath.Join("..", "..", "go.sum")} {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		sum = append(append(sum, b...), '\n')
	}
	modfile := filepath.Join(tmp, "go.mod")
	if err := os.WriteFile(modfile, mod, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, "go.sum"), sum, 0o644); err != nil {
		return err
	}
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-mod=mod", "-modfile="+modfile,
		"-o", filepath.Join(dir, "baco-router-warmup"), ".")
	cmd.Dir = example
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOSUMDB=off", "GOPROXY=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build the example: %w\n%s", err, out)
	}
	return nil
}

func TestBackendConformanceFake(t *testing.T) {
	plugintest.RunBackend(t, bin("baco-backend-fake"), "salt=x",
		plugintest.WithText("the cat sat"), plugintest.WithTolerance(0), plugintest.WithBadParams("%zz", "block-after=x"))
}

func TestBackendConformanceGGUF(t *testing.T) {
	model := testdata.Path(t, "models/stories260K.gguf")
	plugintest.RunBackend(t, bin("baco-backend-gguf"), model,
		plugintest.WithText("Once upon a time"), plugintest.WithBadParams("/nonexistent.gguf", `{"model":""}`))
}

func TestRouterConformance(t *testing.T) {
	tests := []struct {
		name, bin, params string
		bad               []string
	}{
		{"p-punc", "baco-router-p-punc", "0.3", []string{"x", "1.5", "-0.1"}},
		{"expr", "baco-router-expr", `base.class == "punct" ? "aligned" : (base.p1 < 0.4 ? "base" : "aligned")`, []string{"", "base.nope", `"maybe"`}},
		{"expr policy document", "baco-router-expr", "rule: |\n  base.p1 < vars.gamma ? 0.25 : 0.75\nvars:\n  gamma: 0.5\n", []string{"rule: base.p1 < vars.missing\n"}},
		{"example warmup", "baco-router-warmup", "4:0.3", []string{"x", "4:2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plugintest.RunRouter(t, bin(tt.bin), tt.params, plugintest.WithBadParams(tt.bad...))
		})
	}
}

// EnvLlamaServer names llama.cpp's llama-server binary; when set, the HTTP
// backend plugins are run against it serving stories260K.
const EnvLlamaServer = "BACO_LLAMA_SERVER"

// llamaServer starts llama-server on stories260K and returns its base URL.
func llamaServer(t *testing.T) string {
	t.Helper()
	exe := os.Getenv(EnvLlamaServer)
	if exe == "" {
		t.Skipf("set %s to a llama-server binary to run the HTTP backend plugins against it", EnvLlamaServer)
	}
	model := testdata.Path(t, "models/stories260K.gguf")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(exe, "-m", model, "--port", strconv.Itoa(port), "-np", "4", "-c", "2048", "-t", "1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	for i := 0; i < 600; i++ {
		if r, err := http.Get(url + "/health"); err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return url
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("llama-server did not become healthy at %s", url)
	return ""
}

func TestBackendConformanceHTTP(t *testing.T) {
	url := llamaServer(t)
	t.Run("llamacpp", func(t *testing.T) {
		plugintest.RunBackend(t, bin("baco-backend-llamacpp"), url, plugintest.WithText("Once upon a time"))
	})
	t.Run("openai", func(t *testing.T) {
		plugintest.RunBackend(t, bin("baco-backend-openai"), `{"base_url":"`+url+`/v1","tokenizer":"llamacpp"}`, plugintest.WithText("Once upon a time"))
	})
}
