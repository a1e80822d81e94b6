package e2e

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/admin"
)

// TestReloadPaths reloads on SIGHUP, and refuses an invalid configuration
// through the CLI while the running one stays in force.
func TestReloadPaths(t *testing.T) {
	t.Parallel()
	g := StartGateway(t, `
feature "cad" {
  seats = 2
}
`)
	lease := g.Dial().checkout("cad", "alice", "h")

	g.SetFeatures(`
feature "cad" {
  seats = 5
}
feature "viewer" {
  seats = 1
}
`)
	if err := syscall.Kill(g.PID(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "SIGHUP reload", func() error {
		st := g.Status()
		if len(st.Features) != 2 {
			return fmt.Errorf("%d features", len(st.Features))
		}
		if f := g.Feature("cad"); f.Seats != 5 || f.InUse != 1 {
			return fmt.Errorf("cad seats=%d in_use=%d", f.Seats, f.InUse)
		}
		return nil
	})

	g.SetFeatures(`
feature "cad" {
  seats = -1
}
`)
	code, out, errOut := g.CLI(t.Context(), "reload")
	if code == 0 || !strings.Contains(errOut, "reload refused") {
		t.Errorf("reload of an invalid file: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if f := g.Feature("cad"); f.Seats != 5 || len(f.Leases) != 1 || f.Leases[0].ID != lease {
		t.Errorf("after a refused reload: seats=%d leases=%+v, want the running 5 seats and the lease", f.Seats, f.Leases)
	}
	expect(t, g.Dial().Do("CHECKOUT feature=viewer user=u host=h"), "GRANTED")

	err := g.Admin().RemoveLease(t.Context(), "no-such-lease")
	if !errors.Is(err, admin.ErrNotFound) {
		t.Errorf("removing an unknown lease: %v, want ErrNotFound", err)
	}
}

// TestRateLimit: requests over the per-IP rate are answered
// too-many-requests and not executed.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	g := StartGateway(t, `
feature "cad" {
  seats = 100
}
`, WithPluginConfig(`    rate  = 1
    burst = 5`))
	c := g.Dial()
	var b strings.Builder
	const n = 30
	for i := range n {
		fmt.Fprintf(&b, "CHECKOUT feature=cad user=u host=h id=r%d\n", i)
	}
	c.Send(strings.TrimSuffix(b.String(), "\n"))
	granted, limited := 0, 0
	for i := range n {
		r := c.Next()
		expect(t, r, "", "id", fmt.Sprint("r", i))
		switch {
		case r.Verb == "GRANTED":
			granted++
		case r.Verb == "ERR" && r.Get("code") == "too-many-requests":
			limited++
		default:
			t.Errorf("unexpected %q", r.Line)
		}
	}
	if granted < 5 || granted > 8 || limited != n-granted {
		t.Errorf("%d granted, %d limited of %d at rate 1 burst 5", granted, limited, n)
	}
	if f := g.Feature("cad"); f.InUse != granted {
		t.Errorf("admin in_use=%d, %d grants answered: a limited request was executed", f.InUse, granted)
	}
}
