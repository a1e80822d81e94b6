package vendors

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/licensegw/licensegw/internal/e2etest"
	flexwire "github.com/licensegw/licensegw/plugins/flexlm/wire"
	relayclient "github.com/licensegw/licensegw/plugins/relay/client"
	"github.com/licensegw/licensegw/plugins/sentinel/wire"
)

// accessConfig runs every plugin on loopback ports; @ACL@ is replaced by
// the allow and status_allow lines of each plugin block. Clients choose
// their source address among 127.0.0.1, .2 and .3 (all loopback on
// Linux), so one machine plays client networks and monitoring hosts.
const accessConfig = `
feature "cad" {
  seats     = 10
  lease_ttl = "60s"
}

plugin "concurrentlm" {
  path   = "{{.Bin "licensegw-concurrentlm"}}"
  listen = { tcp = "{{.TCPUDP "clm"}}", udp = "{{.TCPUDP "clm"}}" }
  @ACL@
}

plugin "flexlm" {
  path   = "{{.Bin "licensegw-flexlm"}}"
  listen = { lmgrd = "{{.TCP "lmgrd"}}", vendor = "{{.TCP "vendor"}}" }
  @ACL@
  config {
    server_host = "e2ehost"
  }
}

plugin "sentinel" {
  path   = "{{.Bin "licensegw-sentinel"}}"
  listen = { udp = "{{.UDP "sentinel"}}" }
  @ACL@
  config {
    rate_limit = 100000
    rate_burst = 100000
  }
}
` + `
plugin "minimal" {
  path   = "{{.Bin "minimal-plugin"}}"
  listen = { tcp = "{{.TCP "minimal"}}" }
  @ACL@
}

plugin "relay" {
  path   = "{{.Bin "licensegw-relay"}}"
  listen = { http = "{{.TCP "relay"}}" }
  @ACL@
  config {
    pool = "cad"
    rate = 0
  }
}
`

// accessDeadline bounds every exchange: generous, for -race on a loaded
// machine; a refusal is never waited for by time alone.
const accessDeadline = 30 * time.Second

