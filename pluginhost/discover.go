package pluginhost

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/baco-go/baco/sdk/plugin"
)

// Sources of an Entry.
const (
	// SourceConfig is a plugin named by path in the configuration.
	SourceConfig = "config"
	// SourceDir is a plugin found in a configured plugin directory.
	SourceDir = "dir"
	// SourceEnv is a plugin found in a BACO_PLUGIN_PATH directory.
	SourceEnv = "env"
	// SourceDefault is a plugin found in the default directory under the
	// user's config dir.
	SourceDefault = "default"
	// SourceBuiltin is a built-in served by re-executing the host binary.
	SourceBuiltin = "builtin"
)

// EnvPluginPath is the environment variable listing extra plugin
// directories, separated by the OS path-list separator.
const EnvPluginPath = "BACO_PLUGIN_PATH"

// File name prefixes of plugin binaries in plugin directories: the kind and
// the name come from the file name ("baco-router-warmup" is the router
// "warmup"), so listing a directory never runs anything.
const (
	BackendPrefix = "baco-backend-"
	RouterPrefix  = "baco-router-"
)

// Entry is one plugin the host can start.
type Entry struct {
	// Kind is plugin.KindBackend or plugin.KindRouter.
	Kind string `json:"kind"`
	// Name is the plugin's name, e.g. "gguf" or "warmup".
	Name string `json:"name"`
	// Path is the executable.
	Path string `json:"path"`
	// Args are extra arguments (the hidden serve subcommand of a
	// self-executed built-in).
	Args []string `json:"args,omitempty"`
	// Source says where the entry came from (SourceConfig, SourceDir, ...).
	Source string `json:"source"`
	// SHA256 is the pinned checksum (hex), or "" when not pinned.
	SHA256 string `json:"sha256,omitempty"`
	// Shadowed is true when an entry found earlier has the same kind and name.
	Shadowed bool `json:"shadowed,omitempty"`
}

// Ref is "kind/name".
func (e Entry) Ref() string { return e.Kind + "/" + e.Name }

// Spec configures one plugin by name: where it is and what checksum it
// must have.
type Spec struct {
	// Kind restricts the spec to one kind ("" matches both).
	Kind string `mapstructure:"kind" json:"kind,omitempty"`
	// Path is the executable; empty means "find it in the plugin
	// directories".
	Path string `mapstructure:"path" json:"path,omitempty"`
	// SHA256 pins the executable's checksum (64 hex digits); a binary that
	// does not match is refused.
	SHA256 string `mapstructure:"sha256" json:"sha256,omitempty"`
}

// Builtin is a plugin served by the host binary itself (self-exec), e.g.
// bacoctl re-executed as `bacoctl plugins serve-backend gguf`.
type Builtin struct {
	// Kind and Name identify the plugin.
	Kind, Name string
	// Path is the executable (usually os.Executable()).
	Path string
	// Args are the arguments that make it serve the plugin.
	Args []string
}

// dirSource is a plugin directory and where it was configured.
type dirSource struct{ dir, source string }

// dirs returns the plugin directories in search order.
func (h *Host) dirs() []dirSource {
	var out []dirSource
	for _, d := range h.cfg.Dirs {
		out = append(out, dirSource{d, SourceDir})
	}
	if env := h.cfg.Getenv(EnvPluginPath); env != "" {
		for _, d := range filepath.SplitList(env) {
			if d != "" {
				out = append(out, dirSource{d, SourceEnv})
			}
		}
	}
	if h.cfg.DefaultDir != "" {
		out = append(out, dirSource{h.cfg.DefaultDir, SourceDefault})
	}
	return out
}

// DefaultDir returns the default plugin directory,
// <os.UserConfigDir()>/baco/plugins.
func DefaultDir() (string, error) {
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("default plugin directory: %w", err)
	}
	return filepath.Join(d, "baco", "plugins"), nil
}

// parseFileName splits a plugin file name into kind and name.
func parseFileName(base string) (kind, name string, ok bool) {
	if runtime.GOOS == "windows" {
		base = strings.TrimSuffix(base, ".exe")
	}
	switch {
	case strings.HasPrefix(base, BackendPrefix):
		kind, name = plugin.KindBackend, base[len(BackendPrefix):]
	case strings.HasPrefix(base, RouterPrefix):
		kind, name = plugin.KindRouter, base[len(RouterPrefix):]
	default:
		return "", "", false
	}
	return kind, name, validName(name) == nil
}

// validName checks a plugin name: letters, digits, '-', '_' and '.'.
func validName(name string) error {
	if name == "" {
		return errors.New("empty plugin name")
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return fmt.Errorf("plugin name %q: only letters, digits, '-', '_' and '.' are allowed", name)
		}
	}
	return nil
}

