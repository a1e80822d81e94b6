//go:build !unix

package sdk

import (
	"errors"
	"net"
)

// pipesSupported says whether this platform passes pipes: not here, so
// sessions keep their frames on the socket.
const pipesSupported = false

type pipeConn struct{ net.Conn }

func offerPipes(net.Conn) (*pipeConn, error) {
	return nil, errors.New("pipes are not passed on this platform")
}

// takePipes takes no pipes here: every byte after the cookie is a frame's.
func takePipes(net.Conn) (*pipeConn, []byte, error) { return nil, nil, nil }
