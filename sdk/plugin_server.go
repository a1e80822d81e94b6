package sdk

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	pb "github.com/licensegw/licensegw/sdk/proto"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// stopTimeout bounds Stop's wait for Serve when the host set no deadline.
const stopTimeout = 30 * time.Second

// pluginServer is the Plugin service in the plugin process: it runs
// Protocol.Serve in the background between Configure and Stop.
type pluginServer struct {
	pb.UnimplementedPluginServer
	impl     Protocol
	broker   *plugin.GRPCBroker
	log      hclog.Logger
	exit     func(code int, why string)
	openFile func(index uint32, name string) (*os.File, error)
	metrics  *Metrics // lives as long as the process: counters survive nothing else

	mu       sync.Mutex
	started  bool
	stopping bool
	cancel   context.CancelFunc
	done     chan struct{} // closed when Serve has returned
	serveErr error
	seats    *seatsLink
	conn     *grpc.ClientConn
}

func (s *pluginServer) Info(context.Context, *pb.InfoRequest) (*pb.InfoResponse, error) {
	info := s.impl.Info()
	info.Capabilities = capabilities(s.impl)
	return infoToPB(info), nil
}

// capabilities are the optional interfaces impl implements, by name.
func capabilities(impl Protocol) []string {
	var caps []string
	if _, ok := impl.(Importer); ok {
		caps = append(caps, CapImport)
	}
	if _, ok := impl.(ConfigValidator); ok {
		caps = append(caps, CapValidateConfig)
	}
	return caps
}

func (s *pluginServer) Import(ctx context.Context, req *pb.ImportRequest) (*pb.ImportResponse, error) {
	imp, ok := s.impl.(Importer)
	if !ok {
		return nil, status.Error(codes.Unimplemented, "the plugin imports nothing")
	}
	res, err := imp.Import(ctx, ImportRequest{
		Format: req.GetFormat(), Config: configFromPB(req.GetConfig()), Dir: req.GetDir(), Name: req.GetName(),
	})
	if err != nil {
		return nil, status.Error(codes.Unknown, err.Error())
	}
	if res == nil {
		res = &ImportResult{}
	}
	resp, err := importResultToPB(res)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return resp, nil
}

func (s *pluginServer) ValidateConfig(ctx context.Context, req *pb.ValidateConfigRequest) (*pb.ValidateConfigResponse, error) {
	v, ok := s.impl.(ConfigValidator)
	if !ok {
		return nil, status.Error(codes.Unimplemented, "the plugin has no configuration checks")
	}
	diags := v.ValidateConfig(ctx, ValidateRequest{Name: req.GetName(), Config: configFromPB(req.GetConfig()), Dir: req.GetDir()})
	return &pb.ValidateConfigResponse{Diagnostics: diagnosticsToPB(diags)}, nil
}

