// Package plugin is the SDK for baco plugins: a backend (a model) or a
// router served out of process as a github.com/hashicorp/go-plugin binary
// over gRPC (protocol baco.plugin.v1, package sdk/proto/pluginv1).
//
// A plugin author writes an ordinary backend.Backend or route.Router and
// calls ServeBackend or ServeRouter (or their Factory variants, which build
// the implementation from the parameter string the host sends) from main.
// The host side (package pluginhost) uses this package's client types,
// which implement the same backend.Backend and route.Router interfaces, so
// the decoder cannot tell an in-process implementation from a plugin.
//
// Generated protocol types never appear in this package's API: values are
// converted at the edge.
package plugin

import (
	"context"
	"errors"
	"fmt"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/baco-go/baco/sdk/proto/pluginv1"
)

// Handshake constants. A host refuses a binary that does not present the
// cookie, and a binary started without it tells the user it is a plugin.
const (
	// MagicCookieKey is the environment variable go-plugin's handshake uses.
	MagicCookieKey = "BACO_PLUGIN_MAGIC_COOKIE"
	// MagicCookieValue is the cookie's value.
	MagicCookieValue = "6f1e0c2b-baco-plugin-5a7d"
	// ProtocolVersion is the protocol major version this package speaks
	// (protobuf package baco.plugin.v1).
	ProtocolVersion = 1
)

// Kinds of plugins.
const (
	// KindBackend is a plugin that serves a model.
	KindBackend = "backend"
	// KindRouter is a plugin that serves routers.
	KindRouter = "router"
)

// Capabilities a plugin may announce in Describe.
const (
	// CapParams means the plugin takes a parameter string.
	CapParams = "params"
	// CapFullDist means a router reads full distributions (Dist.Full).
	CapFullDist = "full-dist"
)

// dispenseName is the name of the one plugin in every baco plugin set.
const dispenseName = "baco"

// MaxMessageSize bounds one gRPC message in either direction: large enough
// for a batch of full-vocabulary distributions (16 sequences × 150k ids ×
// 4 bytes ≈ 10 MB), small enough to bound what a garbage answer can cost.
const MaxMessageSize = 256 << 20

// Handshake returns the go-plugin handshake both sides use.
func Handshake() goplugin.HandshakeConfig {
	return goplugin.HandshakeConfig{
		ProtocolVersion:  ProtocolVersion,
		MagicCookieKey:   MagicCookieKey,
		MagicCookieValue: MagicCookieValue,
	}
}

// ClientPlugins is the host's VersionedPlugins: every protocol version the
// host speaks. Dispense(DispenseName) returns a *Conn.
func ClientPlugins() map[int]goplugin.PluginSet {
	return map[int]goplugin.PluginSet{
		ProtocolVersion: {dispenseName: &connPlugin{}},
	}
}

// DispenseName is the name to pass to go-plugin's ClientProtocol.Dispense.
const DispenseName = dispenseName

// Transport tuning. A decode step of 16 sequences over a 50k-150k
// vocabulary moves 3-10 MB of full distributions; with gRPC's defaults
// (64 KB flow-control windows grown by BDP probing, 32 KB socket buffers)
// such a message stalls on window updates. Windows larger than any step
// and 1 MB buffers let one message go out in a few writes.
const (
	windowSize     = 64 << 20
	connWindowSize = 128 << 20
	bufferSize     = 1 << 20
)

// GRPCDialOptions are the dial options a host must use: they raise the
// message size limits to MaxMessageSize and size the transport for
// multi-megabyte steps.
func GRPCDialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxMessageSize), grpc.MaxCallSendMsgSize(MaxMessageSize)),
		grpc.WithInitialWindowSize(windowSize),
		grpc.WithInitialConnWindowSize(connWindowSize),
		grpc.WithWriteBufferSize(bufferSize),
		grpc.WithReadBufferSize(bufferSize),
	}
}

// grpcServerOptions are the server side of GRPCDialOptions.
func grpcServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.MaxRecvMsgSize(MaxMessageSize), grpc.MaxSendMsgSize(MaxMessageSize),
		grpc.InitialWindowSize(windowSize), grpc.InitialConnWindowSize(connWindowSize),
		grpc.WriteBufferSize(bufferSize), grpc.ReadBufferSize(bufferSize),
	}
}

