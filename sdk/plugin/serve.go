package plugin

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/core/route"
)

// ServeOpt configures ServeBackend and ServeRouter.
type ServeOpt func(*serveConfig)

type serveConfig struct {
	name, version, description, paramsHelp string
	caps                                   []string
	logger                                 *slog.Logger
	test                                   *goplugin.ServeTestConfig
}

// WithName sets the name Describe reports (default: the executable's base
// name without a "baco-backend-" or "baco-router-" prefix).
func WithName(name string) ServeOpt { return func(c *serveConfig) { c.name = name } }

// WithVersion sets the plugin's own version (default "0.0.0").
func WithVersion(v string) ServeOpt { return func(c *serveConfig) { c.version = v } }

// WithDescription sets the one-line description Describe reports.
func WithDescription(d string) ServeOpt { return func(c *serveConfig) { c.description = d } }

// WithParamsHelp says what the parameter string means (shown by
// `bacoctl plugins inspect`).
func WithParamsHelp(h string) ServeOpt { return func(c *serveConfig) { c.paramsHelp = h } }

// WithCapabilities adds capabilities to those Describe reports.
func WithCapabilities(caps ...string) ServeOpt {
	return func(c *serveConfig) { c.caps = append(c.caps, caps...) }
}

// WithLogger sets the logger the serving machinery logs to (default:
// Logger(slog.LevelInfo), which the host forwards into its own log).
func WithLogger(l *slog.Logger) ServeOpt { return func(c *serveConfig) { c.logger = l } }

// WithServeTest serves in-process in go-plugin's test mode (for tests of
// hosts and plugins without building a binary): the serve call returns when
// cfg.Context is done, and the reattach configuration is sent on
// cfg.ReattachConfigCh.
func WithServeTest(cfg *goplugin.ServeTestConfig) ServeOpt {
	return func(c *serveConfig) { c.test = cfg }
}

func newServeConfig(opts []ServeOpt) *serveConfig {
	c := &serveConfig{version: "0.0.0"}
	for _, o := range opts {
		o(c)
	}
	if c.name == "" {
		c.name = defaultName(os.Args[0])
	}
	if c.logger == nil {
		c.logger = Logger(slog.LevelInfo)
	}
	return c
}

// defaultName derives a plugin name from its executable path.
func defaultName(exe string) string {
	n := strings.TrimSuffix(filepath.Base(exe), ".exe")
	for _, p := range []string{"baco-backend-", "baco-router-"} {
		n = strings.TrimPrefix(n, p)
	}
	return n
}

// Logger returns a logger for plugin code: JSON lines on the process's
// original standard error in the format go-plugin's host parses, so the
// host logs each record at its level, attributes included, under the
// plugin's name. Call it before Serve* (which redirects os.Stderr).
func Logger(level slog.Level) *slog.Logger {
	return slog.New(NewLogHandler(os.Stderr, level))
}

// NewLogHandler returns a slog handler writing hclog-style JSON lines
// ("@level", "@message") to w.
func NewLogHandler(w io.Writer, level slog.Level) slog.Handler {
	return slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) > 0 {
				return a
			}
			switch a.Key {
			case slog.TimeKey:
				return slog.Attr{} // the host stamps its own time
			case slog.LevelKey:
				lv, _ := a.Value.Any().(slog.Level)
				return slog.String("@level", hclogLevel(lv))
			case slog.MessageKey:
				return slog.String("@message", a.Value.String())
			}
			return a
		},
	})
}

func hclogLevel(l slog.Level) string {
	switch {
	case l < slog.LevelDebug:
		return "trace"
	case l < slog.LevelInfo:
		return "debug"
	case l < slog.LevelWarn:
		return "info"
	case l < slog.LevelError:
		return "warn"
	}
	return "error"
}

// BackendFactory builds a backend from the parameter string the host sends
// (for example a model path). It is called once per plugin process.
type BackendFactory func(ctx context.Context, params string) (backend.Backend, error)

// RouterFactory builds a router from a parameter string (for example "0.3"
// for a γ). It may be called many times: one process serves every instance
// the host opens.
type RouterFactory func(params string) (route.Router, error)

