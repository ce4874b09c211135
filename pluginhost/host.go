// Package pluginhost is the host side of baco's out-of-process plugins: it
// finds plugin binaries (configured paths, configured directories,
// BACO_PLUGIN_PATH, a default directory under the user's config dir, and
// built-ins served by re-executing the host binary), verifies optional
// sha256 pins, starts them through go-plugin with a start timeout, forwards
// their logs into slog, and hands out backend.Backend and route.Router
// values that supervise the process: a plugin that crashes, hangs or
// answers garbage fails the calls it was serving with an error naming it,
// and is restarted for new work. Close stops every process it started.
package pluginhost

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	goplugin "github.com/hashicorp/go-plugin"

	"github.com/baco-go/baco/sdk/plugin"
)

// Default timeouts.
const (
	DefaultStartTimeout     = 30 * time.Second
	DefaultConfigureTimeout = 10 * time.Minute
	DefaultStepTimeout      = 10 * time.Minute
	DefaultCallTimeout      = time.Minute
)

// Config configures a Host.
type Config struct {
	// Dirs are plugin directories searched before BACO_PLUGIN_PATH.
	Dirs []string
	// Plugins configures plugins by name: an explicit path and/or a pin.
	Plugins map[string]Spec
	// Builtins are plugins served by re-executing the host binary; they are
	// found last, so a plugin directory can replace them.
	Builtins []Builtin
	// DefaultDir is the directory searched after BACO_PLUGIN_PATH; New
	// fills it with DefaultDir() unless NoDefaultDir is set.
	DefaultDir string
	// NoDefaultDir disables the default directory (tests).
	NoDefaultDir bool
	// Getenv reads BACO_PLUGIN_PATH (default os.Getenv).
	Getenv func(string) string
	// StartTimeout bounds the start of a plugin process and its Describe.
	StartTimeout time.Duration
	// ConfigureTimeout bounds a backend's Configure (model loading).
	ConfigureTimeout time.Duration
	// StepTimeout bounds one Step or Decide call; a plugin that does not
	// answer in time is killed and restarted for new work.
	StepTimeout time.Duration
	// CallTimeout bounds every other call.
	CallTimeout time.Duration
	// NoSharedMemory makes backends return full distributions inline over
	// gRPC instead of through shared memory (comparison, debugging).
	NoSharedMemory bool
	// Logger receives the host's and the plugins' logs (nil: discarded).
	Logger *slog.Logger
}

// Host starts and supervises plugin processes. It is safe for concurrent
// use. Close it to stop every process it started.
type Host struct {
	cfg Config
	log *slog.Logger

	mu      sync.Mutex
	closed  bool
	procs   map[*proc]struct{}
	routers map[string]*routerProc // by entry path+args, shared by instances
}

// New builds a host; it starts nothing.
func New(cfg Config) (*Host, error) {
	if cfg.Getenv == nil {
		cfg.Getenv = os.Getenv
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = DefaultStartTimeout
	}
	if cfg.ConfigureTimeout <= 0 {
		cfg.ConfigureTimeout = DefaultConfigureTimeout
	}
	if cfg.StepTimeout <= 0 {
		cfg.StepTimeout = DefaultStepTimeout
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = DefaultCallTimeout
	}
	if cfg.NoDefaultDir {
		cfg.DefaultDir = ""
	} else if cfg.DefaultDir == "" {
		if d, err := DefaultDir(); err == nil {
			cfg.DefaultDir = d
		}
	}
	for name, s := range cfg.Plugins {
		if err := validName(name); err != nil {
			return nil, fmt.Errorf("plugins config: %w", err)
		}
		if s.Kind != "" && s.Kind != plugin.KindBackend && s.Kind != plugin.KindRouter {
			return nil, fmt.Errorf("plugins config: plugin %s: unknown kind %q (want %q or %q)", name, s.Kind, plugin.KindBackend, plugin.KindRouter)
		}
		if s.SHA256 != "" {
			if b, err := hex.DecodeString(s.SHA256); err != nil || len(b) != sha256.Size {
				return nil, fmt.Errorf("plugins config: plugin %s: sha256 %q is not 64 hex digits", name, s.SHA256)
			}
		}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Host{cfg: cfg, log: log, procs: map[*proc]struct{}{}, routers: map[string]*routerProc{}}, nil
}

// ErrClosed is returned by a Host, Backend or Router used after Close.
var ErrClosed = errors.New("plugin host closed")

// Close stops every plugin process the host started and waits for them to
// exit. Backends and routers handed out fail afterwards.
func (h *Host) Close() error {
	h.mu.Lock()
	h.closed = true
	ps := make([]*proc, 0, len(h.procs))
	for p := range h.procs {
		ps = append(ps, p)
	}
	h.procs = map[*proc]struct{}{}
	h.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.kill()
		}()
	}
	wg.Wait()
	return nil
}

