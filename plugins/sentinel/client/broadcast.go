package client

import (
	"context"
	"net"
	"syscall"
)

// listenBroadcast opens a UDP socket allowed to send to broadcast
// addresses.
func listenBroadcast(addr string) (net.PacketConn, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = setBroadcast(fd)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	return lc.ListenPacket(context.Background(), "udp", addr)
}
