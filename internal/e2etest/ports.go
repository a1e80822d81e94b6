package e2etest

import (
	"errors"
	"io"
	"net"
	"strings"
)

// ErrNoPort is returned when no port free for both TCP and UDP was found.
var ErrNoPort = errors.New("no loopback port free for both TCP and UDP")

// A reservation holds a loopback port bound (TCP, UDP or both) until the
// process meant to listen there starts: while it is held, the kernel gives
// that port to no other socket, in this process (a route proxy, another
// gateway's port) or in another (a test run side by side). A port picked
// and released at once could be taken before the daemon bound it.
type reservation struct {
	addr  string
	socks []io.Closer
}

// release lets the port go, for the daemon to bind.
func (r reservation) release() {
	for _, s := range r.socks {
		s.Close()
	}
}

// reserver picks and holds a free port.
type reserver func() (reservation, error)

func reserveTCP() (reservation, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return reservation{}, err
	}
	return reservation{addr: l.Addr().String(), socks: []io.Closer{l}}, nil
}

func reserveUDP() (reservation, error) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return reservation{}, err
	}
	return reservation{addr: c.LocalAddr().String(), socks: []io.Closer{c}}, nil
}

// reserveTCPUDP holds a port free for both TCP and UDP, for listeners that
// share a port number.
func reserveTCPUDP() (reservation, error) {
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return reservation{}, err
		}
		addr := l.Addr().String()
		u, err := net.ListenPacket("udp", addr)
		if err != nil {
			l.Close()
			continue // the UDP port of that number is taken: try another
		}
		return reservation{addr: addr, socks: []io.Closer{l, u}}, nil
	}
	return reservation{}, ErrNoPort
}

// free is a reserver's address, released at once.
func free(reserve reserver) (string, error) {
	r, err := reserve()
	if err != nil {
		return "", err
	}
	r.release()
	return r.addr, nil
}

// FreeTCPAddr returns a loopback address whose TCP port was free a moment
// ago (the kernel picked it for a listener that is closed again). Another
// socket may take it before the caller binds it: gateways started with
// this package hold their ports until the daemon starts instead, and start
// again on other ports if one was taken all the same.
func FreeTCPAddr() (string, error) { return free(reserveTCP) }

// FreeUDPAddr returns a loopback address whose UDP port was free a moment
// ago.
func FreeUDPAddr() (string, error) { return free(reserveUDP) }

// FreeTCPUDPAddr returns a loopback address whose port is free for both TCP
// and UDP, for listeners that share a port number.
func FreeTCPUDPAddr() (string, error) { return free(reserveTCPUDP) }

// bindFailed says whether a daemon's output reports a listener it could
// not bind because the port was taken.
func bindFailed(output string) bool {
	return strings.Contains(output, "address already in use")
}
