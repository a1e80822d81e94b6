// Package flextest runs the flexlm plugin on loopback ports for tests, with
// the Seats of the test's choosing.
package flextest

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/licensegw/licensegw/plugins/flexlm"
	"github.com/licensegw/licensegw/sdk"
)

// Server is a running plugin.
type Server struct {
	Lmgrd  *net.TCPAddr
	Vendor *net.TCPAddr
	Stop   context.CancelFunc // cancels Serve; Wait then returns its result

	done chan struct{}
	err  error
}

// Wait waits for Serve to return (at most 5s) and returns its result.
func (s *Server) Wait() error {
	select {
	case <-s.done:
		return s.err
	case <-time.After(5 * time.Second):
		return errors.New("Serve did not return within 5s")
	}
}

// LmgrdSpec is the lmgrd address as port@host.
func (s *Server) LmgrdSpec() string { return itoa(s.Lmgrd.Port) + "@127.0.0.1" }

func itoa(n int) string { return (&net.TCPAddr{Port: n}).String()[1:] }

// Start binds 127.0.0.1 random ports, serves the plugin on them with seats
// and config, and stops it when the test ends (failing the test if Serve
// does not return promptly).
func Start(t testing.TB, seats sdk.Seats, config map[string]any) *Server {
	t.Helper()
	listen := func() net.Listener {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	lm, vd := listen(), listen()
	env := &sdk.Env{
		Name:      "flexlm-test",
		Config:    sdk.NewConfig(config),
		Listeners: map[string]net.Listener{flexlm.ListenerLmgrd: lm, flexlm.ListenerVendor: vd},
		Seats:     seats,
		Logger:    hclog.NewNullLogger(),
		DataDir:   t.TempDir(),
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{Lmgrd: lm.Addr().(*net.TCPAddr), Vendor: vd.Addr().(*net.TCPAddr), Stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		s.err = flexlm.New().Serve(ctx, env)
	}()
	t.Cleanup(func() {
		cancel()
		if err := s.Wait(); err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("Serve: %v", err)
		}
	})
	return s
}
