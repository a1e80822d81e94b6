package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/licensegw/licensegw/sdk"
)

const (
	// configureTimeout bounds a plugin's Info and Configure calls.
	configureTimeout = 30 * time.Second
	// exitPoll is how often the supervisor looks for a plugin's exit;
	// go-plugin offers no exit notification.
	exitPoll = 50 * time.Millisecond
	// stableAfter is how long a plugin must run before its restart
	// backoff starts again from the minimum.
	stableAfter = 10 * time.Second
)

// instance is one supervised plugin.
type instance struct {
	spec    Spec
	opts    *Options
	log     hclog.Logger
	dataDir string
	seats   sdk.Seats
	socks   []*socket

	mu      sync.Mutex
	proc    *process // nil while none runs
	started time.Time
	status  PluginStatus
}

func (in *instance) snapshot() PluginStatus {
	in.mu.Lock()
	defer in.mu.Unlock()
	s := in.status
	s.Listeners = maps.Clone(s.Listeners)
	return s
}

func (in *instance) setState(state string, err error) {
	in.status.State, in.status.Since = state, time.Now()
	if err != nil {
		in.status.LastError = err.Error()
	}
}

// start launches and configures one plugin process.
func (in *instance) start(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, configureTimeout)
	defer cancel()
	p, err := launch(ctx, command{
		path: in.spec.Path, dir: in.spec.Dir, args: in.spec.Args, sum: in.spec.SHA256,
		gomaxprocs: in.spec.GOMAXPROCS, files: files(in.socks),
	}, in.log)
	if err != nil {
		return err
	}
	if err := in.configure(ctx, p); err != nil {
		p.kill()
		return err
	}
	in.mu.Lock()
	in.proc, in.started = p, time.Now()
	in.status.PID = p.pid
	in.setState(StateRunning, nil)
	restarts := in.status.Restarts
	in.mu.Unlock()
	in.log.Info("plugin started", "pid", p.pid, "protocol", in.spec.Info.Name, "restarts", restarts)
	in.event(ctx, "started", map[string]any{
		"pid": p.pid, "protocol": in.spec.Info.Name, "version": in.spec.Info.Version,
		"restarts": restarts, "listeners": listenerAddrs(in.socks),
	})
	return nil
}

func (in *instance) configure(ctx context.Context, p *process) error {
	info, err := p.remote.Info(ctx)
	if err != nil {
		return err
	}
	if _, err := negotiate(info); err != nil {
		return err
	}
	if info.Name != in.spec.Info.Name {
		return fmt.Errorf("plugin binary now serves protocol %q, was described as %q", info.Name, in.spec.Info.Name)
	}
	return p.remote.Configure(ctx, sdk.Configuration{
		Name:        in.spec.Name,
		Config:      in.spec.Config,
		Listeners:   inherited(in.socks),
		DataDir:     in.dataDir,
		Seats:       in.seats,
		Logger:      in.log.Named("seats"),
		Allow:       in.spec.Allow,
		StatusAllow: in.spec.StatusAllow,
		// The seat calls take the data plane, its frames on pipes, unless
		// the operator asks for the gRPC stream or for the data plane's
		// socket (to compare, or to rule the data plane or its pipes out).
		GRPCSeatsOnly: os.Getenv(EnvSeatsTransport) == "grpc",
		SocketFrames:  os.Getenv(EnvSeatsTransport) == "socket",
	})
}

// EnvSeatsTransport names the environment variable that, set to "grpc",
// keeps plugins' seat calls on the go-plugin gRPC stream instead of the
// Seats data plane, and set to "socket", keeps the data plane's frames on
// its unix socket instead of pipes.
const EnvSeatsTransport = "LICENSEGW_SEATS_TRANSPORT"

func (in *instance) event(ctx context.Context, what string, info map[string]any) {
	if in.opts.Lifecycle != nil {
		in.opts.Lifecycle(ctx, in.spec.Name, what, info)
	}
}

// supervise restarts the plugin whenever it exits, until ctx is done.
func (in *instance) supervise(ctx context.Context) {
	delay := in.opts.Backoff.Min
	for {
		if !in.waitExit(ctx) {
			return
		}
		in.mu.Lock()
		p, uptime := in.proc, time.Since(in.started)
		in.proc = nil
		in.status.PID = 0
		in.setState(StateRestarting, fmt.Errorf("plugin process %d exited after %v", p.pid, uptime.Round(time.Millisecond)))
		in.mu.Unlock()
		p.kill() // reap go-plugin's goroutines
		in.log.Warn("plugin exited; restarting", "pid", p.pid, "uptime", uptime, "delay", delay)
		in.event(ctx, "exited", map[string]any{"pid": p.pid, "uptime": uptime.String(), "restart_in": delay.String()})
		if uptime >= stableAfter {
			delay = in.opts.Backoff.Min
		}
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(delay):
			}
			delay = min(delay*2, in.opts.Backoff.Max)
			in.mu.Lock()
			in.status.Restarts++
			in.mu.Unlock()
			err := in.start(ctx)
			if err == nil {
				break
			}
			in.log.Error("plugin restart failed", "error", err, "retry_in", delay)
			in.mu.Lock()
			in.setState(StateRestarting, err)
			in.mu.Unlock()
		}
	}
}

// waitExit waits for the running process to exit; it reports false when
// ctx ended first.
func (in *instance) waitExit(ctx context.Context) bool {
	in.mu.Lock()
	p := in.proc
	in.mu.Unlock()
	if p == nil {
		return ctx.Err() == nil
	}
	t := time.NewTicker(exitPoll)
	defer t.Stop()
	for !p.client.Exited() {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
	return true
}

// shutdown stops the plugin gracefully, kills it if ctx ends first, and
// closes its sockets. Supervision must be over.
func (in *instance) shutdown(ctx context.Context) error {
	in.mu.Lock()
	p := in.proc
	in.proc = nil
	in.mu.Unlock()
	var err error
	if p != nil && !p.client.Exited() {
		if err = p.remote.Stop(ctx); err != nil && !errors.Is(err, sdk.ErrServe) {
			in.log.Warn("plugin did not stop in time; killing it", "pid", p.pid, "error", err)
			p.killNow()
		} else {
			p.kill()
		}
		in.event(context.WithoutCancel(ctx), "exited", map[string]any{"pid": p.pid, "stopped": true})
	}
	closeAll(in.socks)
	in.mu.Lock()
	in.status.PID = 0
	in.setState(StateStopped, nil)
	in.mu.Unlock()
	if err != nil {
		return fmt.Errorf("plugin %q: %w", in.spec.Name, err)
	}
	return nil
}
