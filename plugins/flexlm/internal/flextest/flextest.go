package flextest

import (
	"net"
	"strconv"
	"testing"

	"github.com/licensegw/licensegw/plugins/flexlm"
	"github.com/licensegw/licensegw/sdk"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

// Server is a running plugin.
type Server struct {
	*sdktest.Harness
	Lmgrd  *net.TCPAddr
	Vendor *net.TCPAddr
}

// LmgrdSpec is the lmgrd address as port@host.
func (s *Server) LmgrdSpec() string { return strconv.Itoa(s.Lmgrd.Port) + "@127.0.0.1" }

// Start serves the plugin on 127.0.0.1 random ports with seats and config;
// sdktest.Run stops it when the test ends and fails the test if Serve does
// not return promptly and cleanly.
func Start(t testing.TB, seats sdk.Seats, config map[string]any) *Server {
	t.Helper()
	h := sdktest.Run(t, flexlm.New(), seats, config)
	addr := func(name string) *net.TCPAddr {
		a, err := net.ResolveTCPAddr("tcp", h.Addr(name))
		if err != nil {
			t.Fatalf("listener %s: %v", name, err)
		}
		return a
	}
	return &Server{Harness: h, Lmgrd: addr(flexlm.ListenerLmgrd), Vendor: addr(flexlm.ListenerVendor)}
}
