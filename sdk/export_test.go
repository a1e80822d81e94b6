package sdk

import (
	pb "github.com/licensegw/licensegw/sdk/proto"
)

// NewSessionClient exposes the plugin side of the Session stream to the
// external tests.
func NewSessionClient(stream pb.Seats_SessionClient, onEnd func(error)) Seats {
	return newSessionClient(stream, onEnd)
}
