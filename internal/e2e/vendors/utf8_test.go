package vendors

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/licensegw/licensegw/internal/e2etest"
	flexwire "github.com/licensegw/licensegw/plugins/flexlm/wire"
	"github.com/licensegw/licensegw/plugins/sentinel/client"
	sentwire "github.com/licensegw/licensegw/plugins/sentinel/wire"
)

// utf8Config serves two pools of vendor zeta with every protocol plugin:
// pool has room for every bystander's lease, solo has one seat and a
// queue, so that each protocol's bystander also waits in it with a ticket.
var utf8Config = `
feature "pool" {
  vendor = "zeta"
  seats  = 10
}

feature "solo" {
  vendor = "zeta"
  seats  = 1
  queue {
    max_length = 10
  }
}

plugin "flexlm" {
  path   = "{{.Bin "licensegw-flexlm"}}"
  listen = { lmgrd = "{{.TCP "lmgrd"}}", vendor = "{{.TCP "vendor"}}" }
  config {
    vendors = ["zeta"]
  }
}

plugin "sentinel" {
  path   = "{{.Bin "licensegw-sentinel"}}"
  listen = { udp = "{{.UDP "sentinel"}}" }
  config {
    rate_limit = 100000
    rate_burst = 100000
  }
}
` + e2etest.ConcurrentLMPlugin("")

// bad is a byte string that is not UTF-8 (a lone continuation byte, an
// overlong encoding's lead and a UTF-16 surrogate half).
const bad = "x\x80\xc0\xed\xa0\x80"

// TestInvalidUTF8NeverBreaksAPlugin sends, on every protocol, a request
// whose string fields are not UTF-8, one field at a time, while a
// bystander of each protocol holds a lease and waits in a queue. Every bad
// request gets its protocol's bad-request answer; afterwards no plugin has
// restarted, every bystander's connection, lease and queue ticket is still
// there, and the tickets are granted in FIFO order across the protocols.
func TestInvalidUTF8NeverBreaksAPlugin(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	g := e2etest.Start(t, e2etest.Options{Bins: bins, Config: utf8Config})
	pids := map[string]int{}
	for _, p := range g.Status().Plugins {
		pids[p.Name] = p.PID
	}

	// Bystanders: the CLM holder takes solo's only seat; then the CLM,
	// FlexLM and Sentinel bystanders each hold a pool lease and queue for
	// solo, in that order.
	holder := dialCLM(t, g)
	soloLease := holder.call(t, "CHECKOUT feature=solo user=holder host=h").want(t, "GRANTED").get("lease")

	clm := dialCLM(t, g)
	clmLease := clm.call(t, "CHECKOUT feature=pool user=clm host=h").want(t, "GRANTED").get("lease")
	clm.call(t, "CHECKOUT feature=solo user=clm host=h wait=120 id=q").want(t, "QUEUED")

	flex := dialVendor(t, g)
	flexHandle := flex.call(t, flexwire.New(flexwire.Checkout, 1).Str(flexwire.TFeature, "pool").
		Str(flexwire.TUser, "flex").Str(flexwire.THost, "h").Int(flexwire.TCount, 1))
	if flexHandle.Type != flexwire.Granted {
		t.Fatalf("flexlm bystander: %v", flexHandle)
	}
	flexQueued := flex.call(t, flexwire.New(flexwire.Checkout, 2).Str(flexwire.TFeature, "solo").
		Str(flexwire.TUser, "flex").Str(flexwire.THost, "h").Int(flexwire.TCount, 1).Int(flexwire.TWaitMs, 120_000))
	if flexQueued.Type != flexwire.Queued {
		t.Fatalf("flexlm bystander's queued checkout: %v", flexQueued)
	}

	sent, err := client.Dial(g.Addr("sentinel"), client.Options{User: "sent", Host: "h"})
	if err != nil {
		t.Fatal(err)
	}
	defer sent.Close()
	sentTok, _, err := sent.Checkout(ctx, client.CheckoutRequest{Feature: "pool"})
	if err != nil {
		t.Fatal(err)
	}
	_, sentPlace, err := sent.Checkout(ctx, client.CheckoutRequest{Feature: "solo", Queue: true, Wait: 120 * time.Second})
	if err != nil || sentPlace == nil {
		t.Fatalf("sentinel bystander's queued checkout: %v %v", sentPlace, err)
	}

	t.Run("concurrent-lm", func(t *testing.T) { badCLM(t, g) })
	t.Run("flexlm", func(t *testing.T) { badFlexLM(t, g) })
	t.Run("sentinel", func(t *testing.T) { badSentinel(ctx, t, g) })

	for _, p := range g.Status().Plugins {
		if p.Restarts != 0 || p.PID != pids[p.Name] || p.State != "running" {
			t.Errorf("plugin %s: state %s, %d restarts, pid %d (was %d)", p.Name, p.State, p.Restarts, p.PID, pids[p.Name])
		}
	}

	// Every bystander's lease, on its own connection.
	clm.call(t, "HEARTBEAT lease="+clmLease).want(t, "OK")
	if hb := flex.call(t, flexwire.New(flexwire.Heartbeat, 3).Int(flexwire.THandle, flexHandle.GetInt(flexwire.THandle))); hb.Type != flexwire.HeartbeatOK {
		t.Errorf("flexlm bystander's heartbeat: %v", hb)
	}
	if _, err := sent.Refresh(ctx, sentTok.Handle); err != nil {
		t.Errorf("sentinel bystander's refresh: %v", err)
	}
	if _, place, err := sent.Poll(ctx, sentPlace.Ticket); err != nil || place == nil {
		t.Errorf("sentinel bystander's ticket: %v %v", place, err)
	}

	// Every ticket, in FIFO order across the protocols.
	holder.call(t, "CHECKIN lease="+soloLease).want(t, "OK")
	ev := clm.read(t)
	ev.want(t, "EVENT")
	if !strings.HasPrefix(ev.line, "EVENT granted") {
		t.Fatalf("clm bystander: %q, want EVENT granted", ev.line)
	}
	clm.call(t, "CHECKIN lease="+ev.get("lease")).want(t, "OK")
	granted := flex.readID(t, 2, flexwire.Granted)
	if r := flex.call(t, flexwire.New(flexwire.Checkin, 4).Int(flexwire.THandle, granted.GetInt(flexwire.THandle))); r.Type != flexwire.OK {
		t.Fatalf("flexlm bystander's checkin: %v", r)
	}
	tok, err := sent.WaitQueued(ctx, sentPlace.Ticket, 200*time.Millisecond)
	if err != nil || tok == nil {
		t.Fatalf("sentinel bystander's ticket: %v %v", tok, err)
	}
}