func (s *pluginServer) Configure(ctx context.Context, req *pb.ConfigureRequest) (*pb.ConfigureResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return nil, status.Error(codes.FailedPrecondition, "plugin already configured")
	}
	env := &Env{
		Name:        req.GetName(),
		Config:      configFromPB(req.GetConfig()),
		Listeners:   map[string]net.Listener{},
		PacketConns: map[string]net.PacketConn{},
		Logger:      s.log.Named(req.GetName()),
		DataDir:     req.GetDataDir(),
		Metrics:     s.metrics,
	}
	if err := s.openListeners(env, req.GetListeners()); err != nil {
		closeEnv(env)
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	access, err := NewAccess(req.GetAccess().GetAllow(), req.GetAccess().GetStatusAllow(), s.metrics)
	if err != nil {
		closeEnv(env)
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	env.Access = access
	access.Guard(env, env.Logger)

	conn, err := s.broker.Dial(req.GetSeatsBrokerId())
	if err != nil {
		closeEnv(env)
		return nil, status.Errorf(codes.Unavailable, "dial the gateway's Seats service: %v", err)
	}
	gone := func(err error) {
		s.mu.Lock()
		stopping := s.stopping
		s.mu.Unlock()
		if !stopping {
			// The gateway is gone: a plugin never outlives it.
			s.exit(3, fmt.Sprintf("the gateway's Seats session ended: %v", err))
		}
	}
	var link *seatsLink
	if sock := req.GetSeatsSocket(); sock != "" {
		// The data plane, when the gateway offers it; the broker's
		// stream stays the fallback.
		if link, err = newSeatsLink(framesOpener(sock, req.GetSeatsCookie(), req.GetSeatsPipes() && pipesSupported), s.log, gone); err != nil {
			s.log.Warn("the Seats data plane did not open; using the gRPC stream", "socket", sock, "error", err)
		}
	}
	if link == nil {
		link, err = newSeatsLink(grpcOpener(conn), s.log, gone)
	}
	if err != nil {
		_ = conn.Close()
		closeEnv(env)
		return nil, status.Errorf(codes.Unavailable, "%v", err)
	}
	s.conn = conn
	s.seats = link
	env.Seats = s.seats

	serveCtx, cancel := context.WithCancel(context.Background())
	s.started, s.cancel, s.done = true, cancel, make(chan struct{})
	go s.serve(serveCtx, env)
	return &pb.ConfigureResponse{}, nil
}

func (s *pluginServer) serve(ctx context.Context, env *Env) {
	defer close(s.done)
	err := s.impl.Serve(ctx, env)
	closeEnv(env) // whatever Serve left open
	s.mu.Lock()
	s.serveErr = err
	stopping := s.stopping
	s.mu.Unlock()
	if stopping || ctx.Err() != nil {
		return
	}
	// Serve ended on its own: the process exits and the gateway restarts it.
	if err == nil {
		err = errors.New("Serve returned before Stop")
	}
	s.exit(1, err.Error())
}

// openListeners turns the inherited descriptors into sockets.
func (s *pluginServer) openListeners(env *Env, ls []*pb.Listener) error {
	for _, l := range ls {
		f, err := s.openFile(l.GetFdIndex(), l.GetName())
		if err != nil {
			return err
		}
		switch l.GetNetwork() {
		case "tcp":
			ln, err := net.FileListener(f)
			_ = f.Close() // FileListener holds a duplicate
			if err != nil {
				return fmt.Errorf("listener %q (fd index %d): %w", l.GetName(), l.GetFdIndex(), err)
			}
			env.Listeners[l.GetName()] = ln
		case "udp":
			pc, err := net.FilePacketConn(f)
			_ = f.Close()
			if err != nil {
				return fmt.Errorf("listener %q (fd index %d): %w", l.GetName(), l.GetFdIndex(), err)
			}
			env.PacketConns[l.GetName()] = pc
		default:
			_ = f.Close()
			return fmt.Errorf("listener %q: unsupported network %q", l.GetName(), l.GetNetwork())
		}
	}
	return nil
}

func closeEnv(env *Env) {
	for _, l := range env.Listeners {
		_ = l.Close()
	}
	for _, c := range env.PacketConns {
		_ = c.Close()
	}
}

func (s *pluginServer) Stop(ctx context.Context, _ *pb.StopRequest) (*pb.StopResponse, error) {
	s.mu.Lock()
	s.stopping = true
	started, cancel, done := s.started, s.cancel, s.done
	s.mu.Unlock()
	if !started {
		return &pb.StopResponse{}, nil
	}
	ctx, stop := context.WithTimeout(ctx, stopTimeout)
	defer stop()
	cancel()
	select {
	case <-done:
	case <-ctx.Done():
		return nil, status.FromContextError(ctx.Err()).Err()
	}
	s.mu.Lock()
	err := s.serveErr
	seats, conn := s.seats, s.conn
	s.mu.Unlock()
	seats.close()
	_ = conn.Close()
	resp := &pb.StopResponse{}
	if err != nil && !errors.Is(err, context.Canceled) {
		resp.Error = err.Error()
	}
	return resp, nil
}

// Metrics reports the plugin's metrics (Env.Metrics).
func (s *pluginServer) Metrics(context.Context, *pb.MetricsRequest) (*pb.MetricsResponse, error) {
	return metricsToPB(append(s.metrics.Snapshot(), processMetrics()...)), nil
}
