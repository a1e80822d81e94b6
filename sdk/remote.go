package sdk

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	pb "github.com/licensegw/licensegw/sdk/proto"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Remote is the host's handle on a running plugin process, dispensed by
// go-plugin from PluginMap. Plugins never use it.
type Remote struct {
	client pb.PluginClient
	broker *plugin.GRPCBroker
	frames *framesServer // the Seats data plane, once configured
}

// Configuration is what the host hands a plugin process.
type Configuration struct {
	Name      string              // the plugin instance's name
	Config    Config              // the decoded config { } block
	Listeners []InheritedListener // the sockets passed as exec.Cmd.ExtraFiles
	DataDir   string
	Seats     Seats        // the accounting the plugin calls back into
	Logger    hclog.Logger // logs the Seats service's own troubles; may be nil

	// Allow and StatusAllow are the plugin block's allow and status_allow
	// lists (ParseAllowEntry syntax; empty: every address).
	Allow       []string
	StatusAllow []string
	// GRPCSeatsOnly keeps the seat calls on the go-plugin broker's gRPC
	// stream instead of the data plane (frames.go): for comparison and
	// diagnosis; plugins built with an SDK older than the data plane use
	// the stream anyway.
	GRPCSeatsOnly bool
	// SocketFrames keeps the data plane's frames on its unix socket
	// instead of pipes (frames_pipe.go): for comparison and diagnosis.
	SocketFrames bool
}

// InheritedListener describes a socket bound by the host and passed to the
// plugin process as exec.Cmd.ExtraFiles[FDIndex].
type InheritedListener struct {
	Name    string // ListenerSpec.Name
	Network string // "tcp" or "udp"
	Address string // the address actually bound
	FDIndex int
}

// Info asks the plugin to describe itself.
func (r *Remote) Info(ctx context.Context) (Info, error) {
	resp, err := r.client.Info(ctx, &pb.InfoRequest{})
	if err != nil {
		return Info{}, fmt.Errorf("plugin Info: %w", err)
	}
	return infoFromPB(resp), nil
}

// Configure serves c.Seats to the plugin over the go-plugin broker and
// starts the plugin's Serve. It is called once per plugin process.
func (r *Remote) Configure(ctx context.Context, c Configuration) error {
	if c.Seats == nil {
		return errors.New("plugin Configure: no Seats")
	}
	values, err := configToPB(c.Config)
	if err != nil {
		return fmt.Errorf("plugin Configure: %w", err)
	}
	id := r.broker.NextId()
	seats := newSessionServer(c.Seats, c.Logger)
	go r.broker.AcceptAndServe(id, func(opts []grpc.ServerOption) *grpc.Server {
		s := grpc.NewServer(opts...)
		pb.RegisterSeatsServer(s, seats)
		return s
	})
	req := &pb.ConfigureRequest{Name: c.Name, Config: values, SeatsBrokerId: id, DataDir: c.DataDir}
	if len(c.Allow)+len(c.StatusAllow) > 0 {
		req.Access = &pb.Access{Allow: c.Allow, StatusAllow: c.StatusAllow}
	}
	if !c.GRPCSeatsOnly && r.frames == nil {
		// Both serve the same sessionServer, so the plugin's queue
		// tickets follow it from one transport to the other.
		if r.frames, err = listenFrames(seats, seats.log); err != nil {
			return fmt.Errorf("plugin Configure: %w", err)
		}
		req.SeatsSocket, req.SeatsCookie = r.frames.socket(), r.frames.cookie
		req.SeatsPipes = pipesSupported && !c.SocketFrames
	}
	for _, l := range c.Listeners {
		req.Listeners = append(req.Listeners, &pb.Listener{
			Name: l.Name, Network: l.Network, Address: l.Address, FdIndex: uint32(l.FDIndex),
		})
	}
	if _, err := r.client.Configure(ctx, req); err != nil {
		return fmt.Errorf("plugin Configure: %w", err)
	}
	return nil
}

// Close ends the plugin's sessions on the data plane and removes its
// socket; the host calls it when the plugin process is gone.
func (r *Remote) Close() {
	if r.frames != nil {
		r.frames.close()
	}
}

// ErrServe wraps the error a plugin's Serve ended with, as Stop reports it.
var ErrServe = errors.New("plugin Serve failed")

// Stop asks the plugin to stop serving and waits until it has, or until
// ctx is done.
func (r *Remote) Stop(ctx context.Context) error {
	resp, err := r.client.Stop(ctx, &pb.StopRequest{})
	if err != nil {
		return fmt.Errorf("plugin Stop: %w", err)
	}
	if resp.GetError() != "" {
		return fmt.Errorf("%w: %s", ErrServe, resp.GetError())
	}
	return nil
}

// Metrics asks the plugin for its own metrics. A plugin built before the
// Metrics call existed has none: nil, no error.
func (r *Remote) Metrics(ctx context.Context) ([]Metric, error) {
	resp, err := r.client.Metrics(ctx, &pb.MetricsRequest{})
	if status.Code(err) == codes.Unimplemented {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("plugin Metrics: %w", err)
	}
	return metricsFromPB(resp), nil
}

// ErrUnsupported is returned by the optional calls (Import,
// ValidateConfig) of a plugin that does not implement them.
var ErrUnsupported = errors.New("the plugin does not implement this call")

// Import asks the plugin for the policy of vendor files (Importer).
func (r *Remote) Import(ctx context.Context, req ImportRequest) (*ImportResult, error) {
	values, err := configToPB(req.Config)
	if err != nil {
		return nil, fmt.Errorf("plugin Import: %w", err)
	}
	resp, err := r.client.Import(ctx, &pb.ImportRequest{Format: req.Format, Config: values, Dir: req.Dir, Name: req.Name})
	if status.Code(err) == codes.Unimplemented {
		return nil, fmt.Errorf("plugin Import: %w", ErrUnsupported)
	}
	if err != nil {
		return nil, fmt.Errorf("plugin Import: %s", status.Convert(err).Message())
	}
	res, err := importResultFromPB(resp)
	if err != nil {
		return nil, fmt.Errorf("plugin Import: %w", err)
	}
	return res, nil
}

// ValidateConfig asks the plugin to check its config block
// (ConfigValidator). A plugin without checks has nothing to say: nil, no
// error.
func (r *Remote) ValidateConfig(ctx context.Context, req ValidateRequest) ([]Diagnostic, error) {
	values, err := configToPB(req.Config)
	if err != nil {
		return nil, fmt.Errorf("plugin ValidateConfig: %w", err)
	}
	resp, err := r.client.ValidateConfig(ctx, &pb.ValidateConfigRequest{Name: req.Name, Config: values, Dir: req.Dir})
	if status.Code(err) == codes.Unimplemented {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("plugin ValidateConfig: %w", err)
	}
	return diagnosticsFromPB(resp.GetDiagnostics()), nil
}
