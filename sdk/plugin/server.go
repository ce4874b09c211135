package plugin

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/core/route"
	pb "github.com/baco-go/baco/sdk/proto/pluginv1"
)

// metaServer serves the Plugin service.
type metaServer struct {
	pb.UnimplementedPluginServer
	d Description
}

// Describe implements pb.PluginServer.
func (m *metaServer) Describe(context.Context, *pb.DescribeRequest) (*pb.DescribeResponse, error) {
	return &pb.DescribeResponse{
		Name: m.d.Name, Kind: m.d.Kind, Version: m.d.Version, Protocol: int32(m.d.Protocol),
		Capabilities: m.d.Capabilities, Description: m.d.Description, ParamsHelp: m.d.ParamsHelp,
	}, nil
}

// backendServer serves the Backend service over a Backend built once by
// the factory at Configure.
type backendServer struct {
	pb.UnimplementedBackendServer
	meta    metaServer
	factory BackendFactory
	log     *slog.Logger

	mu   sync.Mutex
	impl backend.Backend
	shm  *arena // the host's shared memory, nil when not offered or not mapped
}

// Bounds on the shared memory a host may offer.
const (
	maxShmSlots    = 64
	maxShmSlotSize = 1 << 30
)

func (s *backendServer) register(g *grpc.Server) {
	pb.RegisterPluginServer(g, &s.meta)
	pb.RegisterBackendServer(g, s)
}

// be returns the configured backend or a FailedPrecondition error.
func (s *backendServer) be() (backend.Backend, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.impl == nil {
		return nil, status.Error(codes.FailedPrecondition, "backend not configured: the host must call Configure first")
	}
	return s.impl, nil
}

// Configure implements pb.BackendServer.
func (s *backendServer) Configure(ctx context.Context, r *pb.ConfigureRequest) (*pb.ConfigureResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.impl != nil {
		return nil, status.Error(codes.FailedPrecondition, "backend already configured")
	}
	impl, err := s.factory(ctx, r.Params)
	if err != nil {
		return nil, statusError(fmt.Errorf("configure %q: %w", r.Params, err))
	}
	if impl == nil {
		return nil, status.Error(codes.Internal, "backend factory returned no backend")
	}
	s.impl = impl
	s.log.Debug("backend configured", "params", r.Params)
	resp := &pb.ConfigureResponse{}
	if r.ShmPath != "" && r.ShmSlots > 0 && r.ShmSlots <= maxShmSlots && r.ShmSlotSize > 0 && r.ShmSlotSize <= maxShmSlotSize && r.ShmSlotSize%4 == 0 {
		a, err := mapArena(r.ShmPath, int(r.ShmSlots), int(r.ShmSlotSize))
		if err != nil {
			s.log.Debug("shared memory not mapped; full distributions travel inline", "error", err)
		} else {
			s.shm = a
			resp.Shm = true
		}
	}
	return resp, nil
}

// Info implements pb.BackendServer.
func (s *backendServer) Info(ctx context.Context, _ *pb.InfoRequest) (*pb.InfoResponse, error) {
	b, err := s.be()
	if err != nil {
		return nil, err
	}
	in, err := b.Info(ctx)
	if err != nil {
		return nil, statusError(err)
	}
	return infoToProto(in), nil
}

// Tokenize implements pb.BackendServer.
func (s *backendServer) Tokenize(ctx context.Context, r *pb.TokenizeRequest) (*pb.TokenizeResponse, error) {
	b, err := s.be()
	if err != nil {
		return nil, err
	}
	ids, err := b.Tokenize(ctx, r.Text, r.AddSpecial, r.ParseSpecial)
	if err != nil {
		return nil, statusError(err)
	}
	return &pb.TokenizeResponse{Ids: ids}, nil
}

// Detokenize implements pb.BackendServer.
func (s *backendServer) Detokenize(ctx context.Context, r *pb.DetokenizeRequest) (*pb.DetokenizeResponse, error) {
	b, err := s.be()
	if err != nil {
		return nil, err
	}
	text, err := b.Detokenize(ctx, r.Ids)
	if err != nil {
		return nil, statusError(err)
	}
	return &pb.DetokenizeResponse{Text: text}, nil
}