// List returns every plugin the host knows, in resolution order: configured
// paths, configured directories, BACO_PLUGIN_PATH, the default directory,
// then built-ins. Later entries with the same kind and name are marked
// Shadowed. Missing directories are skipped.
func (h *Host) List() ([]Entry, error) {
	var out []Entry
	names := make([]string, 0, len(h.cfg.Plugins))
	for n := range h.cfg.Plugins {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		s := h.cfg.Plugins[n]
		if s.Path == "" {
			continue
		}
		kind := s.Kind
		if kind == "" {
			if k, _, ok := parseFileName(filepath.Base(s.Path)); ok {
				kind = k
			}
		}
		if kind != plugin.KindBackend && kind != plugin.KindRouter {
			return nil, fmt.Errorf("plugin %s (%s): unknown kind %q: set kind to %q or %q, or name the file %s%s or %s%s",
				n, s.Path, kind, plugin.KindBackend, plugin.KindRouter, BackendPrefix, n, RouterPrefix, n)
		}
		out = append(out, Entry{Kind: kind, Name: n, Path: s.Path, Source: SourceConfig})
	}
	for _, d := range h.dirs() {
		ents, err := os.ReadDir(d.dir)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				if d.source != SourceDefault {
					h.log.Warn("plugin directory does not exist", "dir", d.dir, "source", d.source)
				}
				continue
			}
			return nil, fmt.Errorf("plugin directory %s: %w", d.dir, err)
		}
		for _, de := range ents {
			kind, name, ok := parseFileName(de.Name())
			if !ok {
				continue
			}
			p := filepath.Join(d.dir, de.Name())
			st, err := os.Stat(p)
			if err != nil || !st.Mode().IsRegular() || (runtime.GOOS != "windows" && st.Mode().Perm()&0o111 == 0) {
				continue
			}
			out = append(out, Entry{Kind: kind, Name: name, Path: p, Source: d.source})
		}
	}
	for _, b := range h.cfg.Builtins {
		out = append(out, Entry{Kind: b.Kind, Name: b.Name, Path: b.Path, Args: b.Args, Source: SourceBuiltin})
	}
	seen := map[string]bool{}
	for i := range out {
		e := &out[i]
		if pin, ok := h.pin(e.Kind, e.Name); ok && e.Source != SourceBuiltin {
			e.SHA256 = pin
		}
		if seen[e.Ref()] {
			e.Shadowed = true
		}
		seen[e.Ref()] = true
	}
	return out, nil
}

// pin returns the configured checksum for a plugin.
func (h *Host) pin(kind, name string) (string, bool) {
	s, ok := h.cfg.Plugins[name]
	if !ok || s.SHA256 == "" || (s.Kind != "" && s.Kind != kind) {
		return "", false
	}
	return strings.ToLower(s.SHA256), true
}

// NotFoundError reports a plugin that no directory holds.
type NotFoundError struct {
	// Kind and Name are what was asked for.
	Kind, Name string
	// Searched lists the directories searched.
	Searched []string
	// Available lists the names of that kind that exist.
	Available []string
}

// Error implements error.
func (e *NotFoundError) Error() string {
	msg := fmt.Sprintf("no %s plugin %q: searched %s", e.Kind, e.Name, strings.Join(e.Searched, ", "))
	if len(e.Searched) == 0 {
		msg = fmt.Sprintf("no %s plugin %q: no plugin directories configured", e.Kind, e.Name)
	}
	if len(e.Available) > 0 {
		msg += "; available: " + strings.Join(e.Available, ", ")
	}
	return msg
}

// Find returns the entry a plugin reference resolves to: the first
// non-shadowed entry of that kind and name.
func (h *Host) Find(kind, name string) (Entry, error) {
	if kind != plugin.KindBackend && kind != plugin.KindRouter {
		return Entry{}, fmt.Errorf("plugin %s: unknown kind %q (want %q or %q)", name, kind, plugin.KindBackend, plugin.KindRouter)
	}
	if err := validName(name); err != nil {
		return Entry{}, err
	}
	all, err := h.List()
	if err != nil {
		return Entry{}, err
	}
	var avail []string
	for _, e := range all {
		if e.Kind != kind || e.Shadowed {
			continue
		}
		if e.Name == name {
			return e, nil
		}
		avail = append(avail, e.Name)
	}
	nf := &NotFoundError{Kind: kind, Name: name, Available: avail}
	for _, d := range h.dirs() {
		nf.Searched = append(nf.Searched, d.dir)
	}
	return Entry{}, nf
}