// TestAccessControl: with allow = ["127.0.0.1/32"], a client from
// 127.0.0.2 is refused by every plugin (examples/minimal-plugin too, which
// knows nothing of access control: the SDK applies it), over TCP (the connection is closed
// before a byte is answered) and UDP (the datagram is dropped), while one
// from 127.0.0.1 is served; each refusal is counted on /metrics. Then,
// with every loopback address allowed and status_allow = ["127.0.0.3/32"],
// 127.0.0.2 checks out on every plugin but its status queries (CLM/1
// STATUS over TCP and UDP, FlexLM SERVER_INFO and STATUS, Sentinel
// features, clients and discover) get each protocol's "not authorized"
// answer, 127.0.0.3's are answered, and lmstat and lsmon (run from
// 127.0.0.1) say why they got nothing.
func TestAccessControl(t *testing.T) {
	acl := func(lines string) string { return strings.ReplaceAll(accessConfig, "@ACL@", lines) }
	g := e2etest.Start(t, e2etest.Options{Bins: bins, Config: acl(`allow = ["127.0.0.1/32"]`)})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	t.Run("allow", func(t *testing.T) {
		clm, lmgrdAddr, vendorAddr := g.Addr("clm"), g.Addr("lmgrd"), g.Addr("vendor")

		// TCP: refused from .2, served from .1, on every TCP listener.
		hello, err := flexwire.New(flexwire.Hello, 1).Encode()
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range []struct {
			name, addr string
			msg        []byte
		}{{"clm", clm, []byte("PING id=1\n")}, {"lmgrd", lmgrdAddr, hello}, {"vendor", vendorAddr, hello}, {"minimal", g.Addr("minimal"), []byte("OUT cad ann h1\n")}} {
			if err := tcpAsk(l.addr, "127.0.0.2", l.msg); err == nil {
				t.Errorf("%s: a connection from 127.0.0.2 was served", l.name)
			}
		}
		for _, l := range []struct {
			name, addr string
			msg        []byte
		}{{"clm", clm, []byte("PING id=1\n")}, {"minimal", g.Addr("minimal"), []byte("OUT cad ann h1\n")}} {
			if err := tcpAsk(l.addr, "127.0.0.1", l.msg); err != nil {
				t.Errorf("%s from 127.0.0.1: %v", l.name, err)
			}
		}
		for _, addr := range []string{lmgrdAddr, vendorAddr} {
			if f, err := flexRequest(addr, "127.0.0.1", flexwire.New(flexwire.Hello, 1)); err != nil || f.Type != flexwire.HelloOK {
				t.Errorf("flexlm HELLO from 127.0.0.1 to %s: %v %v", addr, f, err)
			}
		}
		relayURL := "http://" + g.Addr("relay") + "/v1/health"
		if resp, err := httpFrom("127.0.0.2").Get(relayURL); err == nil {
			resp.Body.Close()
			t.Errorf("relay: a request from 127.0.0.2 was answered %s", resp.Status)
		}
		if resp, err := httpFrom("127.0.0.1").Get(relayURL); err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("relay health from 127.0.0.1: %v %v", resp, err)
		} else {
			resp.Body.Close()
		}

		// UDP: the datagram from .2 goes first; the answer to .1's, sent
		// after it to the same socket, shows it was read and dropped.
		refused := udpSocket(t, "127.0.0.2")
		send(t, refused, clm, []byte("PING id=r1"))
		if got := udpExchange(t, udpSocket(t, "127.0.0.1"), clm, []byte("PING id=a1"), accessDeadline); !strings.HasPrefix(got, "PONG") {
			t.Errorf("concurrent-lm UDP PING from 127.0.0.1: %q", got)
		}
		disc := sentinelRequest(t, &wire.Request{ID: 7, Type: wire.Discover}, 80)
		send(t, refused, g.Addr("sentinel"), disc)
		if r := sentinelExchange(t, udpSocket(t, "127.0.0.1"), g.Addr("sentinel"), disc); r.Status != wire.OK {
			t.Errorf("sentinel discover from 127.0.0.1: %v", r.Status)
		}
		_ = refused.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if n, _, err := refused.ReadFrom(make([]byte, 2048)); err == nil {
			t.Errorf("127.0.0.2 got a %d-byte answer over UDP", n)
		}

		// Every refusal counted, by plugin and listener.
		e2etest.Eventually(t, accessDeadline, "refusals counted", func() error {
			ms := g.Metrics()
			for _, w := range []struct{ plugin, listener string }{
				{"concurrentlm", "tcp"}, {"concurrentlm", "udp"}, {"flexlm", "lmgrd"}, {"flexlm", "vendor"},
				{"sentinel", "udp"}, {"relay", "http"}, {"minimal", "tcp"},
			} {
				v, err := ms.Value("licensegw_plugin_access_denied_total", map[string]string{"plugin": w.plugin, "listener": w.listener})
				if err != nil || v != 1 {
					return fmt.Errorf("%s %s: access_denied_total = %v (%v), want 1", w.plugin, w.listener, v, err)
				}
			}
			return nil
		})
	})

	g.Reconfigure(acl(`allow        = ["127.0.0.0/8"]
  status_allow = ["127.0.0.3/32"]`))
	g.Restart()

	t.Run("status_allow", func(t *testing.T) {
		clm := g.Addr("clm")
		// concurrent-lm over TCP: checkout yes, STATUS no, from .2; STATUS yes from .3.
		lines := clmSession(t, clm, "127.0.0.2", "CHECKOUT feature=cad user=ann host=h2 id=1", "STATUS id=2")
		if !strings.HasPrefix(lines[0], "GRANTED ") {
			t.Errorf("CHECKOUT from 127.0.0.2: %q", lines[0])
		}
		if !strings.HasPrefix(lines[1], "ERR code=not-authorized ") || !strings.HasSuffix(lines[1], " id=2") {
			t.Errorf("STATUS from 127.0.0.2: %q, want ERR code=not-authorized", lines[1])
		}
		if got := clmSession(t, clm, "127.0.0.3", "STATUS id=3"); !strings.HasPrefix(got[0], "FEATURE name=cad ") {
			t.Errorf("STATUS from 127.0.0.3: %q", got[0])
		}
		// ... and over UDP.
		pad := " pad=" + strings.Repeat("x", 40)
		if got := udpExchange(t, udpSocket(t, "127.0.0.2"), clm, []byte("STATUS feature=cad id=u1"+pad), accessDeadline); !strings.HasPrefix(got, "ERR code=not-authorized ") {
			t.Errorf("UDP STATUS from 127.0.0.2: %q", got)
		}
		if got := udpExchange(t, udpSocket(t, "127.0.0.3"), clm, []byte("STATUS feature=cad id=u2"+pad), accessDeadline); !strings.HasPrefix(got, "FEATURE name=cad ") {
			t.Errorf("UDP STATUS from 127.0.0.3: %q", got)
		}

		// flexlm: CHECKOUT yes, SERVER_INFO and STATUS -6, from .2.
		vendor, lmgrdAddr := g.Addr("vendor"), g.Addr("lmgrd")
		co := flexwire.New(flexwire.Checkout, 1).Str(flexwire.TFeature, "cad").Int(flexwire.TCount, 1).
			Str(flexwire.TUser, "bob").Str(flexwire.THost, "h2")
		if f, err := flexRequest(vendor, "127.0.0.2", co); err != nil || f.Type != flexwire.Granted {
			t.Errorf("flexlm CHECKOUT from 127.0.0.2: %v %v", f, err)
		}
		for _, q := range []struct {
			addr string
			f    *flexwire.Frame
		}{{lmgrdAddr, flexwire.New(flexwire.ServerInfo, 2)}, {vendor, flexwire.New(flexwire.Status, 3)}} {
			f, err := flexRequest(q.addr, "127.0.0.2", q.f)
			if err != nil || f.Type != flexwire.Error || f.GetInt(flexwire.TCode) != flexwire.CodeNotAllowed {
				t.Errorf("flexlm %v from 127.0.0.2: %v %v, want ERROR %d", q.f.Type, f, err, flexwire.CodeNotAllowed)
			}
		}
		if f, err := flexRequest(lmgrdAddr, "127.0.0.3", flexwire.New(flexwire.ServerInfo, 4)); err != nil || f.Type != flexwire.ServerInfoOK {
			t.Errorf("flexlm SERVER_INFO from 127.0.0.3: %v %v", f, err)
		}
		if f, err := flexRequest(vendor, "127.0.0.3", flexwire.New(flexwire.Status, 5)); err != nil || f.Type != flexwire.StatusFeature || f.GetStr(flexwire.TFeature) != "cad" {
			t.Errorf("flexlm STATUS from 127.0.0.3: %v %v", f, err)
		}

		// sentinel: checkout yes, features/clients/discover not-authorized, from .2.
		sen := g.Addr("sentinel")
		from2 := udpSocket(t, "127.0.0.2")
		co2 := sentinelRequest(t, &wire.Request{ID: 1, Type: wire.Checkout, Feature: "cad", Count: 1, User: "cy", Host: "h2"}, 64)
		if r := sentinelExchange(t, from2, sen, co2); r.Status != wire.OK {
			t.Errorf("sentinel checkout from 127.0.0.2: %v", r.Status)
		}
		for i, q := range []*wire.Request{{Type: wire.Features}, {Type: wire.Clients, Feature: "cad"}, {Type: wire.Discover}} {
			q.ID = uint64(10 + i)
			if r := sentinelExchange(t, from2, sen, sentinelRequest(t, q, 400)); r.Status != wire.NotAuthorized {
				t.Errorf("sentinel %v from 127.0.0.2: %v, want not-authorized", q.Type, r.Status)
			}
		}
		if r := sentinelExchange(t, udpSocket(t, "127.0.0.3"), sen, sentinelRequest(t, &wire.Request{ID: 20, Type: wire.Features}, 400)); r.Status != wire.OK || len(r.Features) != 1 {
			t.Errorf("sentinel features from 127.0.0.3: %v %+v", r.Status, r.Features)
		}

		// minimal (no status query): a checkout from .2 is served.
		if err := tcpAsk(g.Addr("minimal"), "127.0.0.2", []byte("OUT cad ann h2\n")); err != nil {
			t.Errorf("minimal plugin from 127.0.0.2: %v", err)
		}

		// relay: a claim from .2 is served (it has no status query).
		rc := relayclient.New("http://"+g.Addr("relay"), relayclient.Options{HTTP: httpFrom("127.0.0.2")})
		if c, err := rc.Claim(ctx, "node-from-2"); err != nil || !c.Created {
			t.Errorf("relay claim from 127.0.0.2: %+v %v", c, err)
		}

		ms := g.Metrics()
		for plugin, want := range map[string]float64{"concurrentlm": 2, "flexlm": 2, "sentinel": 3, "relay": 0} {
			if v, err := ms.Value("licensegw_plugin_status_denied_total", map[string]string{"plugin": plugin}); err != nil || v != want {
				t.Errorf("%s: status_denied_total = %v (%v), want %v", plugin, v, err, want)
			}
		}

		// The monitoring tools, run from 127.0.0.1, say why.
		out := lmutil(ctx, t, g, "lmstat", "-a")
		if out.Code == 0 || !strings.Contains(out.Stdout+out.Stderr, "status_allow") {
			t.Errorf("lmstat from 127.0.0.1: exit %d, want a failure naming status_allow:\n%s%s", out.Code, out.Stdout, out.Stderr)
		}
		out = e2etest.Run(ctx, t, bins.Path("lsmon"), []string{sen})
		if out.Code == 0 || !strings.Contains(out.Stdout+out.Stderr, "not-authorized") || !strings.Contains(out.Stdout+out.Stderr, "status_allow") {
			t.Errorf("lsmon from 127.0.0.1: exit %d, want a failure saying not-authorized, naming status_allow:\n%s%s", out.Code, out.Stdout, out.Stderr)
		}
	})
}