// Pieces implements pb.BackendServer.
func (s *backendServer) Pieces(ctx context.Context, r *pb.PiecesRequest) (*pb.PiecesResponse, error) {
	b, err := s.be()
	if err != nil {
		return nil, err
	}
	ps, err := b.Pieces(ctx, r.Ids)
	if err != nil {
		return nil, statusError(err)
	}
	return &pb.PiecesResponse{Pieces: ps}, nil
}

// Open implements pb.BackendServer.
func (s *backendServer) Open(ctx context.Context, _ *pb.OpenRequest) (*pb.OpenResponse, error) {
	b, err := s.be()
	if err != nil {
		return nil, err
	}
	seq, err := b.Open(ctx)
	if err != nil {
		return nil, statusError(err)
	}
	return &pb.OpenResponse{Seq: uint64(seq)}, nil
}

// Step implements pb.BackendServer: the whole batch in one call.
func (s *backendServer) Step(ctx context.Context, r *pb.StepRequest) (*pb.StepResponse, error) {
	b, err := s.be()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	shm := s.shm
	s.mu.Unlock()
	in := make([]backend.StepInput, len(r.Inputs))
	for i, x := range r.Inputs {
		if x == nil {
			return nil, status.Errorf(codes.InvalidArgument, "step input %d missing", i)
		}
		in[i] = backend.StepInput{Seq: backend.SeqID(x.Seq), Tokens: x.Tokens, TopK: int(x.TopK), AllPositions: x.AllPositions}
	}
	out, err := b.Step(ctx, in)
	if err != nil {
		return nil, statusError(err)
	}
	if len(out) != len(in) {
		return nil, status.Errorf(codes.Internal, "backend returned %d outputs for %d inputs", len(out), len(in))
	}
	var slot []byte
	if r.UseShm && shm != nil && int(r.ShmSlot) < shm.slots && shm.use() {
		defer shm.done()
		slot = shm.slot(int(r.ShmSlot))
	}
	cursor := 0
	resp := &pb.StepResponse{Outputs: make([]*pb.StepOutput, len(out))}
	for i := range out {
		o := &pb.StepOutput{Dists: make([]*pb.Dist, len(out[i].Dists))}
		for j := range out[i].Dists {
			d := &out[i].Dists[j]
			if slot != nil {
				if off, ok := writeFloats(slot, &cursor, d.Full); ok {
					m := distToProto(d, false)
					m.FullShm, m.FullShmOffset, m.FullShmCount = true, uint64(off), uint32(len(d.Full))
					o.Dists[j] = m
					continue
				}
			}
			o.Dists[j] = distToProto(d, true)
		}
		resp.Outputs[i] = o
	}
	return resp, nil
}

// Fork implements pb.BackendServer.
func (s *backendServer) Fork(ctx context.Context, r *pb.ForkRequest) (*pb.ForkResponse, error) {
	b, err := s.be()
	if err != nil {
		return nil, err
	}
	seq, err := b.Fork(ctx, backend.SeqID(r.Seq))
	if err != nil {
		return nil, statusError(err)
	}
	return &pb.ForkResponse{Seq: uint64(seq)}, nil
}

// Truncate implements pb.BackendServer.
func (s *backendServer) Truncate(ctx context.Context, r *pb.TruncateRequest) (*pb.TruncateResponse, error) {
	b, err := s.be()
	if err != nil {
		return nil, err
	}
	if r.N < 0 || r.N > math.MaxInt32 {
		return nil, status.Errorf(codes.InvalidArgument, "truncate position %d out of range", r.N)
	}
	if err := b.Truncate(ctx, backend.SeqID(r.Seq), int(r.N)); err != nil {
		return nil, statusError(err)
	}
	return &pb.TruncateResponse{}, nil
}

// Free implements pb.BackendServer.
func (s *backendServer) Free(ctx context.Context, r *pb.FreeRequest) (*pb.FreeResponse, error) {
	b, err := s.be()
	if err != nil {
		return nil, err
	}
	if err := b.Free(ctx, backend.SeqID(r.Seq)); err != nil {
		return nil, statusError(err)
	}
	return &pb.FreeResponse{}, nil
}

