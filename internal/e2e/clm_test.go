package e2e

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// lineTimeout bounds each wait for an answer line.
const lineTimeout = 10 * time.Second

// Reply is one CLM/1 line: its verb (or, for EVENT lines, "EVENT" with the
// event's name in Event) and its key=value pairs.
type Reply struct {
	Line  string
	Verb  string
	Event string // EVENT lines: granted, denied
	KV    map[string]string
}

// Get is the value of key, "" when absent.
func (r Reply) Get(key string) string { return r.KV[key] }

func (r Reply) String() string { return r.Line }

// parseReply splits a line the way the spec defines: a verb, then key=value
// pairs separated by spaces, values bare or double-quoted with \" and \\.
// It is written from the spec alone, independently of the plugin's parser.
func parseReply(line string) (Reply, error) {
	line = strings.TrimRight(line, "\r\n")
	r := Reply{Line: line, KV: map[string]string{}}
	verb, rest, _ := strings.Cut(line, " ")
	r.Verb = verb
	if verb == "EVENT" {
		r.Event, rest, _ = strings.Cut(rest, " ")
	}
	for {
		rest = strings.TrimLeft(rest, " ")
		if rest == "" {
			return r, nil
		}
		key, after, ok := strings.Cut(rest, "=")
		if !ok || key == "" || strings.Contains(key, " ") {
			return r, fmt.Errorf("bad pair at %q in %q", rest, line)
		}
		var val string
		if strings.HasPrefix(after, `"`) {
			var sb strings.Builder
			i := 1
			for ; i < len(after) && after[i] != '"'; i++ {
				if after[i] == '\\' && i+1 < len(after) {
					i++
				}
				sb.WriteByte(after[i])
			}
			if i >= len(after) {
				return r, fmt.Errorf("unterminated quote in %q", line)
			}
			val, rest = sb.String(), after[i+1:]
		} else {
			val, rest, _ = strings.Cut(after, " ")
		}
		if _, dup := r.KV[key]; dup {
			return r, fmt.Errorf("key %s twice in %q", key, line)
		}
		r.KV[key] = val
	}
}

// Conn is a CLM/1 client connection over TCP. Answers come in request order;
// asynchronous EVENT lines read while waiting for an answer are kept for
// Event.
type Conn struct {
	t      *testing.T
	c      net.Conn
	r      *bufio.Reader
	events []Reply
}

// Dial connects to the gateway's CLM/1 TCP port.
func (g *Gateway) Dial() *Conn {
	g.t.Helper()
	c, err := net.DialTimeout("tcp", g.CLMAddr, 5*time.Second)
	if err != nil {
		g.t.Fatalf("dial %s: %v", g.CLMAddr, err)
	}
	cn := &Conn{t: g.t, c: c, r: bufio.NewReader(c)}
	g.t.Cleanup(func() { c.Close() })
	return cn
}

// Close closes the connection.
func (c *Conn) Close() { c.c.Close() }

// Send writes one request line.
func (c *Conn) Send(line string) {
	c.t.Helper()
	if err := c.send(line); err != nil {
		c.t.Fatalf("send %q: %v", line, err)
	}
}

func (c *Conn) send(line string) error {
	_ = c.c.SetWriteDeadline(time.Now().Add(lineTimeout))
	_, err := c.c.Write([]byte(line + "\n"))
	return err
}

// readLine reads the next line of any kind.
func (c *Conn) readLine(timeout time.Duration) (Reply, error) {
	_ = c.c.SetReadDeadline(time.Now().Add(timeout))
	line, err := c.r.ReadString('\n')
	if err != nil {
		return Reply{}, err
	}
	return parseReply(line)
}

// Do sends a request and returns its answer, keeping EVENT lines that come
// before it.
func (c *Conn) Do(line string) Reply {
	c.t.Helper()
	r, err := c.do(line)
	if err != nil {
		c.t.Fatalf("%s: %v", line, err)
	}
	return r
}

// Next reads the next answer line (of a request that has several).
func (c *Conn) Next() Reply {
	c.t.Helper()
	r, err := c.next("")
	if err != nil {
		c.t.Fatal(err)
	}
	return r
}

