package vendors

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/internal/e2etest"
)

// TestMinimalPlugin: examples/minimal-plugin, a plugin written only
// against the sdk, loaded by the real gateway and spoken to over its line
// protocol.
func TestMinimalPlugin(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	g := e2etest.Start(t, e2etest.Options{Bins: bins, Config: `
feature "widget" {
  seats = 1
}

plugin "minimal" {
  path   = "{{.Bin "minimal-plugin"}}"
  listen = { tcp = "{{.TCP "minimal"}}" }
  config {
    greeting = "hello from the e2e test"
  }
}
`})
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", g.Addr("minimal"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	lines := bufio.NewScanner(conn)
	say := func(req string) string {
		t.Helper()
		if _, err := fmt.Fprintln(conn, req); err != nil {
			t.Fatal(err)
		}
		if !lines.Scan() {
			t.Fatalf("%s: no answer: %v", req, lines.Err())
		}
		return lines.Text()
	}
	if !lines.Scan() || lines.Text() != "hello from the e2e test" {
		t.Errorf("greeting %q, want the configured one", lines.Text())
	}

	ans := say("OUT widget alice ws-01")
	lease, ok := strings.CutPrefix(ans, "OK ")
	if !ok || lease == "" {
		t.Fatalf("OUT widget: %q, want OK <lease>", ans)
	}
	if ans := say("OUT widget bob ws-02"); ans != "NO no-seats" {
		t.Errorf("OUT of a taken seat: %q, want NO no-seats", ans)
	}
	if ans := say("OUT nothing alice ws-01"); ans != "NO unknown-feature" {
		t.Errorf("OUT of an unknown feature: %q, want NO unknown-feature", ans)
	}
	ev := g.WaitEvent(10*time.Second, "the minimal plugin's checkout", func(e e2etest.Event) bool {
		return e.Kind == events.Checkout && e.Lease == lease
	})
	if ev.Protocol != "minimal" || ev.User != "alice" || ev.Host != "ws-01" || ev.Feature != "widget" {
		t.Errorf("checkout event: protocol %q, user %q, host %q, feature %q; want minimal, alice, ws-01, widget", ev.Protocol, ev.User, ev.Host, ev.Feature)
	}
	if ans := say("IN " + lease); ans != "OK" {
		t.Errorf("IN: %q, want OK", ans)
	}
	if ans := say("IN " + lease); ans != "NO unknown" {
		t.Errorf("IN of a lease given back: %q, want NO unknown", ans)
	}
	g.WaitEvent(10*time.Second, "the minimal plugin's checkin", func(e e2etest.Event) bool {
		return e.Kind == events.Checkin && e.Lease == lease
	})
	if f := g.Feature("widget"); f.InUse != 0 {
		t.Errorf("widget: %d in use after IN", f.InUse)
	}
}
