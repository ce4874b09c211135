package llamacpp

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/baco-go/baco/internal/testdata"
)

// ServerEnv names the environment variable that points at a llama-server
// binary for the live tests (default: llama-server on PATH).
const ServerEnv = "BACO_LLAMA_SERVER"

// serverBinary returns the llama-server binary, or skips.
func serverBinary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(ServerEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s=%s: %v", ServerEnv, p, err)
		}
		return p
	}
	p, err := exec.LookPath("llama-server")
	if err != nil {
		t.Skipf("live llama.cpp test skipped: no llama-server on PATH and %s unset (build llama.cpp and set %s to its build/bin/llama-server)", ServerEnv, ServerEnv)
	}
	return p
}

// startServer runs llama-server on stories260K on a free loopback port
// with the extra arguments, and returns its base URL. The process is
// killed when the test ends.
func startServer(t testing.TB, extra ...string) string {
	t.Helper()
	bin := serverBinary(t)
	model := testdata.Path(t, "models/stories260K.gguf")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	args := append([]string{"-m", model, "-c", "512", "--host", "127.0.0.1", "--port", fmt.Sprint(port), "-t", "1"}, extra...)
	cmd := exec.Command(bin, args...)
	logf, err := os.Create(filepath.Join(t.TempDir(), "llama-server.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
	})
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
			return url
		}
		if time.Now().After(deadline) {
			t.Fatalf("llama-server did not listen within 60s; log:\n%s", tail(logf.Name()))
		}
		if cmd.ProcessState != nil {
			t.Fatalf("llama-server exited; log:\n%s", tail(logf.Name()))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func tail(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	var lines []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		lines = append(lines, s.Text())
		if len(lines) > 30 {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}

func bg(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