// do is Do without failing the test, for goroutines and expected failures.
func (c *Conn) do(line string) (Reply, error) {
	if err := c.send(line); err != nil {
		return Reply{}, err
	}
	return c.next(line)
}

func (c *Conn) next(line string) (Reply, error) {
	for {
		r, err := c.readLine(lineTimeout)
		if err != nil {
			return Reply{}, fmt.Errorf("answer to %q: %w", line, err)
		}
		if r.Verb == "EVENT" {
			c.events = append(c.events, r)
			continue
		}
		return r, nil
	}
}

// Event returns the next EVENT line, waiting at most timeout.
func (c *Conn) Event(timeout time.Duration) Reply {
	c.t.Helper()
	r, err := c.event(timeout)
	if err != nil {
		c.t.Fatalf("waiting %s for an EVENT: %v", timeout, err)
	}
	return r
}

func (c *Conn) event(timeout time.Duration) (Reply, error) {
	if len(c.events) > 0 {
		r := c.events[0]
		c.events = c.events[1:]
		return r, nil
	}
	r, err := c.readLine(timeout)
	if err != nil {
		return Reply{}, err
	}
	if r.Verb != "EVENT" {
		return r, fmt.Errorf("unsolicited line %q", r.Line)
	}
	return r, nil
}

// NoEvent asserts that no EVENT line arrives within d.
func (c *Conn) NoEvent(d time.Duration) {
	c.t.Helper()
	r, err := c.event(d)
	var ne net.Error
	if err != nil && errors.As(err, &ne) && ne.Timeout() {
		return
	}
	if err != nil {
		c.t.Fatalf("waiting for silence: %v", err)
	}
	c.t.Fatalf("unexpected EVENT %q", r.Line)
}

// expect fails the test unless r has the verb (any verb when "") and every
// given key=value.
func expect(t *testing.T, r Reply, verb string, kv ...string) {
	t.Helper()
	if verb != "" && r.Verb != verb {
		t.Fatalf("got %q, want %s %v", r.Line, verb, kv)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if got := r.Get(kv[i]); got != kv[i+1] {
			t.Fatalf("got %q: %s=%q, want %q", r.Line, kv[i], got, kv[i+1])
		}
	}
}

// checkout takes one seat of feature as user@host and returns the lease.
func (c *Conn) checkout(feature, user, host string) string {
	c.t.Helper()
	r := c.Do(fmt.Sprintf("CHECKOUT feature=%s user=%s host=%s", feature, user, host))
	expect(c.t, r, "GRANTED", "feature", feature)
	if r.Get("lease") == "" {
		c.t.Fatalf("GRANTED without lease: %q", r.Line)
	}
	return r.Get("lease")
}

// UDPClient speaks CLM/1 over UDP from one local socket, so that repeated
// datagrams come from the same source address and port.
type UDPClient struct {
	t *testing.T
	c *net.UDPConn
}

// UDP opens a UDP socket connected to the gateway's CLM/1 port.
func (g *Gateway) UDP() *UDPClient {
	g.t.Helper()
	raddr, err := net.ResolveUDPAddr("udp", g.CLMAddr)
	if err != nil {
		g.t.Fatal(err)
	}
	c, err := net.DialUDP("udp", nil, raddr)
	if err != nil {
		g.t.Fatal(err)
	}
	g.t.Cleanup(func() { c.Close() })
	return &UDPClient{t: g.t, c: c}
}

// Exchange sends one datagram and returns the answer, or ok=false when
// none arrives within timeout.
func (u *UDPClient) Exchange(req string, timeout time.Duration) (answer string, ok bool) {
	u.t.Helper()
	if _, err := u.c.Write([]byte(req)); err != nil {
		u.t.Fatalf("udp send: %v", err)
	}
	buf := make([]byte, 64<<10)
	_ = u.c.SetReadDeadline(time.Now().Add(timeout))
	n, err := u.c.Read(buf)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "", false
	}
	if err != nil {
		u.t.Fatalf("udp read: %v", err)
	}
	return string(buf[:n]), true
}

// pad makes a UDP request at least n bytes long with a pad= key, as the
// protocol document advises.
func pad(req string, n int) string {
	if len(req)+5 >= n {
		return req
	}
	return req + " pad=" + strings.Repeat("x", n-len(req)-5)
}
