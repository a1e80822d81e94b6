package pluginhost

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"

	"github.com/hashicorp/go-hclog"

	"github.com/licensegw/licensegw/sdk"
)

// socket is a listener the host bound for a plugin. The host keeps it open
// for as long as the plugin is configured, across restarts; the plugin
// process gets a duplicate of file.
type socket struct {
	name    string
	network string
	addr    string   // the address actually bound
	file    *os.File // what the plugin inherits
	conn    io.Closer
}

// bindAll binds every listener info asks for, at the address listen
// overrides it with, if any.
func bindAll(info sdk.Info, listen map[string]string) ([]*socket, error) {
	known := map[string]bool{}
	for _, l := range info.Listeners {
		known[l.Name] = true
	}
	for name := range listen {
		if !known[name] {
			return nil, fmt.Errorf("listen: plugin %s has no listener %q", info.Name, name)
		}
	}
	var socks []*socket
	for _, l := range info.Listeners {
		addr := l.Address
		if a, ok := listen[l.Name]; ok {
			addr = a
		}
		s, err := bind(l.Name, l.Network, addr)
		if err != nil {
			closeAll(socks)
			return nil, err
		}
		socks = append(socks, s)
	}
	return socks, nil
}

// filer is what *net.TCPListener and *net.UDPConn have in common.
type filer interface {
	File() (*os.File, error)
	io.Closer
}

func bind(name, network, addr string) (*socket, error) {
	var (
		conn  filer
		bound string
	)
	switch network {
	case "tcp":
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("listener %q: %w", name, err)
		}
		conn, bound = ln.(*net.TCPListener), ln.Addr().String()
	case "udp":
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, fmt.Errorf("listener %q: %w", name, err)
		}
		conn, bound = pc.(*net.UDPConn), pc.LocalAddr().String()
	default:
		return nil, fmt.Errorf("listener %q: unsupported network %q", name, network)
	}
	f, err := conn.File()
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("listener %q: %w", name, err)
	}
	return &socket{name: name, network: network, addr: bound, file: f, conn: conn}, nil
}

// exposed reports whether a bound address accepts clients from other
// hosts: anything but a loopback address (an unspecified one, 0.0.0.0 or
// ::, accepts from every interface).
func exposed(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return true
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}

// warnExposed warns about each socket that other hosts can reach while
// the plugin has no allow list: licence ports belong on internal networks
// only. Whoever reaches such a port can take seats (clients' user and host
// names are taken on trust) and, through status queries, list every
// product the company licenses and who uses it.
func warnExposed(log hclog.Logger, socks []*socket, allowed bool) {
	if allowed {
		return
	}
	for _, s := range socks {
		if exposed(s.addr) {
			log.Warn("licence port reachable from other hosts with no allow list: any host that reaches it can take seats under any user name and list every product licensed and who uses it; set allow (and status_allow) in the plugin block to the client networks, bind it to an internal interface, and filter it with a firewall (docs/security.md)",
				"listener", s.name, "network", s.network, "addr", s.addr)
		}
	}
}

func (s *socket) close() error {
	return errors.Join(s.file.Close(), s.conn.Close())
}

func closeAll(socks []*socket) {
	for _, s := range socks {
		_ = s.close()
	}
}

// files and inherited describe socks as the plugin process receives them.
func files(socks []*socket) []*os.File {
	fs := make([]*os.File, len(socks))
	for i, s := range socks {
		fs[i] = s.file
	}
	return fs
}

func inherited(socks []*socket) []sdk.InheritedListener {
	ls := make([]sdk.InheritedListener, len(socks))
	for i, s := range socks {
		ls[i] = sdk.InheritedListener{Name: s.name, Network: s.network, Address: s.addr, FDIndex: i}
	}
	return ls
}
