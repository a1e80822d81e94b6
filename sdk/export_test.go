package sdk

import (
	"os"

	pb "github.com/licensegw/licensegw/sdk/proto"
)

// NewSessionClient exposes the plugin side of the Session stream to the
// external tests.
func NewSessionClient(stream pb.Seats_SessionClient, onEnd func(error)) Seats {
	return newSessionClient(stream, onEnd)
}

// NewTestGRPCPlugin is a GRPCPlugin whose inherited sockets come from open
// and whose process exit is reported to exit, for in-process tests.
func NewTestGRPCPlugin(p Protocol, open func(index uint32, name string) (*os.File, error), exit func(code int, why string)) *GRPCPlugin {
	return &GRPCPlugin{Impl: p, openFile: open, exit: exit}
}
