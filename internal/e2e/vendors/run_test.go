package vendors

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/internal/e2etest"
	clm "github.com/licensegw/licensegw/plugins/concurrentlm/client"
)

// clmConfig serves one queueing seat of "tool" with the concurrent-lm
// plugin on a free TCP+UDP port.
const clmConfig = `
feature "tool" {
  seats = 1
  queue {}
}

plugin "concurrentlm" {
  path   = "{{.Bin "licensegw-concurrentlm"}}"
  listen = { tcp = "{{.TCPUDP "clm"}}", udp = "{{.TCPUDP "clm"}}" }
}
`

// TestRun: `licensegw run` holds a seat while its program runs, passes the
// program's exit status on, refuses to run it without a seat, and with
// --wait runs it once a seat frees.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	g := e2etest.Start(t, e2etest.Options{Bins: bins, Config: clmConfig})
	server := g.Addr("clm")
	run := func(ctx context.Context, args ...string) e2etest.Result {
		return e2etest.Run(ctx, t, bins.Path("licensegw"), append([]string{"run", "--server", server, "--feature", "tool"}, args...))
	}

	// The program's status comes back, and its lease is checked in.
	if r := run(ctx, "--", "sh", "-c", "exit 7"); r.Code != 7 {
		t.Fatalf("run -- sh -c 'exit 7': exit %d, want 7\n%s", r.Code, r.Stderr)
	}
	co := g.WaitEvent(10*time.Second, "checkout by run", func(e e2etest.Event) bool {
		return e.Kind == events.Checkout && e.Feature == "tool"
	})
	g.WaitEvent(10*time.Second, "checkin after the program", func(e e2etest.Event) bool {
		return e.Kind == events.Checkin && e.Lease == co.Lease
	})
	if f := g.Feature("tool"); f.InUse != 0 {
		t.Errorf("tool: %d in use after run ended", f.InUse)
	}

	// With the seat taken: a denial, exit 4, and the program never runs.
	holder, err := clm.Dial(ctx, server, clm.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	lease, err := holder.Checkout(ctx, clm.CheckoutOptions{Feature: "tool", User: "holder", Host: "h"})
	if err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(t.TempDir(), "ran")
	r := run(ctx, "--", "sh", "-c", "touch "+marker)
	if r.Code != 4 || !strings.Contains(r.Stderr, "no licence for tool") {
		t.Errorf("run with every seat taken: exit %d, stderr %q; want 4 and a denial", r.Code, r.Stderr)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the program ran without a seat")
	}

	// --wait: queued until the holder leaves, then the program runs.
	done := make(chan e2etest.Result, 1)
	go func() { done <- run(ctx, "--wait", "1m", "--", "sh", "-c", "touch "+marker) }()
	e2etest.Eventually(t, 20*time.Second, "run queued", func() error {
		if f := g.Feature("tool"); len(f.Tickets) != 1 {
			return fmt.Errorf("%d tickets", len(f.Tickets))
		}
		return nil
	})
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the program ran while queued")
	}
	if err := lease.Checkin(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if r.Code != 0 {
			t.Errorf("run --wait: exit %d\n%s", r.Code, r.Stderr)
		}
	case <-ctx.Done():
		t.Fatal("run --wait never ended")
	}
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("run --wait did not run the program: %v", err)
	}
}
