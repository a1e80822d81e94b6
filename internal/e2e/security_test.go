package e2e

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/token"
	"github.com/licensegw/licensegw/internal/e2etest"
)

// TestAdminTokens drives the admin API's authentication as a user does:
// the token the gateway makes at first start, the CLI finding it beside the
// gateway, a read token made with `licensegw token create` and declared by
// its hash, refusals with clear errors, and the removed event naming the
// actor.
func TestAdminTokens(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	// A read token, made the way an operator makes one.
	r := e2etest.Run(ctx, t, bins.Path(licensegwBin), []string{"token", "create", "--name", "dashboard", "--scope", "read"})
	if r.Code != 0 || !strings.Contains(r.Stderr, `token "dashboard" {`) {
		t.Fatalf("token create: %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	readTok := strings.TrimSpace(r.Stdout)
	block := r.Stderr[strings.Index(r.Stderr, "  token "):]
	if strings.Contains(block, readTok) {
		t.Fatal("the configuration block holds the token in plain text")
	}

	g := StartGateway(t, `
feature "cad" {
  seats = 2
}
`, WithAdmin(block))

	fi, err := os.Stat(g.TokenFile())
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("admin token file: %v, %v; want mode 0600", fi, err)
	}

	// Beside the gateway (its configuration named), the CLI needs no token.
	if r := g.CLI(ctx, "status"); r.Code != 0 || !strings.Contains(r.Stdout, "cad") {
		t.Fatalf("status beside the gateway: %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	// Elsewhere, without a token: 401 with what to do.
	elsewhere := []string{"LICENSEGW_ADDR=" + g.AdminAddr, "LICENSEGW_CONFIG=" + t.TempDir() + "/none.hcl"}
	r = e2etest.Run(ctx, t, bins.Path(licensegwBin), []string{"status"}, elsewhere...)
	if r.Code == 0 || !strings.Contains(r.Stderr, "a token is required") || !strings.Contains(r.Stderr, "401") {
		t.Errorf("status without token: %d %q", r.Code, r.Stderr)
	}
	// A malformed token is refused by the CLI before it is sent.
	r = e2etest.Run(ctx, t, bins.Path(licensegwBin), []string{"status"}, append(elsewhere, "LICENSEGW_TOKEN=lgw_truncated")...)
	if r.Code == 0 || !strings.Contains(r.Stderr, "malformed token") || strings.Contains(r.Stderr, "lgw_truncated") {
		t.Errorf("malformed token: %d %q", r.Code, r.Stderr)
	}
	// An unknown well-formed token: 401.
	other, _ := token.New()
	r = e2etest.Run(ctx, t, bins.Path(licensegwBin), []string{"status", "--token", other}, elsewhere...)
	if r.Code == 0 || !strings.Contains(r.Stderr, "unknown token") {
		t.Errorf("unknown token: %d %q", r.Code, r.Stderr)
	}

	lease := g.Dial().checkout("cad", "alice", "ws-01")
	withRead := append(elsewhere, "LICENSEGW_TOKEN="+readTok)
	if r := e2etest.Run(ctx, t, bins.Path(licensegwBin), []string{"status"}, withRead...); r.Code != 0 || !strings.Contains(r.Stdout, lease) {
		t.Errorf("status with the read token: %d %q", r.Code, r.Stderr)
	}
	r = e2etest.Run(ctx, t, bins.Path(licensegwBin), []string{"remove", lease}, withRead...)
	if r.Code == 0 || !strings.Contains(r.Stderr, `token "dashboard" has scope read`) || !strings.Contains(r.Stderr, "403") {
		t.Errorf("remove with the read token: %d %q", r.Code, r.Stderr)
	}
	if f := g.Feature("cad"); f.InUse != 1 {
		t.Fatalf("a refused removal removed: in_use=%d", f.InUse)
	}
	// The admin token (found beside the gateway) removes, and the event
	// says who did.
	if r := g.CLI(ctx, "remove", lease); r.Code != 0 {
		t.Fatalf("remove with the admin token: %d %q", r.Code, r.Stderr)
	}
	ev := g.WaitEvent(15*time.Second, "removed", func(e e2etest.Event) bool { return e.Kind == events.Removed && e.Lease == lease })
	if !strings.HasPrefix(ev.By, "token admin (admin-api) client 127.0.0.1:") || ev.Raw["by"] != ev.By {
		t.Errorf("removed event by %q (raw %v), want the admin token named", ev.By, ev.Raw["by"])
	}
	// The gateway kept serving through the refusals.
	expect(t, g.Dial().Do("CHECKOUT feature=cad user=bob host=h"), "GRANTED")
}
