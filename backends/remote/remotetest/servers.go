package remotetest

import (
	"bufio"
	"context"

	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/baco-go/baco/internal/testdata"
)

// ServerEnv names the environment variable that points at a llama-server
// binary for live tests (default: llama-server on PATH).
const ServerEnv = "BACO_LLAMA_SERVER"

// LlamaServerBinary returns the llama-server binary, or skips the test
// with a message saying how to provide one.
func LlamaServerBinary(t testing.TB) string {
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

// LlamaServer runs llama-server on stories260K (context 512, one thread)
// on a free loopback port with the extra arguments, and returns its base
// URL. The process is killed when the test ends.
func LlamaServer(t testing.TB, extra ...string) string {
	t.Helper()
	bin := LlamaServerBinary(t)
	model := testdata.Path(t, "models/stories260K.gguf")
	addr := freeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	args := append([]string{"-m", model, "-c", "512", "--host", "127.0.0.1", "--port", port, "-t", "1"}, extra...)
	cmd := exec.Command(bin, args...)
	logPath := filepath.Join(t.TempDir(), "llama-server.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		logf.Close()
	})
	for deadline := time.Now().Add(60 * time.Second); ; {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return "http://" + addr
		}
		select {
		case <-exited:
			t.Fatalf("llama-server exited; log:\n%s", tail(logPath))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("llama-server did not listen within 60s; log:\n%s", tail(logPath))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func freeAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-30):], "\n")
}

// BacoctlServe builds bacoctl and runs `bacoctl serve` on stories260K
// (served alone as "stories260K", context 512, one thread) on a free
// loopback port, and returns its base URL (no /v1). It skips with
// -short. The server is stopped with SIGINT when the test ends.
func BacoctlServe(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs bacoctl serve: skipped with -short")
	}
	model := testdata.Path(t, "models/stories260K.gguf")
	bin := filepath.Join(t.TempDir(), "bacoctl")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/baco-go/baco/cmd/bacoctl").CombinedOutput(); err != nil {
		t.Fatalf("go build bacoctl: %v\n%s", err, out)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv := exec.CommandContext(ctx, bin, "serve", "--model", model, "--context-len", "512", "--threads", "1",
		"--addr", "127.0.0.1:0", "--access-log=false")
	stderr, err := srv.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stderr)
	re := regexp.MustCompile(`serving .* on (http://\S+)`)
	var head []string
	url := ""
	for url == "" && lines.Scan() {
		head = append(head, lines.Text())
		if m := re.FindStringSubmatch(lines.Text()); m != nil {
			url = m[1]
		}
	}
	drained := make(chan struct{})
	go func() {
		for lines.Scan() {
		}
		close(drained)
	}()
	t.Cleanup(func() {
		srv.Process.Signal(os.Interrupt)
		select {
		case <-drained:
		case <-time.After(30 * time.Second):
			cancel()
			<-drained
		}
		srv.Wait()
		cancel()
	})
	if url == "" {
		t.Fatalf("bacoctl serve did not start:\n%s", strings.Join(head, "\n"))
	}
	return url
}

// Context returns a context bounded to two minutes, cancelled when the
// test ends.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