// Close implements pb.BackendServer.
func (s *backendServer) Close(context.Context, *pb.CloseRequest) (*pb.CloseResponse, error) {
	s.mu.Lock()
	b := s.impl
	s.impl = nil
	shm := s.shm
	s.shm = nil
	s.mu.Unlock()
	if shm != nil {
		_ = shm.close()
	}
	if b == nil {
		return &pb.CloseResponse{}, nil
	}
	if err := b.Close(); err != nil {
		return nil, statusError(err)
	}
	return &pb.CloseResponse{}, nil
}

// routerServer serves the Router service: instances by handle.
type routerServer struct {
	pb.UnimplementedRouterServer
	meta    metaServer
	factory RouterFactory
	log     *slog.Logger

	mu        sync.Mutex
	next      uint64
	instances map[uint64]*routerInstance
}

type routerInstance struct {
	r    route.Router
	full bool
}

// FullDistReader is an optional interface of a route.Router served as a
// plugin: a router whose ReadsFullDist returns true receives Dist.Full in
// its views (otherwise only the top-k candidates travel, which is far
// cheaper for large vocabularies).
type FullDistReader interface {
	// ReadsFullDist reports whether Decide reads View.Base.Full or
	// View.Aligned.Full.
	ReadsFullDist() bool
}

func newRouterServer(meta metaServer, f RouterFactory, log *slog.Logger) *routerServer {
	return &routerServer{meta: meta, factory: f, log: log, instances: map[uint64]*routerInstance{}}
}

func (s *routerServer) register(g *grpc.Server) {
	pb.RegisterPluginServer(g, &s.meta)
	pb.RegisterRouterServer(g, s)
}

// maxRouterInstances bounds the instances one router process holds.
const maxRouterInstances = 1 << 16

// OpenRouter implements pb.RouterServer.
func (s *routerServer) OpenRouter(_ context.Context, r *pb.OpenRouterRequest) (*pb.OpenRouterResponse, error) {
	rt, err := s.factory(r.Params)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	if rt == nil {
		return nil, status.Error(codes.Internal, "router factory returned no router")
	}
	inst := &routerInstance{r: rt}
	if fr, ok := rt.(FullDistReader); ok {
		inst.full = fr.ReadsFullDist()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.instances) >= maxRouterInstances {
		return nil, status.Errorf(codes.ResourceExhausted, "router plugin holds %d instances already", len(s.instances))
	}
	s.next++
	s.instances[s.next] = inst
	n := rt.Needs()
	s.log.Debug("router opened", "params", r.Params, "name", rt.Name())
	return &pb.OpenRouterResponse{Handle: s.next, Name: rt.Name(), NeedsBase: n.Base, NeedsAligned: n.Aligned, WantsFull: inst.full}, nil
}

// Decide implements pb.RouterServer.
func (s *routerServer) Decide(ctx context.Context, r *pb.DecideRequest) (*pb.DecideResponse, error) {
	s.mu.Lock()
	inst, ok := s.instances[r.Handle]
	s.mu.Unlock()
	if !ok {
		return nil, status.Errorf(codes.NotFound, "no router instance %d (open it first)", r.Handle)
	}
	views := make([]route.View, len(r.Views))
	for i, m := range r.Views {
		v, err := viewFromProto(m)
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "view %d: %v", i, err)
		}
		views[i] = v
	}
	out := make([]route.Decision, len(views))
	if err := inst.r.Decide(ctx, views, out); err != nil {
		return nil, statusError(err)
	}
	resp := &pb.DecideResponse{Weights: make([]float64, len(out))}
	for i, d := range out {
		resp.Weights[i] = d.Weight
	}
	return resp, nil
}

// CloseRouter implements pb.RouterServer.
func (s *routerServer) CloseRouter(_ context.Context, r *pb.CloseRouterRequest) (*pb.CloseRouterResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.instances[r.Handle]; !ok {
		return nil, status.Errorf(codes.NotFound, "no router instance %d", r.Handle)
	}
	delete(s.instances, r.Handle)
	return &pb.CloseRouterResponse{}, nil
}