// ServeBackend serves impl as a backend plugin; the host may send no
// parameters. It returns only in test mode (WithServeTest); otherwise the
// process exits when the host is done.
func ServeBackend(impl backend.Backend, opts ...ServeOpt) {
	serveBackend(func(_ context.Context, params string) (backend.Backend, error) {
		if params != "" {
			return nil, fmt.Errorf("this backend takes no parameters (got %q)", params)
		}
		return impl, nil
	}, false, opts)
}

// ServeBackendFactory serves a backend built by f from the host's
// parameter string (sent once, before any other call).
func ServeBackendFactory(f BackendFactory, opts ...ServeOpt) {
	serveBackend(f, true, opts)
}

func serveBackend(f BackendFactory, params bool, opts []ServeOpt) {
	c := newServeConfig(opts)
	caps := c.caps
	if params {
		caps = append([]string{CapParams}, caps...)
	}
	srv := &backendServer{
		meta:    metaServer{d: c.describe(KindBackend, caps)},
		factory: f,
		log:     c.logger,
	}
	serve(c, &servePlugin{register: func(s *grpc.Server) { srv.register(s) }})
}

// ServeRouter serves impl as a router plugin; the host may open it only
// with an empty parameter string.
func ServeRouter(impl route.Router, opts ...ServeOpt) {
	serveRouter(func(params string) (route.Router, error) {
		if params != "" {
			return nil, fmt.Errorf("router %s takes no parameters (got %q)", impl.Name(), params)
		}
		return impl, nil
	}, false, opts)
}

// ServeRouterFactory serves routers built by f from parameter strings; one
// process serves every instance the host opens.
func ServeRouterFactory(f RouterFactory, opts ...ServeOpt) {
	serveRouter(f, true, opts)
}

func serveRouter(f RouterFactory, params bool, opts []ServeOpt) {
	c := newServeConfig(opts)
	caps := c.caps
	if params {
		caps = append([]string{CapParams}, caps...)
	}
	srv := newRouterServer(metaServer{d: c.describe(KindRouter, caps)}, f, c.logger)
	serve(c, &servePlugin{register: func(s *grpc.Server) { srv.register(s) }})
}

func (c *serveConfig) describe(kind string, caps []string) Description {
	return Description{
		Name: c.name, Kind: kind, Version: c.version, Protocol: ProtocolVersion,
		Capabilities: caps, Description: c.description, ParamsHelp: c.paramsHelp,
	}
}

// EnvCPUProfile names an environment variable: when set (the host's
// environment is passed on), a plugin writes a CPU profile of its whole run
// to <value>.<name>.<pid> (for performance work on plugins).
const EnvCPUProfile = "BACO_PLUGIN_CPUPROFILE"

// serve runs go-plugin's server with the baco handshake, the raised
// message limits and the plugin's logger.
func serve(c *serveConfig, p *servePlugin) {
	if prefix := os.Getenv(EnvCPUProfile); prefix != "" && c.test == nil {
		path := fmt.Sprintf("%s.%s.%d", prefix, c.name, os.Getpid())
		if f, err := os.Create(path); err != nil {
			c.logger.Warn("cpu profile", "path", path, "error", err)
		} else if err := pprof.StartCPUProfile(f); err != nil {
			c.logger.Warn("cpu profile", "path", path, "error", err)
			f.Close()
		} else {
			defer f.Close()
			defer pprof.StopCPUProfile()
		}
	}
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig:  Handshake(),
		VersionedPlugins: map[int]goplugin.PluginSet{ProtocolVersion: {dispenseName: p}},
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			opts = append(opts, grpcServerOptions()...)
			return grpc.NewServer(opts...)
		},
		Logger: newHCLogger(c.logger.Handler(), c.name),
		Test:   c.test,
	})
}

// servePlugin is the plugin side of the go-plugin set.
type servePlugin struct {
	goplugin.NetRPCUnsupportedPlugin
	register func(*grpc.Server)
}

// GRPCServer implements goplugin.GRPCPlugin.
func (p *servePlugin) GRPCServer(_ *goplugin.GRPCBroker, s *grpc.Server) error {
	p.register(s)
	return nil
}

// GRPCClient implements goplugin.GRPCPlugin; a plugin is never a client.
func (p *servePlugin) GRPCClient(context.Context, *goplugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, fmt.Errorf("baco plugin: the plugin side cannot dispense")
}
