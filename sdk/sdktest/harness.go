package sdktest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/licensegw/licensegw/sdk"
)

// StopTimeout is how long Serve may take to return after its context is
// cancelled.
const StopTimeout = 5 * time.Second

// Harness is a plugin serving in-process on 127.0.0.1 random ports, as Run
// starts it.
type Harness struct {
	// Env is what the plugin's Serve was given.
	Env *sdk.Env

	addrs  map[string]string
	cancel context.CancelFunc
	done   chan struct{}

	once sync.Once
	err  error // Serve's result, once done is closed
}

// Run binds p's listeners on 127.0.0.1 random ports, and runs p.Serve with
// seats and the config values cfg (numbers may be given as int), after
// applying opts. Cleanup cancels Serve and fails the test unless it
// returns within StopTimeout without an error.
func Run(t testing.TB, p sdk.Protocol, seats sdk.Seats, cfg map[string]any, opts ...Option) *Harness {
	t.Helper()
	h, err := start(p, seats, cfg, t.TempDir(), testLogger(t), opts...)
	if err != nil {
		t.Fatalf("sdktest.Run: %v", err)
	}
	t.Cleanup(func() {
		if err := h.Stop(); err != nil {
			t.Errorf("plugin %s: %v", p.Info().Name, err)
		}
	})
	return h
}

// Option changes the Env a plugin is served with, after its sockets are
// bound and before Serve.
type Option func(env *sdk.Env) error

// WithAccess serves the plugin with a plugin block's allow and
// status_allow, applied as the SDK applies them under a gateway: the
// sockets refuse what allow does not admit, and Env.Access answers the
// plugin's CheckStatus. Loopback addresses other than 127.0.0.1 (a
// net.Dialer with LocalAddr 127.0.0.2, say) play other hosts.
func WithAccess(allow, statusAllow []string) Option {
	return func(env *sdk.Env) error {
		a, err := sdk.NewAccess(allow, statusAllow, env.Metrics)
		if err != nil {
			return err
		}
		env.Access = a
		a.Guard(env, env.Logger)
		return nil
	}
}

// start binds the listeners and starts Serve.
func start(p sdk.Protocol, seats sdk.Seats, cfg map[string]any, dataDir string, log hclog.Logger, opts ...Option) (*Harness, error) {
	info := p.Info()
	env := &sdk.Env{
		Name:        info.Name,
		Config:      sdk.NewConfig(normalize(cfg)),
		Listeners:   map[string]net.Listener{},
		PacketConns: map[string]net.PacketConn{},
		Seats:       seats,
		Logger:      log,
		DataDir:     dataDir,
		Metrics:     sdk.NewMetrics(),
	}
	h := &Harness{Env: env, addrs: map[string]string{}, done: make(chan struct{})}
	for _, l := range info.Listeners {
		switch l.Network {
		case "tcp":
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				closeAll(env)
				return nil, fmt.Errorf("listener %q: %w", l.Name, err)
			}
			env.Listeners[l.Name], h.addrs[l.Name] = ln, ln.Addr().String()
		case "udp":
			pc, err := net.ListenPacket("udp", "127.0.0.1:0")
			if err != nil {
				closeAll(env)
				return nil, fmt.Errorf("listener %q: %w", l.Name, err)
			}
			env.PacketConns[l.Name], h.addrs[l.Name] = pc, pc.LocalAddr().String()
		default:
			closeAll(env)
			return nil, fmt.Errorf("listener %q: unsupported network %q", l.Name, l.Network)
		}
	}
	for _, o := range opts {
		if err := o(env); err != nil {
			closeAll(env)
			return nil, err
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() {
		defer close(h.done)
		h.err = p.Serve(ctx, env)
	}()
	return h, nil
}

// Addr is the address the named listener is bound to, e.g. "127.0.0.1:41234".
func (h *Harness) Addr(name string) string { return h.addrs[name] }

// Done is closed when Serve has returned.
func (h *Harness) Done() <-chan struct{} { return h.done }

// Stop cancels Serve and waits up to StopTimeout for it to return. It
// returns an error if Serve did not return in time or returned an error
// other than the context's. Stop may be called more than once.
func (h *Harness) Stop() error {
	h.once.Do(func() {
		h.cancel()
		select {
		case <-h.done:
			if h.err != nil && !errors.Is(h.err, context.Canceled) {
				h.err = fmt.Errorf("Serve returned %w", h.err)
			} else {
				h.err = nil
			}
		case <-time.After(StopTimeout):
			h.err = fmt.Errorf("Serve did not return within %v of cancellation", StopTimeout)
		}
	})
	return h.err
}

func closeAll(env *sdk.Env) {
	for _, l := range env.Listeners {
		_ = l.Close()
	}
	for _, c := range env.PacketConns {
		_ = c.Close()
	}
}

// normalize turns the Go literals a test writes into the types sdk.Config
// holds: ints become float64 Numbers.
func normalize(cfg map[string]any) map[string]any {
	out := make(map[string]any, len(cfg))
	for k, v := range cfg {
		switch v := v.(type) {
		case int:
			out[k] = float64(v)
		case int64:
			out[k] = float64(v)
		default:
			out[k] = v
		}
	}
	return out
}

// testLogger logs through the test's output.
func testLogger(t testing.TB) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: "plugin", Output: t.Output(), Level: hclog.Debug})
}
