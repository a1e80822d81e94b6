package e2etest

import (
	"errors"
	"net"
)

// ErrNoPort is returned when no port free for both TCP and UDP was found.
var ErrNoPort = errors.New("no loopback port free for both TCP and UDP")

// FreeTCPAddr returns a loopback address whose TCP port was free a moment
// ago (the kernel picked it for a listener that is closed again).
func FreeTCPAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// FreeUDPAddr returns a loopback address whose UDP port was free a moment
// ago.
func FreeUDPAddr() (string, error) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer c.Close()
	return c.LocalAddr().String(), nil
}

// FreeTCPUDPAddr returns a loopback address whose port is free for both TCP
// and UDP, for listeners that share a port number.
func FreeTCPUDPAddr() (string, error) {
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", err
		}
		addr := l.Addr().String()
		u, err := net.ListenPacket("udp", addr)
		l.Close()
		if err != nil {
			continue // the UDP port of that number is taken: try another
		}
		u.Close()
		return addr, nil
	}
	return "", ErrNoPort
}