// badCLM: every string field of every CLM/1 request, not UTF-8, over TCP
// and over UDP.
func badCLM(t *testing.T, g *e2etest.Gateway) {
	reqs := []string{
		"HELLO client=" + bad, "HELLO version=" + bad,
		"CHECKOUT feature=" + bad + " user=u host=h", "CHECKOUT feature=pool user=" + bad + " host=h",
		"CHECKOUT feature=pool user=u host=" + bad, "CHECKOUT feature=pool user=u host=h vendor=" + bad,
		"CHECKOUT feature=pool user=u host=h version=" + bad, "CHECKOUT feature=pool user=u host=h display=" + bad,
		"CHECKOUT feature=pool user=u host=h nonce=" + bad, "CHECKOUT feature=pool user=u host=h x-unknown=" + bad,
		"HEARTBEAT lease=" + bad, "CHECKIN lease=" + bad, "CANCEL ticket=" + bad,
		"STATUS feature=" + bad, "STATUS vendor=" + bad, bad + " feature=pool",
	}
	c := dialCLM(t, g)
	for _, r := range reqs {
		c.call(t, r+" id=b").want(t, "ERR", "code=bad-request")
	}
	c.call(t, "PING").want(t, "PONG")
	u, err := net.Dial("udp", g.Addr(e2etest.CLMAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	buf := make([]byte, 2048)
	for _, r := range reqs {
		d := r + " id=b pad=" + strings.Repeat("p", 200)
		if _, err := u.Write([]byte(d)); err != nil {
			t.Fatal(err)
		}
		_ = u.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := u.Read(buf)
		if err != nil {
			t.Fatalf("UDP %q: %v", r, err)
		}
		if ans := string(buf[:n]); !strings.HasPrefix(ans, "ERR code=bad-request") {
			t.Errorf("UDP %q answered %q, want ERR code=bad-request", r, ans)
		}
	}
}

// badFlexLM: every string tag of every FlexLM-style request, not UTF-8,
// each answered ERROR -4 with its id on a connection that stays open.
func badFlexLM(t *testing.T, g *e2etest.Gateway) {
	type req struct {
		typ  flexwire.Type
		tags []flexwire.Tag
		lmgr bool
	}
	reqs := []req{
		{flexwire.Hello, []flexwire.Tag{flexwire.TProgram, flexwire.TUser, flexwire.THost}, true},
		{flexwire.VendorPort, []flexwire.Tag{flexwire.TVendor}, true},
		{flexwire.Hello, []flexwire.Tag{flexwire.TProgram, flexwire.TUser, flexwire.THost}, false},
		{flexwire.Checkout, []flexwire.Tag{flexwire.TFeature, flexwire.TVendor, flexwire.TVersion, flexwire.TUser,
			flexwire.THost, flexwire.TDisplay, flexwire.TProject}, false},
		{flexwire.Status, []flexwire.Tag{flexwire.TFeature, flexwire.TVendor}, false},
		{flexwire.Remove, []flexwire.Tag{flexwire.TFeature, flexwire.TUser, flexwire.THost, flexwire.TDisplay}, false},
	}
	lm, vd := dialLmgrd(t, g), dialVendor(t, g)
	id := uint32(100)
	for _, r := range reqs {
		for _, bad1 := range r.tags {
			id++
			f := flexwire.New(r.typ, id)
			if r.typ == flexwire.Checkout {
				f.Int(flexwire.TCount, 1) // otherwise valid
			}
			for _, tag := range r.tags {
				v := "ok"
				if tag == bad1 {
					v = bad
				}
				f.Str(tag, v)
			}
			c := vd
			if r.lmgr {
				c = lm
			}
			ans := c.call(t, f)
			if ans.Type != flexwire.Error || ans.GetInt(flexwire.TCode) != flexwire.CodeBadRequest || ans.ID != id {
				t.Errorf("%v with %v not UTF-8: %v, want ERROR -4 id %d", r.typ, bad1, ans, id)
			}
		}
	}
	if ans := vd.call(t, flexwire.New(flexwire.Hello, 999)); ans.Type != flexwire.HelloOK {
		t.Errorf("vendor connection after the bad frames: %v", ans)
	}
}

// badSentinel: every string field of every Sentinel-style request, not
// UTF-8, each answered status bad-request.
func badSentinel(ctx context.Context, t *testing.T, g *e2etest.Gateway) {
	c, err := client.Dial(g.Addr("sentinel"), client.Options{User: "x", Host: "h"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	base := func(typ sentwire.Type) sentwire.Request {
		return sentwire.Request{Type: typ, Feature: "pool", User: "u", Host: "h", Days: 1, Handle: "h1"}
	}
	fields := map[sentwire.Type][]func(*sentwire.Request){
		sentwire.Checkout: {
			func(r *sentwire.Request) { r.Feature = bad }, func(r *sentwire.Request) { r.Version = bad },
			func(r *sentwire.Request) { r.User = bad }, func(r *sentwire.Request) { r.Host = bad },
			func(r *sentwire.Request) { r.Display = bad },
		},
		sentwire.Commute: {
			func(r *sentwire.Request) { r.Feature = bad }, func(r *sentwire.Request) { r.Version = bad },
			func(r *sentwire.Request) { r.User = bad }, func(r *sentwire.Request) { r.Host = bad },
			func(r *sentwire.Request) { r.Display = bad },
		},
		sentwire.Refresh:  {func(r *sentwire.Request) { r.Handle = bad }},
		sentwire.Release:  {func(r *sentwire.Request) { r.Handle = bad }},
		sentwire.Return:   {func(r *sentwire.Request) { r.Handle = bad }},
		sentwire.Poll:     {func(r *sentwire.Request) { r.Handle = bad }},
		sentwire.Cancel:   {func(r *sentwire.Request) { r.Handle = bad }},
		sentwire.Features: {func(r *sentwire.Request) { r.Feature = bad }},
		sentwire.Clients:  {func(r *sentwire.Request) { r.Feature = bad }, func(r *sentwire.Request) { r.Version = bad }},
		sentwire.Discover: {func(r *sentwire.Request) { r.Feature = bad }},
	}
	for typ, mutations := range fields {
		for i, mutate := range mutations {
			r := base(typ)
			mutate(&r)
			resp, err := c.Do(ctx, &r, 400)
			if err != nil {
				t.Errorf("%v #%d: %v", typ, i, err)
				continue
			}
			if resp.Status != sentwire.BadRequest {
				t.Errorf("%v with field #%d not UTF-8: status %v, want bad-request", typ, i, resp.Status)
			}
		}
	}
}

// clmConn is a raw CLM/1 TCP connection.
type clmConn struct {
	nc net.Conn
	r  *bufio.Reader
}

type clmLine struct{ line string }

func dialCLM(t *testing.T, g *e2etest.Gateway) *clmConn {
	t.Helper()
	nc, err := net.Dial("tcp", g.Addr(e2etest.CLMAddr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &clmConn{nc: nc, r: bufio.NewReader(nc)}
}

func (c *clmConn) call(t *testing.T, line string) clmLine {
	t.Helper()
	if _, err := c.nc.Write([]byte(line + "\n")); err != nil {
		t.Fatalf("send %q: %v", line, err)
	}
	return c.read(t)
}

func (c *clmConn) read(t *testing.T) clmLine {
	t.Helper()
	_ = c.nc.SetReadDeadline(time.Now().Add(15 * time.Second))
	s, err := c.r.ReadString('\n')
	if err != nil {
		t.Fatalf("read: %v (the connection was dropped?)", err)
	}
	return clmLine{strings.TrimRight(s, "\r\n")}
}

func (l clmLine) want(t *testing.T, word string, parts ...string) clmLine {
	t.Helper()
	if !strings.HasPrefix(l.line, word+" ") && l.line != word {
		t.Fatalf("got %q, want %s", l.line, word)
	}
	for _, p := range parts {
		if !strings.Contains(l.line, p) {
			t.Fatalf("got %q, want %s", l.line, p)
		}
	}
	return l
}

func (l clmLine) get(key string) string {
	for f := range strings.FieldsSeq(l.line) {
		if v, ok := strings.CutPrefix(f, key+"="); ok {
			return v
		}
	}
	return ""
}

// flexConn is a raw FlexLM-style TCP connection.
type flexConn struct {
	nc net.Conn
	r  *bufio.Reader
}

func dialLmgrd(t *testing.T, g *e2etest.Gateway) *flexConn  { return dialFlexAddr(t, g.Addr("lmgrd")) }
func dialVendor(t *testing.T, g *e2etest.Gateway) *flexConn { return dialFlexAddr(t, g.Addr("vendor")) }

func dialFlexAddr(t *testing.T, addr string) *flexConn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &flexConn{nc: nc, r: bufio.NewReader(nc)}
}

// call sends f and returns the answer with f's id (frames for other ids,
// such as queue updates, are skipped).
func (c *flexConn) call(t *testing.T, f *flexwire.Frame) *flexwire.Frame {
	t.Helper()
	if err := flexwire.Write(c.nc, f); err != nil {
		t.Fatalf("send %v: %v", f, err)
	}
	return c.readID(t, f.ID, 0)
}

// readID reads until a frame with id (and type typ, unless 0) arrives.
func (c *flexConn) readID(t *testing.T, id uint32, typ flexwire.Type) *flexwire.Frame {
	t.Helper()
	_ = c.nc.SetReadDeadline(time.Now().Add(15 * time.Second))
	for {
		f, err := flexwire.Read(c.r)
		if err != nil {
			t.Fatalf("read: %v (the connection was dropped?)", err)
		}
		if f.ID == id && (typ == 0 || f.Type == typ) {
			return f
		}
	}
}