// Conn is a connection to a started plugin process, before the host knows
// what it serves. Describe first, then Backend or Router.
type Conn struct {
	cc grpc.ClientConnInterface
}

// NewConn wraps a gRPC connection to a plugin (tests and custom hosts).
func NewConn(cc grpc.ClientConnInterface) *Conn { return &Conn{cc: cc} }

// Description is what a plugin says about itself.
type Description struct {
	// Name identifies the plugin, e.g. "gguf" or "p-punc".
	Name string `json:"name"`
	// Kind is KindBackend or KindRouter.
	Kind string `json:"kind"`
	// Version is the plugin's own version.
	Version string `json:"version"`
	// Protocol is the protocol major version the plugin speaks.
	Protocol int `json:"protocol"`
	// Capabilities are optional features (CapParams, CapFullDist, ...).
	Capabilities []string `json:"capabilities,omitempty"`
	// Description is one line for humans.
	Description string `json:"description,omitempty"`
	// ParamsHelp says what the parameter string means.
	ParamsHelp string `json:"params_help,omitempty"`
}

// Has reports whether the plugin announced capability c.
func (d Description) Has(c string) bool {
	for _, x := range d.Capabilities {
		if x == c {
			return true
		}
	}
	return false
}

// Describe asks the plugin what it is. It fails with a clear message when
// the binary does not serve the baco Plugin service.
func (c *Conn) Describe(ctx context.Context) (Description, error) {
	r, err := pb.NewPluginClient(c.cc).Describe(ctx, &pb.DescribeRequest{})
	if err != nil {
		if status.Code(err) == codes.Unimplemented {
			return Description{}, fmt.Errorf("describe: the binary does not serve the baco plugin protocol v%d: %w", ProtocolVersion, err)
		}
		return Description{}, fmt.Errorf("describe: %w", rpcError(ctx, err))
	}
	return Description{
		Name: r.Name, Kind: r.Kind, Version: r.Version, Protocol: int(r.Protocol),
		Capabilities: r.Capabilities, Description: r.Description, ParamsHelp: r.ParamsHelp,
	}, nil
}

// connPlugin is the host side of the go-plugin set: it hands out the gRPC
// connection wrapped in a *Conn.
type connPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
}

// GRPCServer implements goplugin.GRPCPlugin; the host never serves.
func (connPlugin) GRPCServer(*goplugin.GRPCBroker, *grpc.Server) error {
	return errors.New("baco plugin: the host side cannot serve")
}

// GRPCClient implements goplugin.GRPCPlugin.
func (connPlugin) GRPCClient(_ context.Context, _ *goplugin.GRPCBroker, cc *grpc.ClientConn) (any, error) {
	return &Conn{cc: cc}, nil
}

// ErrUnavailable marks errors caused by a plugin process that is gone or
// unreachable (killed, crashed, exited): the host restarts it for new work.
var ErrUnavailable = errors.New("plugin unavailable")

// ErrBadAnswer marks answers that break the protocol (wrong counts, ids
// outside the vocabulary, NaN weights): the plugin is treated as broken.
var ErrBadAnswer = errors.New("plugin answered garbage")

// rpcError turns a gRPC error into a Go error: context errors stay
// recognisable with errors.Is, a lost connection wraps ErrUnavailable, and
// a plugin's own error keeps only its message.
func rpcError(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", ctx.Err(), status.Convert(err).Message())
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	switch st.Code() {
	case codes.Unavailable:
		return fmt.Errorf("%w: %s", ErrUnavailable, st.Message())
	case codes.Canceled:
		return fmt.Errorf("%w: %s", context.Canceled, st.Message())
	case codes.DeadlineExceeded:
		return fmt.Errorf("%w: %s", context.DeadlineExceeded, st.Message())
	case codes.ResourceExhausted:
		return fmt.Errorf("%s (message larger than %d bytes?)", st.Message(), MaxMessageSize)
	}
	return errors.New(st.Message())
}

// statusError turns a plugin implementation's error into a gRPC status.
func statusError(err error) error {
	if err == nil {
		return nil
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	return status.Error(codes.Unknown, err.Error())
}
