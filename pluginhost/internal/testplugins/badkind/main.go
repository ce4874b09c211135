// Command badkind is a test plugin that speaks protocol 1 but describes
// itself with an unknown kind: a host must refuse it with a clear message.
package main

import (
	"context"
	"errors"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/baco-go/baco/sdk/plugin"
	pb "github.com/baco-go/baco/sdk/proto/pluginv1"
)

type meta struct{ pb.UnimplementedPluginServer }

func (meta) Describe(context.Context, *pb.DescribeRequest) (*pb.DescribeResponse, error) {
	return &pb.DescribeResponse{Name: "badkind", Kind: "frobnicator", Version: "0.1.0", Protocol: plugin.ProtocolVersion}, nil
}

type p1 struct {
	goplugin.NetRPCUnsupportedPlugin
}

func (p1) GRPCServer(_ *goplugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterPluginServer(s, meta{})
	return nil
}
func (p1) GRPCClient(context.Context, *goplugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, errors.New("no client")
}

func main() {
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig:  plugin.Handshake(),
		VersionedPlugins: map[int]goplugin.PluginSet{plugin.ProtocolVersion: {plugin.DispenseName: p1{}}},
		GRPCServer:       goplugin.DefaultGRPCServer,
	})
}
