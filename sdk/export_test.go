package sdk

import (
	"os"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"

	pb "github.com/licensegw/licensegw/sdk/proto"
)

// NewSessionClient exposes the plugin side of the Session stream to the
// external tests.
func NewSessionClient(stream pb.Seats_SessionClient, onEnd func(error)) Seats {
	if onEnd == nil {
		return newSessionClient(stream, nil, nil)
	}
	return newSessionClient(stream, nil, func(_ *sessionClient, err error) { onEnd(err) })
}

// NewTestGRPCPlugin is a GRPCPlugin whose inherited sockets come from open
// and whose process exit is reported to exit, for in-process tests.
func NewTestGRPCPlugin(p Protocol, open func(index uint32, name string) (*os.File, error), exit func(code int, why string)) *GRPCPlugin {
	return &GRPCPlugin{Impl: p, openFile: open, exit: exit}
}

// SeatsLink is the plugin's reconnecting Seats, for the external tests.
type SeatsLink = seatsLink

// NewSeatsLink opens the plugin's reconnecting Seats on conn; gone is
// called when no session can be opened any more.
func NewSeatsLink(conn *grpc.ClientConn, gone func(error)) (*SeatsLink, error) {
	return newSeatsLink(grpcOpener(conn), hclog.NewNullLogger(), gone)
}

// Sessions is how many sessions l has opened.
func (l *seatsLink) Sessions() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sessions
}

// Close ends l for good.
func (l *seatsLink) Close() { l.close() }

// DropSessions closes every data-plane connection, as a broken socket
// would, while the server keeps listening.
func (s *FramesServer) DropSessions() {
	s.fs.mu.Lock()
	defer s.fs.mu.Unlock()
	for nc := range s.fs.conns {
		nc.Close()
	}
}

// Sessions is how many sessions c has opened.
func (c *SeatsClient) Sessions() int { return c.seatsLink.Sessions() }