// tcpAsk sends msg over TCP from src to addr and reads an answer; an
// error means the connection was refused or closed unanswered.
func tcpAsk(addr, src string, msg []byte) error {
	c, err := dialFrom(addr, src)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.Write(msg); err != nil {
		return err
	}
	n, err := c.Read(make([]byte, 512))
	if err == nil && n == 0 {
		return fmt.Errorf("empty answer")
	}
	return err
}

// clmSession sends lines over one TCP connection from src and returns
// one answer line per request.
func clmSession(t *testing.T, addr, src string, reqs ...string) []string {
	t.Helper()
	c, err := dialFrom(addr, src)
	if err != nil {
		t.Fatalf("connect from %s: %v", src, err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	var out []string
	for _, r := range reqs {
		if _, err := c.Write([]byte(r + "\n")); err != nil {
			t.Fatalf("from %s: %v", src, err)
		}
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("%s from %s: %v", r, src, err)
		}
		out = append(out, strings.TrimSuffix(line, "\n"))
		// A STATUS goes on until END: skip the rest.
		for strings.HasPrefix(line, "FEATURE ") {
			if line, err = br.ReadString('\n'); err != nil {
				t.Fatalf("%s from %s: %v", r, src, err)
			}
		}
	}
	return out
}

// flexRequest sends one frame over a new TCP connection from src and
// returns the first answer.
func flexRequest(addr, src string, f *flexwire.Frame) (*flexwire.Frame, error) {
	c, err := dialFrom(addr, src)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if err := flexwire.Write(c, f); err != nil {
		return nil, err
	}
	return flexwire.Read(bufio.NewReader(c))
}

func dialFrom(addr, src string) (net.Conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: accessDeadline}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	_ = c.SetDeadline(time.Now().Add(accessDeadline))
	return c, nil
}

