package vendors

import (
	"bufio"
	"bytes"
	"context"
	"errors"
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

// TestPluginMetrics drives a known sequence through the real flexlm,
// sentinel and relay plugins and checks their own counters on the
// gateway's /metrics (reported over the SDK, as concurrent-lm's are in
// internal/e2e TestMetrics): names, the plugin/protocol labels the gateway
// adds, their own labels, and values. Counts settle asynchronously (a
// connection's close is counted after its licences are checked in), so
// they are awaited, not sampled once.
func TestPluginMetrics(t *testing.T) {
	cfg := strings.ReplaceAll(accessConfig, "@ACL@", "")
	// The relay's limit lets three requests through, then none for 50 minutes.
	cfg = strings.ReplaceAll(cfg, "    rate = 0\n", "    rate  = 0.001\n    burst = 2\n")
	g := e2etest.Start(t, e2etest.Options{Bins: bins, Config: cfg})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// flexlm: three connections; a frame with request id 0 (refused alone)
	// and one with a bad magic (refused, then the connection is closed).
	lm, err := dialFrom(g.Addr("lmgrd"), "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	defer lm.Close()
	if f, err := exchangeFrame(lm, flexwire.New(flexwire.Hello, 1)); err != nil || f.Type != flexwire.HelloOK {
		t.Fatalf("HELLO: %v %v", f, err)
	}
	vd, err := dialFrom(g.Addr("vendor"), "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	defer vd.Close()
	co := flexwire.New(flexwire.Checkout, 1).Str(flexwire.TFeature, "cad").Int(flexwire.TCount, 1).
		Str(flexwire.TUser, "fay").Str(flexwire.THost, "h1")
	if f, err := exchangeFrame(vd, co); err != nil || f.Type != flexwire.Granted {
		t.Fatalf("CHECKOUT: %v %v", f, err)
	}
	if f, err := exchangeFrame(vd, flexwire.New(flexwire.Hello, 0)); err != nil || f.Type != flexwire.Error || f.GetInt(flexwire.TCode) != flexwire.CodeBadRequest {
		t.Fatalf("a frame with id 0: %v %v, want ERROR -4", f, err)
	}
	bad, err := dialFrom(g.Addr("vendor"), "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.Write(bytes.Repeat([]byte{'X'}, 16)); err != nil {
		t.Fatal(err)
	}
	if f, err := flexwire.Read(bufio.NewReader(bad)); err != nil || f.Type != flexwire.Error {
		t.Fatalf("a frame with a bad magic: %v %v, want ERROR -4", f, err)
	}
	bad.Close()

	// sentinel: a checkout, its retransmission (answered from the cache),
	// a malformed datagram and a discovery of a feature not served (both
	// unanswered), then a features query.
	s := udpSocket(t, "127.0.0.1")
	sen := g.Addr("sentinel")
	checkout := sentinelRequest(t, &wire.Request{ID: 1, Type: wire.Checkout, Feature: "cad", Count: 1, User: "sam", Host: "h2"}, 64)
	first := sentinelExchange(t, s, sen, checkout)
	if again := sentinelExchange(t, s, sen, checkout); first.Status != wire.OK || again.Grant.Handle != first.Grant.Handle {
		t.Fatalf("checkout %v %q, retransmission %v %q: want one grant, answered twice", first.Status, first.Grant.Handle, again.Status, again.Grant.Handle)
	}
	send(t, s, sen, bytes.Repeat([]byte{0xFF}, 64))
	send(t, s, sen, sentinelRequest(t, &wire.Request{ID: 3, Type: wire.Discover, Feature: "nosuch"}, 80))
	if r := sentinelExchange(t, s, sen, sentinelRequest(t, &wire.Request{ID: 4, Type: wire.Features}, 400)); r.Status != wire.OK {
		t.Fatalf("features: %v", r.Status)
	}

	// relay: a claim, its heartbeat, then the rate limit; one connection
	// each.
	rc := relayclient.New("http://"+g.Addr("relay"), relayclient.Options{HTTP: httpFrom("127.0.0.1")})
	for i, want := range []string{"created", "extended", "limited"} {
		c, err := rc.Claim(ctx, "node-1")
		var rerr *relayclient.Error
		got := fmt.Sprint(err)
		switch {
		case err == nil:
			got = map[bool]string{true: "created", false: "extended"}[c.Created]
		case errors.As(err, &rerr) && rerr.Status == http.StatusTooManyRequests:
			got = "limited"
		}
		if got != want {
			t.Fatalf("relay request %d: %s, want %s", i+1, got, want)
		}
	}

	type sample struct {
		name   string
		labels map[string]string
		want   float64
	}
	p := func(plugin string, kv ...string) map[string]string {
		m := map[string]string{"plugin": plugin}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	checks := []sample{
		{"licensegw_plugin_connections_total", p("flexlm", "protocol", "flexlm"), 3},
		{"licensegw_plugin_connections_open", p("flexlm"), 2},
		{"licensegw_plugin_requests_malformed_total", p("flexlm", "transport", "tcp"), 2},
		{"licensegw_plugin_connections_refused_total", p("flexlm", "limit", "max_connections"), 0},
		{"licensegw_plugin_connections_refused_total", p("flexlm", "limit", "max_connections_per_ip"), 0},
		{"licensegw_plugin_udp_datagrams_total", p("sentinel", "protocol", "sentinel"), 5},
		{"licensegw_plugin_udp_answers_total", p("sentinel"), 3},
		{"licensegw_plugin_udp_cache_hits_total", p("sentinel"), 1},
		{"licensegw_plugin_requests_malformed_total", p("sentinel", "transport", "udp"), 1},
		{"licensegw_plugin_requests_rate_limited_total", p("sentinel", "transport", "udp"), 0},
		{"licensegw_plugin_discoveries_unanswered_total", p("sentinel"), 1},
		{"licensegw_plugin_udp_dropped_total", p("sentinel", "reason", "in_flight"), 0},
		{"licensegw_plugin_udp_dropped_total", p("sentinel", "reason", "busy"), 0},
		{"licensegw_plugin_udp_dropped_total", p("sentinel", "reason", "cache_share"), 0},
		{"licensegw_plugin_connections_total", p("relay", "protocol", "keygen-relay"), 3},
		{"licensegw_plugin_connections_open", p("relay"), 0},
		{"licensegw_plugin_requests_rate_limited_total", p("relay", "transport", "http"), 1},
		{"licensegw_plugin_answers_total", p("relay", "status", "201"), 1},
		{"licensegw_plugin_answers_total", p("relay", "status", "202"), 1},
		{"licensegw_plugin_answers_total", p("relay", "status", "429"), 1},
		// Every plugin reports the SDK's status refusals, none here.
		{"licensegw_plugin_status_denied_total", p("flexlm"), 0},
		{"licensegw_plugin_status_denied_total", p("sentinel"), 0},
		{"licensegw_plugin_status_denied_total", p("relay"), 0},
		{"licensegw_plugin_status_denied_total", p("concurrentlm"), 0},
	}
	check := func(checks []sample) func() error {
		return func() error {
			ms := g.Metrics()
			var errs []string
			for _, c := range checks {
				v, err := ms.Value(c.name, c.labels)
				if err != nil {
					errs = append(errs, err.Error())
				} else if v != c.want {
					errs = append(errs, fmt.Sprintf("%s%v = %v, want %v", c.name, c.labels, v, c.want))
				}
			}
			if len(errs) > 0 {
				return fmt.Errorf("%s", strings.Join(errs, "\n"))
			}
			return nil
		}
	}
	e2etest.Eventually(t, accessDeadline, "the plugins' counters", check(checks))

	// Closing the flexlm connections brings their gauge back to zero.
	lm.Close()
	vd.Close()
	e2etest.Eventually(t, accessDeadline, "flexlm connections closed", check([]sample{
		{"licensegw_plugin_connections_open", p("flexlm"), 0},
		{"licensegw_plugin_connections_total", p("flexlm"), 3},
	}))
}

// exchangeFrame writes f on c and reads the next frame.
func exchangeFrame(c net.Conn, f *flexwire.Frame) (*flexwire.Frame, error) {
	if err := flexwire.Write(c, f); err != nil {
		return nil, err
	}
	return flexwire.Read(bufio.NewReader(c))
}
