package e2etest

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"text/template"
)

// templateData is what a configuration template sees as its dot. Its
// address methods pick a free port the first time a name is used and give
// the same address for the same name afterwards, so a template may name a
// listener twice (a TCP and a UDP listener on one port) and the test reads
// the address back with Gateway.Addr.
type templateData struct {
	g *Gateway
}

// Bin is the path of the built executable name.
func (d templateData) Bin(name string) string { return d.g.opts.Bins.Path(name) }

// Dir is the gateway's directory: where config.hcl and copied files are.
func (d templateData) Dir() string { return d.g.Dir }

// Path is the absolute path of name inside the gateway's directory.
func (d templateData) Path(name string) string { return filepath.Join(d.g.Dir, name) }

// TCP is a free loopback TCP address, named name.
func (d templateData) TCP(name string) (string, error) { return d.g.alloc(name, reserveTCP) }

// UDP is a free loopback UDP address, named name.
func (d templateData) UDP(name string) (string, error) { return d.g.alloc(name, reserveUDP) }

// TCPUDP is a loopback address free for both TCP and UDP, named name.
func (d templateData) TCPUDP(name string) (string, error) { return d.g.alloc(name, reserveTCPUDP) }

// alloc returns the address named name, picking a free port with reserve
// the first time and holding it until the daemon starts (see reservation).
// A port this gateway already uses under another name is refused and
// picked again: a TCP port held does not keep the kernel from handing out
// the UDP port of the same number, and the admin API and NATS once came
// up on the same port and the daemon failed to start.
func (g *Gateway) alloc(name string, reserve reserver) (string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if a, ok := g.addrs[name]; ok {
		return a, nil
	}
	var refused []reservation // held until the loop ends, so not picked again
	defer func() {
		for _, r := range refused {
			r.release()
		}
	}()
	for range 100 {
		r, err := reserve()
		if err != nil {
			return "", fmt.Errorf("address %q: %w", name, err)
		}
		if !g.portTaken(r.addr) {
			g.addrs[name] = r.addr
			g.held[name] = r
			return r.addr, nil
		}
		refused = append(refused, r)
	}
	return "", fmt.Errorf("address %q: %w", name, ErrNoPort)
}

// releasePorts lets every port held for the daemon go, for it to bind
// them.
func (g *Gateway) releasePorts() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for name, r := range g.held {
		r.release()
		delete(g.held, name)
	}
}

// portTaken says whether a's port is already given to another name of this
// gateway (TCP and UDP alike: a test may share a number across both).
func (g *Gateway) portTaken(a string) bool {
	_, port, _ := net.SplitHostPort(a)
	for _, b := range g.addrs {
		if _, p, _ := net.SplitHostPort(b); p == port {
			return true
		}
	}
	return false
}

// natsBlock is the embedded server on its own port, with the harness's
// identity, or the external one.
func (g *Gateway) natsBlock() string {
	if g.opts.NATSURL != "" {
		return fmt.Sprintf("nats {\n  url = %q\n}\n", g.opts.NATSURL)
	}
	return fmt.Sprintf("nats {\n  embedded = true\n  listen   = %q\n%s%s\n}\n", g.NATSAddr, g.identityBlock(), g.opts.NATS)
}

// render is the whole configuration file: the blocks the harness needs
// (gateway, admin, nats on its own ports) and then the test's template.
func (g *Gateway) render(tmpl string) (string, error) {
	t, err := template.New("config.hcl").Option("missingkey=error").Parse(tmpl)
	if err != nil {
		return "", fmt.Errorf("config template: %w", err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `gateway {
  name     = %q
  data_dir = "./data"
}

admin {
  listen = %q
%s
}

%s
`, g.opts.Name, g.AdminAddr, g.opts.Admin, g.natsBlock())
	if err := t.Execute(&b, templateData{g}); err != nil {
		return "", fmt.Errorf("config template: %w", err)
	}
	b.WriteString("\n")
	return b.String(), nil
}
