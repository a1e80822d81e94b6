package sdk

import (
	"net"

	"github.com/hashicorp/go-hclog"
)

// Guard applies allow to every socket in env: each listener and packet
// conn is replaced by one that refuses clients allow does not admit before
// the plugin sees them. The SDK calls it before Protocol.Serve; a plugin's
// own tests may call it on an Env they built (sdktest does). A nil or
// unrestricted Access leaves env as it is, so an open plugin pays nothing.
// Refusals are counted in access_denied_total{listener=<name>} and logged
// at debug level (a flood must not flood the log; the counter tells).
func (a *Access) Guard(env *Env, log hclog.Logger) {
	if !a.Restricted() {
		return
	}
	if log == nil {
		log = hclog.NewNullLogger()
	}
	const help = "Connections closed and datagrams dropped because the plugin's allow list does not admit their source."
	for name, ln := range env.Listeners {
		env.Listeners[name] = &guardedListener{
			Listener: ln, access: a, log: log.With("listener", name),
			denied: a.metrics.Counter("access_denied_total", help, "listener", name),
		}
	}
	for name, pc := range env.PacketConns {
		env.PacketConns[name] = &guardedPacketConn{
			PacketConn: pc, access: a, log: log.With("listener", name),
			denied: a.metrics.Counter("access_denied_total", help, "listener", name),
		}
	}
}

// guardedListener accepts only the clients its Access admits; the others
// are reset (linger 0: no TIME_WAIT left behind, and the client sees a
// refusal rather than a server that hangs up after a while).
type guardedListener struct {
	net.Listener
	access *Access
	denied *Counter
	log    hclog.Logger
}

// Accept returns the next admitted connection.
func (l *guardedListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.access.Allows(c.RemoteAddr()) {
			return c, nil
		}
		l.denied.Inc()
		l.log.Debug("connection refused by allow", "remote", c.RemoteAddr())
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		_ = c.Close()
	}
}

// guardedPacketConn reads only the datagrams whose source its Access
// admits; the others are dropped unanswered (an answer, even an error,
// would help a scanner and could be aimed at a spoofed victim).
type guardedPacketConn struct {
	net.PacketConn
	access *Access
	denied *Counter
	log    hclog.Logger
}

// ReadFrom returns the next admitted datagram.
func (c *guardedPacketConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.PacketConn.ReadFrom(p)
		if err != nil || c.access.Allows(addr) {
			return n, addr, err
		}
		c.denied.Inc()
		c.log.Debug("datagram dropped by allow", "remote", addr)
	}
}
