package pluginhost_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/baco-go/baco/sdk/plugintest"
)

// binDir holds the plugin binaries TestMain builds.
var binDir string

const (
	fakeBin     = "baco-backend-fake"
	pPuncBin    = "baco-router-p-punc"
	badProtoBin = "baco-backend-badproto"
	badKindBin  = "baco-router-badkind"
	ggufBin     = "baco-backend-gguf"
	exprBin     = "baco-router-expr"
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "pluginhost-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	err = plugintest.BuildAll("", dir, map[string]string{
		fakeBin:     "github.com/baco-go/baco/pluginhost/internal/testplugins/fake",
		pPuncBin:    "github.com/baco-go/baco/plugins/routers/p-punc",
		badProtoBin: "github.com/baco-go/baco/pluginhost/internal/testplugins/badproto",
		badKindBin:  "github.com/baco-go/baco/pluginhost/internal/testplugins/badkind",
		ggufBin:     "github.com/baco-go/baco/plugins/backends/gguf",
		exprBin:     "github.com/baco-go/baco/plugins/routers/expr",
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// children returns the pids of this process's live child processes
// (Linux: /proc; elsewhere the check is skipped and nil returned).
func children(t *testing.T) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	me := os.Getpid()
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so split after ')'.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 2 || f[0] == "Z" {
			continue
		}
		if ppid, _ := strconv.Atoi(f[1]); ppid == me {
			out = append(out, pid)
		}
	}
	return out
}

// checkClean fails the test when a goroutine or a child process is left.
func checkClean(t *testing.T) {
	t.Helper()
	if err := goleak.Find(); err != nil {
		t.Errorf("goroutines left behind: %v", err)
	}
	if c := children(t); len(c) > 0 {
		t.Errorf("child processes left behind: %v", c)
	}
}
