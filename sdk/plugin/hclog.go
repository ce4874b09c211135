package plugin

import (
	"context"
	"io"
	"log"
	"log/slog"

	"github.com/hashicorp/go-hclog"
)

// LevelTrace is the slog level hclog's Trace maps to.
const LevelTrace = slog.LevelDebug - 4

// NewHCLogger adapts a slog logger to the hclog.Logger interface go-plugin
// logs through. A host passes it as go-plugin's ClientConfig.Logger so that
// every line a plugin logs (and go-plugin's own messages) lands in the
// host's slog log at its level, tagged plugin=<name>.
func NewHCLogger(l *slog.Logger, name string) hclog.Logger {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return newHCLogger(l.Handler(), name)
}

func newHCLogger(h slog.Handler, name string) *hcLogger {
	return &hcLogger{h: h, name: name}
}

// hcLogger implements hclog.Logger over a slog.Handler.
type hcLogger struct {
	h       slog.Handler
	name    string
	implied []any
}

func (l *hcLogger) logger() *slog.Logger {
	lg := slog.New(l.h)
	if l.name != "" {
		lg = lg.With("plugin", l.name)
	}
	if len(l.implied) > 0 {
		lg = lg.With(l.implied...)
	}
	return lg
}

func toSlog(level hclog.Level) slog.Level {
	switch level {
	case hclog.Trace:
		return LevelTrace
	case hclog.Debug:
		return slog.LevelDebug
	case hclog.Warn:
		return slog.LevelWarn
	case hclog.Error:
		return slog.LevelError
	}
	return slog.LevelInfo
}

// Log implements hclog.Logger.
func (l *hcLogger) Log(level hclog.Level, msg string, args ...any) {
	if level == hclog.Off {
		return
	}
	sl := toSlog(level)
	if !l.h.Enabled(context.Background(), sl) {
		return
	}
	l.logger().Log(context.Background(), sl, msg, dropTimestamp(args)...)
}

// dropTimestamp removes the "timestamp" pair go-plugin adds when it relays a
// plugin's log line: the slog record carries its own time, and the relayed
// value is often the zero time.
func dropTimestamp(args []any) []any {
	for i := 0; i+1 < len(args); i += 2 {
		if k, ok := args[i].(string); ok && k == "timestamp" {
			return append(append([]any{}, args[:i]...), args[i+2:]...)
		}
	}
	return args
}

// Trace implements hclog.Logger.
func (l *hcLogger) Trace(msg string, args ...any) { l.Log(hclog.Trace, msg, args...) }

// Debug implements hclog.Logger.
func (l *hcLogger) Debug(msg string, args ...any) { l.Log(hclog.Debug, msg, args...) }

// Info implements hclog.Logger.
func (l *hcLogger) Info(msg string, args ...any) { l.Log(hclog.Info, msg, args...) }

// Warn implements hclog.Logger.
func (l *hcLogger) Warn(msg string, args ...any) { l.Log(hclog.Warn, msg, args...) }

// Error implements hclog.Logger.
func (l *hcLogger) Error(msg string, args ...any) { l.Log(hclog.Error, msg, args...) }

func (l *hcLogger) enabled(level hclog.Level) bool {
	return l.h.Enabled(context.Background(), toSlog(level))
}

// IsTrace implements hclog.Logger.
func (l *hcLogger) IsTrace() bool { return l.enabled(hclog.Trace) }

// IsDebug implements hclog.Logger.
func (l *hcLogger) IsDebug() bool { return l.enabled(hclog.Debug) }

// IsInfo implements hclog.Logger.
func (l *hcLogger) IsInfo() bool { return l.enabled(hclog.Info) }

// IsWarn implements hclog.Logger.
func (l *hcLogger) IsWarn() bool { return l.enabled(hclog.Warn) }

// IsError implements hclog.Logger.
func (l *hcLogger) IsError() bool { return l.enabled(hclog.Error) }

// ImpliedArgs implements hclog.Logger.
func (l *hcLogger) ImpliedArgs() []any { return l.implied }

// With implements hclog.Logger.
func (l *hcLogger) With(args ...any) hclog.Logger {
	c := *l
	c.implied = append(append([]any(nil), l.implied...), args...)
	return &c
}

// Name implements hclog.Logger.
func (l *hcLogger) Name() string { return l.name }

// Named implements hclog.Logger.
func (l *hcLogger) Named(name string) hclog.Logger {
	c := *l
	if c.name != "" {
		c.name += "." + name
	} else {
		c.name = name
	}
	return &c
}

// ResetNamed implements hclog.Logger.
func (l *hcLogger) ResetNamed(name string) hclog.Logger {
	c := *l
	c.name = name
	return &c
}

// SetLevel implements hclog.Logger; the level is the slog handler's, so
// this is a no-op.
func (l *hcLogger) SetLevel(hclog.Level) {}

// GetLevel implements hclog.Logger: the lowest level the handler accepts.
func (l *hcLogger) GetLevel() hclog.Level {
	for _, lv := range []hclog.Level{hclog.Trace, hclog.Debug, hclog.Info, hclog.Warn, hclog.Error} {
		if l.enabled(lv) {
			return lv
		}
	}
	return hclog.Off
}

// StandardLogger implements hclog.Logger.
func (l *hcLogger) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(l.StandardWriter(opts), "", 0)
}

// StandardWriter implements hclog.Logger.
func (l *hcLogger) StandardWriter(opts *hclog.StandardLoggerOptions) io.Writer {
	level := slog.LevelInfo
	if opts != nil && opts.ForceLevel != hclog.NoLevel {
		level = toSlog(opts.ForceLevel)
	}
	return slog.NewLogLogger(l.logger().Handler(), level).Writer()
}