// Inspection is what `bacoctl plugins inspect` shows.
type Inspection struct {
	// Entry is where the plugin was found.
	Entry Entry `json:"entry"`
	// Description is what the plugin said about itself.
	Description plugin.Description `json:"description"`
	// SHA256Actual is the executable's checksum.
	SHA256Actual string `json:"sha256_actual"`
}

// Inspect starts the plugin, asks it to describe itself and stops it.
func (h *Host) Inspect(ctx context.Context, kind, name string) (Inspection, error) {
	e, err := h.Find(kind, name)
	if err != nil {
		return Inspection{}, err
	}
	return h.InspectEntry(ctx, e)
}

// InspectEntry is Inspect for an entry from List.
func (h *Host) InspectEntry(ctx context.Context, e Entry) (Inspection, error) {
	sum, err := fileSHA256(e.Path)
	if err != nil {
		return Inspection{}, fmt.Errorf("plugin %s (%s): %w", e.Name, e.Path, err)
	}
	p, err := h.start(ctx, e, "")
	if err != nil {
		return Inspection{}, err
	}
	defer h.release(p)
	return Inspection{Entry: e, Description: p.desc, SHA256Actual: sum}, nil
}

// proc is one started plugin process.
type proc struct {
	entry  Entry
	client *goplugin.Client
	conn   *plugin.Conn
	desc   plugin.Description
	pid    int

	mu     sync.Mutex
	broken error // set when the process must not serve new work
	once   sync.Once
	// onKill runs once the process is gone (releases host-side resources
	// tied to it, such as shared memory).
	onKill func()
}

// label names the plugin in errors: "gguf (/path/baco-backend-gguf)".
func (e Entry) label() string { return fmt.Sprintf("%s (%s)", e.Name, e.Path) }

// usable reports whether the process may take new work.
func (p *proc) usable() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.broken == nil && !p.client.Exited()
}

// fail marks the process broken: it takes no new work, and the next piece
// of new work kills it and starts a fresh one.
func (p *proc) fail(cause error) {
	p.mu.Lock()
	if p.broken == nil {
		p.broken = cause
	}
	p.mu.Unlock()
}

// kill stops the process and waits for it and go-plugin's goroutines.
func (p *proc) kill() {
	p.once.Do(func() {
		p.client.Kill()
		p.mu.Lock()
		f := p.onKill
		p.mu.Unlock()
		if f != nil {
			f()
		}
	})
}

// release kills p and forgets it.
func (h *Host) release(p *proc) {
	h.mu.Lock()
	delete(h.procs, p)
	h.mu.Unlock()
	p.kill()
}

// fileSHA256 returns the hex sha256 of a file.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	hs := sha256.New()
	if _, err := io.Copy(hs, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(hs.Sum(nil)), nil
}

// PinMismatchError reports a plugin whose checksum does not match its pin.
type PinMismatchError struct {
	// Entry is the refused plugin.
	Entry Entry
	// Want is the pinned checksum, Got the file's.
	Want, Got string
}

// Error implements error.
func (e *PinMismatchError) Error() string {
	return fmt.Sprintf("plugin %s refused: sha256 of the executable is %s but the configuration pins %s (rebuild or re-pin it)",
		e.Entry.label(), e.Got, e.Want)
}

// ProtocolError reports a plugin that speaks another protocol version or
// is not a baco plugin at all.
type ProtocolError struct {
	// Entry is the refused plugin.
	Entry Entry
	// Msg says what is wrong.
	Msg string
	// Err is the underlying error, if any.
	Err error
}

