// Command badproto is a test plugin that speaks only protocol version 99:
// a host that speaks version 1 must refuse it with a clear message.
package main

import (
	"context"
	"errors"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/baco-go/baco/sdk/plugin"
)

type p99 struct {
	goplugin.NetRPCUnsupportedPlugin
}

func (p99) GRPCServer(*goplugin.GRPCBroker, *grpc.Server) error { return nil }
func (p99) GRPCClient(context.Context, *goplugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, errors.New("no client")
}

func main() {
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig:  plugin.Handshake(),
		VersionedPlugins: map[int]goplugin.PluginSet{99: {plugin.DispenseName: p99{}}},
		GRPCServer:       goplugin.DefaultGRPCServer,
	})
}
