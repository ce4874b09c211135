// Package buildtest builds plugin binaries for integration tests: one `go
// build` invocation for all of them (the linker is the slow part), into a
// directory under the names a plugin directory expects.
package buildtest

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strings"
)

// GoTool returns the go command of the running toolchain.
func GoTool() string {
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return "go"
}

// Build builds every package of pkgs (file name → import path) into dir,
// each under its file name. It runs in the module that holds the packages
// (the current directory's). Package base names must be distinct.
func Build(dir string, pkgs map[string]string) error {
	tmp, err := os.MkdirTemp(dir, "build")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	args := []string{"build", "-o", tmp + string(filepath.Separator)}
	seen := map[string]string{}
	for name, pkg := range pkgs {
		base := path.Base(pkg)
		if other, ok := seen[base]; ok {
			return fmt.Errorf("buildtest: %s and %s have the same base name", pkg, other)
		}
		seen[base] = pkg
		_ = name
		args = append(args, pkg)
	}
	cmd := exec.Command(GoTool(), args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	for name, pkg := range pkgs {
		exe := path.Base(pkg)
		if runtime.GOOS == "windows" {
			exe += ".exe"
			name += ".exe"
		}
		if err := os.Rename(filepath.Join(tmp, exe), filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return nil
}