// Error implements error.
func (e *ProtocolError) Error() string {
	s := fmt.Sprintf("plugin %s refused: %s", e.Entry.label(), e.Msg)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying error.
func (e *ProtocolError) Unwrap() error { return e.Err }

// start starts a plugin process for entry, describes it and checks that
// it is of kind want ("" for any known kind).
func (h *Host) start(ctx context.Context, e Entry, want string) (*proc, error) {
	h.mu.Lock()
	closed := h.closed
	h.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	cmd := exec.Command(e.Path, e.Args...)
	cfg := &goplugin.ClientConfig{
		HandshakeConfig:  plugin.Handshake(),
		VersionedPlugins: plugin.ClientPlugins(),
		Cmd:              cmd,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		StartTimeout:     h.cfg.StartTimeout,
		Logger:           plugin.NewHCLogger(h.log, ""),
		GRPCDialOptions:  plugin.GRPCDialOptions(),
		SyncStdout:       newLineLogger(h.log, slog.LevelDebug, e.Name, "stdout"),
		SyncStderr:       newLineLogger(h.log, slog.LevelInfo, e.Name, "stderr"),
	}
	if e.SHA256 != "" {
		want, _ := hex.DecodeString(e.SHA256)
		cfg.SecureConfig = &goplugin.SecureConfig{Checksum: want, Hash: sha256.New()}
	}
	client := goplugin.NewClient(cfg)
	fail := func(err error) (*proc, error) {
		client.Kill()
		return nil, err
	}
	rpc, err := client.Client()
	if err != nil {
		return fail(h.startError(e, err))
	}
	raw, err := rpc.Dispense(plugin.DispenseName)
	if err != nil {
		return fail(&ProtocolError{Entry: e, Msg: "dispense failed", Err: err})
	}
	conn, ok := raw.(*plugin.Conn)
	if !ok {
		return fail(&ProtocolError{Entry: e, Msg: fmt.Sprintf("unexpected client type %T", raw)})
	}
	dctx, cancel := context.WithTimeout(ctx, h.cfg.StartTimeout)
	desc, err := conn.Describe(dctx)
	cancel()
	if err != nil {
		return fail(&ProtocolError{Entry: e, Msg: "describe failed", Err: err})
	}
	if desc.Kind != plugin.KindBackend && desc.Kind != plugin.KindRouter {
		return fail(&ProtocolError{Entry: e, Msg: fmt.Sprintf("unknown kind %q (this host knows %q and %q)", desc.Kind, plugin.KindBackend, plugin.KindRouter)})
	}
	if want != "" && desc.Kind != want {
		return fail(&ProtocolError{Entry: e, Msg: fmt.Sprintf("it is a %s plugin, not a %s plugin", desc.Kind, want)})
	}
	if e.Kind != "" && desc.Kind != e.Kind {
		return fail(&ProtocolError{Entry: e, Msg: fmt.Sprintf("it describes itself as a %s plugin but is installed as a %s plugin", desc.Kind, e.Kind)})
	}
	if v := client.NegotiatedVersion(); desc.Protocol != v {
		return fail(&ProtocolError{Entry: e, Msg: fmt.Sprintf("it negotiated protocol version %d but describes protocol %d", v, desc.Protocol)})
	}
	p := &proc{entry: e, client: client, conn: conn, desc: desc}
	if rc := client.ReattachConfig(); rc != nil {
		p.pid = rc.Pid
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return fail(ErrClosed)
	}
	h.procs[p] = struct{}{}
	h.mu.Unlock()
	h.log.Debug("plugin started", "plugin", e.Name, "kind", desc.Kind, "version", desc.Version, "path", e.Path, "pid", p.pid)
	return p, nil
}

// startError turns go-plugin's start errors into clear ones.
func (h *Host) startError(e Entry, err error) error {
	msg := err.Error()
	switch {
	case errors.Is(err, goplugin.ErrChecksumsDoNotMatch):
		got, ferr := fileSHA256(e.Path)
		if ferr != nil {
			got = "unreadable (" + ferr.Error() + ")"
		}
		return &PinMismatchError{Entry: e, Want: e.SHA256, Got: got}
	case strings.Contains(msg, "incompatible API version"):
		return &ProtocolError{Entry: e, Msg: fmt.Sprintf("it does not speak protocol version %d (baco.plugin.v%d); rebuild it against a compatible sdk/plugin",
			plugin.ProtocolVersion, plugin.ProtocolVersion), Err: err}
	case strings.Contains(msg, "timeout while waiting for plugin to start"):
		return &ProtocolError{Entry: e, Msg: fmt.Sprintf("it did not complete the handshake within %v", h.cfg.StartTimeout), Err: err}
	case strings.Contains(msg, "Unrecognized remote plugin message"), strings.Contains(msg, "exited before we could connect"),
		strings.Contains(msg, "unsupported plugin protocol"), strings.Contains(msg, "incompatible core API version"):
		return &ProtocolError{Entry: e, Msg: "not a baco plugin (no go-plugin gRPC handshake)", Err: err}
	}
	return fmt.Errorf("plugin %s: start: %w", e.label(), err)
}

// lineLogger forwards a plugin's redirected stdout/stderr to slog, one
// record per line (lines longer than maxLine are split).
type lineLogger struct {
	log    *slog.Logger
	level  slog.Level
	mu     sync.Mutex
	buf    bytes.Buffer
	plugin string
	stream string
}

const maxLine = 64 << 10

func newLineLogger(l *slog.Logger, level slog.Level, name, stream string) *lineLogger {
	return &lineLogger{log: l, level: level, plugin: name, stream: stream}
}

// Write implements io.Writer.
func (w *lineLogger) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	for {
		b := w.buf.Bytes()
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			if len(b) >= maxLine {
				w.emit(b)
				w.buf.Reset()
			}
			return len(p), nil
		}
		w.emit(b[:i])
		w.buf.Next(i + 1)
	}
}

func (w *lineLogger) emit(line []byte) {
	w.log.Log(context.Background(), w.level, strings.TrimRight(string(line), "\r"), "plugin", w.plugin, "stream", w.stream)
}

// cause says why the process takes no new work.
func (p *proc) cause() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.broken != nil {
		return p.broken
	}
	if p.client.Exited() {
		return fmt.Errorf("%w: the process (pid %d) exited", plugin.ErrUnavailable, p.pid)
	}
	return nil
}
