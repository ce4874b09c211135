package openai

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/baco-go/baco/internal/testdata"
)

// startLlamaServer runs llama-server (BACO_LLAMA_SERVER or on PATH) on
// stories260K, or skips; it returns the base URL.
func startLlamaServer(t *testing.T, extra ...string) string {
	t.Helper()
	bin := os.Getenv("BACO_LLAMA_SERVER")
	if bin == "" {
		var err error
		if bin, err = exec.LookPath("llama-server"); err != nil {
			t.Skip("live llama.cpp test skipped: no llama-server on PATH and BACO_LLAMA_SERVER unset")
		}
	}
	model := testdata.Path(t, "models/stories260K.gguf")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(bin, append([]string{"-m", model, "-c", "512", "--host", "127.0.0.1", "--port", port, "-t", "1"}, extra...)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(60 * time.Second); ; {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return fmt.Sprintf("http://%s", addr)
		}
		if time.Now().After(deadline) {
			t.Fatal("llama-server did not listen within 60s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func bg(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
