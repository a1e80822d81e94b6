package vendors

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/licensegw/licensegw/internal/e2etest"
	flexwire "github.com/licensegw/licensegw/plugins/flexlm/wire"
	"github.com/licensegw/licensegw/plugins/sentinel/client"
	sentwire "github.com/licensegw/licensegw/plugins/sentinel/wire"
	"github.com/licensegw/licensegw/sdk"
)

// hostileField is one identifier a request carries, with its rule.
type hostileField struct {
	name  string
	ident sdk.Ident
}

// hostileValue is a value to put in a field and whether the gateway must
// refuse it as a bad request (or, for a datagram, may drop it).
type hostileValue struct {
	what   string
	value  string
	refuse bool
}

// hostileValues are the values every field is tried with: at its limit
// (multibyte characters for text), one byte over, far over (far bytes),
// control characters, and NATS subject metacharacters, which a name may
// not hold ('.' aside: it becomes '_' in a subject) and text may.
func hostileValues(k sdk.Ident, far int) []hostileValue {
	max := k.MaxLen()
	at := strings.Repeat("a", max)
	if k.IsText() {
		at = strings.Repeat("é", max/2) + strings.Repeat("x", max%2) // two bytes a character
	}
	vals := []hostileValue{
		{"at the limit", at, false},
		{"one byte over", at + "a", true},
		{"far over", strings.Repeat("F", far), true},
		{"a control character", "a\x01b", true},
		{"DEL", "a\x7fb", true},
		{"a zero-width joiner", "a\u200db", true},
		{"dot", "a.b", false},
	}
	for _, meta := range []string{"a*b", "a>b", "a b", ">", "*"} {
		vals = append(vals, hostileValue{fmt.Sprintf("%q", meta), meta, !k.IsText()})
	}
	return vals
}

// TestHostileInput sends, on every protocol, a CHECKOUT with each
// identifier at, just over and far over its limit, with control and
// multibyte characters and NATS subject metacharacters. Over-limit and
// ill-formed values get the protocol's bad-request (a datagram the
// Sentinel-style decoder cannot read is dropped); the rest an ordinary
// answer. Afterwards no plugin has restarted, /readyz is ready, a normal
// checkout on every protocol is granted within 5 s, and the stream holds
// no event over sdk.MaxEventBytes and no subject that is not five plain
// tokens.
func TestHostileInput(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	g := e2etest.Start(t, e2etest.Options{Bins: bins, Config: utf8Config})
	pids := map[string]int{}
	for _, p := range g.Status().Plugins {
		pids[p.Name] = p.PID
	}

	t.Run("concurrent-lm", func(t *testing.T) { hostileCLM(t, g) })
	t.Run("flexlm", func(t *testing.T) { hostileFlexLM(t, g) })
	t.Run("sentinel", func(t *testing.T) { hostileSentinel(ctx, t, g) })

	for _, p := range g.Status().Plugins {
		if p.Restarts != 0 || p.PID != pids[p.Name] || p.State != "running" {
			t.Errorf("plugin %s: state %s, %d restarts, pid %d (was %d)", p.Name, p.State, p.Restarts, p.PID, pids[p.Name])
		}
	}
	if err := g.Admin().Ready(ctx); err != nil {
		t.Errorf("/readyz after the hostile input: %v", err)
	}
	normalCheckouts(ctx, t, g)

	evs := g.Events()
	token := regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	for _, e := range evs {
		b, err := json.Marshal(e.Raw) // escapes at least as much as the gateway
		if err != nil || len(b) > sdk.MaxEventBytes {
			t.Errorf("event %d (%s) is %d bytes, over %d", e.Seq, e.Kind, len(b), sdk.MaxEventBytes)
		}
		if e.Subject == "licensegw.events._journal.term" {
			continue // the journal's own term event (events v2)
		}
		parts := strings.Split(e.Subject, ".")
		if len(parts) != 5 {
			t.Errorf("subject %q of event %d is not <prefix>.events.<vendor>.<feature>.<kind>", e.Subject, e.Seq)
			continue
		}
		for _, p := range parts {
			if !token.MatchString(p) {
				t.Errorf("subject %q of event %d has the token %q", e.Subject, e.Seq, p)
			}
		}
	}
	t.Logf("%d events after the hostile input, every one within %d bytes", len(evs), sdk.MaxEventBytes)
}