// httpFrom is an HTTP client whose connections come from src.
func httpFrom(src string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: accessDeadline}
	return &http.Client{Timeout: accessDeadline, Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
}

func udpSocket(t *testing.T, src string) net.PacketConn {
	t.Helper()
	c, err := net.ListenPacket("udp", src+":0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func send(t *testing.T, c net.PacketConn, to string, b []byte) {
	t.Helper()
	ua, err := net.ResolveUDPAddr("udp", to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WriteTo(b, ua); err != nil {
		t.Fatal(err)
	}
}

// udpExchange sends b and returns the answer, failing the test when none
// comes within wait.
func udpExchange(t *testing.T, c net.PacketConn, to string, b []byte, wait time.Duration) string {
	t.Helper()
	return strings.TrimSuffix(string(udpRaw(t, c, to, b, wait)), "\n")
}

func udpRaw(t *testing.T, c net.PacketConn, to string, b []byte, wait time.Duration) []byte {
	t.Helper()
	send(t, c, to, b)
	_ = c.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 2048)
	n, _, err := c.ReadFrom(buf)
	if err != nil {
		t.Fatalf("no answer from %s to %q: %v", to, b, err)
	}
	return buf[:n]
}

func sentinelRequest(t *testing.T, r *wire.Request, size int) []byte {
	t.Helper()
	b, err := wire.EncodeRequest(r, size)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sentinelExchange(t *testing.T, c net.PacketConn, to string, req []byte) *wire.Response {
	t.Helper()
	r, err := wire.DecodeResponse(udpRaw(t, c, to, req, accessDeadline))
	if err != nil {
		t.Fatalf("sentinel answer: %v", err)
	}
	return r
}
