package plugintest

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// goTool returns the go command of the running toolchain.
func goTool() string {
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return "go"
}

// Build builds the main package pkg (an import path, or "." for the
// package in the test's directory) into a temporary directory as name
// (e.g. "baco-router-warmup") and returns the binary's path.
func Build(t testing.TB, name, pkg string) string {
	t.Helper()
	dir := t.TempDir()
	if err := BuildAll("", dir, map[string]string{name: pkg}); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, exeName(name))
}

func exeName(name string) string {
	if runtime.GOOS == "windows" {
		return name + ".exe"
	}
	return name
}

// BuildAll builds every main package of pkgs (binary name → import path,
// or a relative directory such as ".") into outDir, running in moduleDir
// ("" for the current directory). Import paths are built by one `go build`
// (the linker is the slow part) and must have distinct base names. It is
// for TestMain functions, which have no testing.TB.
func BuildAll(moduleDir, outDir string, pkgs map[string]string) error {
	tmp, err := os.MkdirTemp(outDir, "build")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	args := []string{"build", "-o", tmp + string(filepath.Separator)}
	byBase := map[string]string{} // base name → binary name
	for name, pkg := range pkgs {
		if pkg == "." || strings.HasPrefix(pkg, "./") || strings.HasPrefix(pkg, "../") {
			if err := goBuild(moduleDir, "build", "-o", filepath.Join(outDir, exeName(name)), pkg); err != nil {
				return err
			}
			continue
		}
		base := path.Base(pkg)
		if _, ok := byBase[base]; ok {
			return fmt.Errorf("plugintest: two packages named %s", base)
		}
		byBase[base] = name
		args = append(args, pkg)
	}
	if len(byBase) == 0 {
		return nil
	}
	if err := goBuild(moduleDir, args...); err != nil {
		return err
	}
	for base, name := range byBase {
		if err := os.Rename(filepath.Join(tmp, exeName(base)), filepath.Join(outDir, exeName(name))); err != nil {
			return err
		}
	}
	return nil
}

// goBuild runs the go command in dir.
func goBuild(dir string, args ...string) error {
	cmd := exec.Command(goTool(), args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("plugintest: go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}