// normalCheckouts takes and gives back a seat on every protocol, each
// within 5 s.
func normalCheckouts(ctx context.Context, t *testing.T, g *e2etest.Gateway) {
	t.Helper()
	start := time.Now()
	c := dialCLM(t, g)
	lease := c.call(t, "CHECKOUT feature=pool user=after host=h").want(t, "GRANTED").get("lease")
	c.call(t, "CHECKIN lease="+lease).want(t, "OK")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("concurrent-lm checkout after the hostile input took %v", d)
	}

	start = time.Now()
	f := dialVendor(t, g)
	ans := f.call(t, flexwire.New(flexwire.Checkout, 1).Str(flexwire.TFeature, "pool").
		Str(flexwire.TUser, "after").Str(flexwire.THost, "h").Int(flexwire.TCount, 1))
	if ans.Type != flexwire.Granted {
		t.Errorf("flexlm checkout after the hostile input: %v %s", ans, ans.GetStr(flexwire.TReason))
	} else if r := f.call(t, flexwire.New(flexwire.Checkin, 2).Int(flexwire.THandle, ans.GetInt(flexwire.THandle))); r.Type != flexwire.OK {
		t.Errorf("flexlm checkin: %v", r)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("flexlm checkout after the hostile input took %v", d)
	}

	start = time.Now()
	s, err := client.Dial(g.Addr("sentinel"), client.Options{User: "after", Host: "h"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	tok, _, err := s.Checkout(cctx, client.CheckoutRequest{Feature: "pool"})
	if err != nil {
		t.Errorf("sentinel checkout after the hostile input: %v (after %v)", err, time.Since(start))
	} else if err := s.Release(cctx, tok.Handle); err != nil {
		t.Errorf("sentinel release: %v", err)
	}
}

// clmQuote writes v as a CLM/1 value: quoted when it holds a space.
func clmQuote(v string) string {
	if strings.ContainsAny(v, " \"=\\") || v == "" {
		return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
	}
	return v
}

func hostileCLM(t *testing.T, g *e2etest.Gateway) {
	fields := []hostileField{
		{"feature", sdk.IdentFeature}, {"vendor", sdk.IdentVendor}, {"version", sdk.IdentVersion},
		{"user", sdk.IdentUser}, {"host", sdk.IdentHost}, {"display", sdk.IdentDisplay},
	}
	base := map[string]string{"feature": "pool", "user": "u", "host": "h"}
	c := dialCLM(t, g)
	u, err := net.Dial("udp", g.Addr(e2etest.CLMAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	buf := make([]byte, 1<<16)
	n := 0
	for _, f := range fields {
		for _, v := range hostileValues(f.ident, 3900) {
			n++
			var b strings.Builder
			b.WriteString("CHECKOUT")
			for _, k := range []string{"feature", "vendor", "version", "user", "host", "display"} {
				val, ok := base[k]
				if k == f.name {
					val, ok = v.value, true
				}
				if ok {
					b.WriteString(" " + k + "=" + clmQuote(val))
				}
			}
			line := b.String() + fmt.Sprintf(" id=h%d", n)
			ans := c.call(t, line)
			if bad := strings.HasPrefix(ans.line, "ERR code=bad-request"); bad != v.refuse {
				t.Errorf("TCP %s %s: %.120q; want bad-request %v", f.name, v.what, ans.line, v.refuse)
			}
			if !v.refuse && strings.HasPrefix(ans.line, "GRANTED") {
				c.call(t, "CHECKIN lease="+ans.get("lease")).want(t, "OK")
			}

			d := line + " pad=" + strings.Repeat("p", 300)
			if len(d) > 4096 {
				continue // a datagram over the line limit: TestUDP... covers it
			}
			if _, err := u.Write([]byte(d)); err != nil {
				t.Fatal(err)
			}
			_ = u.SetReadDeadline(time.Now().Add(5 * time.Second))
			m, err := u.Read(buf)
			if err != nil {
				t.Errorf("UDP %s %s: no answer: %v", f.name, v.what, err)
				continue
			}
			got := string(buf[:m])
			if bad := strings.HasPrefix(got, "ERR code=bad-request"); bad != v.refuse {
				t.Errorf("UDP %s %s: %.120q; want bad-request %v", f.name, v.what, got, v.refuse)
			}
			if strings.HasPrefix(got, "GRANTED") {
				lease := clmLine{got}.get("lease")
				c.call(t, "CHECKIN lease="+lease).want(t, "OK")
			}
		}
	}
	c.call(t, "PING").want(t, "PONG")
}

func hostileFlexLM(t *testing.T, g *e2etest.Gateway) {
	fields := []struct {
		tag flexwire.Tag
		hostileField
	}{
		{flexwire.TFeature, hostileField{"FEATURE", sdk.IdentFeature}}, {flexwire.TVendor, hostileField{"VENDOR", sdk.IdentVendor}},
		{flexwire.TVersion, hostileField{"VERSION", sdk.IdentVersion}}, {flexwire.TUser, hostileField{"USER", sdk.IdentUser}},
		{flexwire.THost, hostileField{"HOST", sdk.IdentHost}}, {flexwire.TDisplay, hostileField{"DISPLAY", sdk.IdentDisplay}},
		{flexwire.TProject, hostileField{"PROJECT", sdk.IdentProject}},
	}
	base := map[flexwire.Tag]string{flexwire.TFeature: "pool", flexwire.TUser: "u", flexwire.THost: "h"}
	c := dialVendor(t, g)
	id := uint32(1000)
	for _, f := range fields {
		for _, v := range hostileValues(f.ident, 65000) {
			id++
			fr := flexwire.New(flexwire.Checkout, id).Int(flexwire.TCount, 1)
			for _, tag := range []flexwire.Tag{flexwire.TFeature, flexwire.TVendor, flexwire.TVersion, flexwire.TUser, flexwire.THost, flexwire.TDisplay, flexwire.TProject} {
				val, ok := base[tag]
				if tag == f.tag {
					val, ok = v.value, true
				}
				if ok {
					fr.Str(tag, val)
				}
			}
			ans := c.call(t, fr)
			bad := ans.Type == flexwire.Error && ans.GetInt(flexwire.TCode) == flexwire.CodeBadRequest
			if bad != v.refuse {
				t.Errorf("%s %s: %v %.120q; want ERROR -4 %v", f.name, v.what, ans.Type, ans.GetStr(flexwire.TMessage), v.refuse)
			}
			if ans.Type == flexwire.Granted {
				if r := c.call(t, flexwire.New(flexwire.Checkin, id+100000).Int(flexwire.THandle, ans.GetInt(flexwire.THandle))); r.Type != flexwire.OK {
					t.Fatalf("checkin: %v", r)
				}
			}
		}
	}
	// COUNT is 64-bit: 2^32 is more than the pool has, not one seat.
	ans := c.call(t, flexwire.New(flexwire.Checkout, 7).Str(flexwire.TFeature, "pool").Str(flexwire.TUser, "u").
		Str(flexwire.THost, "h").Int(flexwire.TCount, 1<<32))
	if ans.Type != flexwire.Denied || ans.GetStr(flexwire.TReason) != "count" || ans.GetInt(flexwire.TSeats) != 10 {
		t.Errorf("COUNT 2^32: %v reason %q seats %d, want DENIED count with SEATS 10", ans.Type, ans.GetStr(flexwire.TReason), ans.GetInt(flexwire.TSeats))
	}
}

func hostileSentinel(ctx context.Context, t *testing.T, g *e2etest.Gateway) {
	// The wire format itself bounds every string to 64 bytes, below or at
	// every identifier's limit: what fits is tried through the client, and a
	// string announced longer is a datagram the decoder drops.
	c, err := client.Dial(g.Addr("sentinel"), client.Options{User: "x", Host: "h", Attempts: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fields := []struct {
		set func(*sentwire.Request, string)
		hostileField
	}{
		{func(r *sentwire.Request, v string) { r.Feature = v }, hostileField{"feature", sdk.IdentFeature}},
		{func(r *sentwire.Request, v string) { r.Version = v }, hostileField{"version", sdk.IdentVersion}},
		{func(r *sentwire.Request, v string) { r.User = v }, hostileField{"user", sdk.IdentUser}},
		{func(r *sentwire.Request, v string) { r.Host = v }, hostileField{"host", sdk.IdentHost}},
		{func(r *sentwire.Request, v string) { r.Display = v }, hostileField{"display", sdk.IdentDisplay}},
	}
	for _, f := range fields {
		for _, v := range hostileValues(f.ident, 1000) {
			if len(v.value) > sentwire.MaxString {
				if !v.refuse {
					v.value = v.value[:sentwire.MaxString] // at the wire's own limit
					for !isUTF8Prefix(v.value) {
						v.value = v.value[:len(v.value)-1]
					}
				} else {
					continue // not encodable; the raw datagram below covers it
				}
			}
			r := sentwire.Request{Type: sentwire.Checkout, Feature: "pool", User: "u", Host: "h"}
			f.set(&r, v.value)
			resp, err := c.Do(ctx, &r, 400)
			if err != nil {
				t.Errorf("%s %s: %v", f.name, v.what, err)
				continue
			}
			if bad := resp.Status == sentwire.BadRequest; bad != v.refuse {
				t.Errorf("%s %s: status %v; want bad-request %v", f.name, v.what, resp.Status, v.refuse)
			}
			if resp.Status == sentwire.OK && resp.Grant.Handle != "" {
				if _, err := c.Do(ctx, &sentwire.Request{Type: sentwire.Release, Handle: resp.Grant.Handle}, 400); err != nil {
					t.Errorf("release: %v", err)
				}
			}
		}
	}
	// A feature string announced one byte longer than the format allows.
	b, err := sentwire.EncodeRequest(&sentwire.Request{ID: 99, Type: sentwire.Checkout, Feature: strings.Repeat("F", 64), User: "u", Host: "h"}, 400)
	if err != nil {
		t.Fatal(err)
	}
	b[12] = sentwire.MaxString + 1
	raw := dialRawUDP(t, g.Addr("sentinel"))
	if _, err := raw.Write(b); err != nil {
		t.Fatal(err)
	}
	_ = raw.SetReadDeadline(time.Now().Add(time.Second))
	if n, err := raw.Read(make([]byte, 2048)); err == nil {
		t.Errorf("a 65-byte string was answered (%d bytes); the decoder should drop it", n)
	}
}

func isUTF8Prefix(s string) bool { return strings.ToValidUTF8(s, "\x00") == s }

func dialRawUDP(t *testing.T, addr string) net.Conn {
	t.Helper()
	u, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.Close() })
	return u
}
