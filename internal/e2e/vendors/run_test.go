package vendors

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
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

// TestRunSignals: SIGTERM to `licensegw run` goes to its program, whose
// status (killed by a signal: 128+15) comes back, and the seat is checked
// in; SIGTERM while it waits in the queue leaves the queue without running
// the program.
func TestRunSignals(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	g := e2etest.Start(t, e2etest.Options{Bins: bins, Config: clmConfig})
	dir := t.TempDir()
	started, ran := filepath.Join(dir, "started"), filepath.Join(dir, "ran")
	start := func(program string) (*exec.Cmd, chan int) {
		cmd := exec.CommandContext(ctx, bins.Path("licensegw"), "run", "--server", g.Addr("clm"), "--feature", "tool", "--wait", "1m", "--", "sh", "-c", program)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		code := make(chan int, 1)
		go func() {
			_ = cmd.Wait()
			code <- cmd.ProcessState.ExitCode()
		}()
		return cmd, code
	}

	first, firstCode := start("touch " + started + "; exec sleep 60")
	e2etest.Eventually(t, 20*time.Second, "the program started", func() error {
		_, err := os.Stat(started)
		return err
	})
	co := g.WaitEvent(10*time.Second, "checkout by run", func(e e2etest.Event) bool {
		return e.Kind == events.Checkout && e.Feature == "tool"
	})

	// A second run queues behind the first; SIGTERM takes it out.
	second, secondCode := start("touch " + ran)
	e2etest.Eventually(t, 20*time.Second, "the second run queued", func() error {
		if n := len(g.Feature("tool").Tickets); n != 1 {
			return fmt.Errorf("%d tickets", n)
		}
		return nil
	})
	if err := second.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-secondCode:
		if code == 0 {
			t.Error("a run stopped while queued exited 0")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a queued run did not end on SIGTERM")
	}
	e2etest.Eventually(t, 20*time.Second, "the queue emptied", func() error {
		if n := len(g.Feature("tool").Tickets); n != 0 {
			return fmt.Errorf("%d tickets", n)
		}
		return nil
	})

	if err := first.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-firstCode:
		if code != 128+int(syscall.SIGTERM) {
			t.Errorf("run whose program got SIGTERM: exit %d, want %d", code, 128+int(syscall.SIGTERM))
		}
	case <-time.After(20 * time.Second):
		t.Fatal("run did not end on SIGTERM: the signal did not reach its program")
	}
	g.WaitEvent(10*time.Second, "checkin after SIGTERM", func(e e2etest.Event) bool {
		return e.Kind == events.Checkin && e.Lease == co.Lease
	})
	if _, err := os.Stat(ran); err == nil {
		t.Error("the queued run's program ran although it was stopped")
	}
}

// TestRunInterrupted: SIGTERM at any moment of `licensegw run`'s life (a
// signal before the process has set up its handlers kills it, which is
// fine: it holds nothing yet) never leaves a seat taken.
func TestRunInterrupted(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	g := e2etest.Start(t, e2etest.Options{Bins: bins, Config: clmConfig})
	for i := range 40 {
		delay := time.Duration(i) * time.Millisecond
		cmd := exec.CommandContext(ctx, bins.Path("licensegw"), "run", "--server", g.Addr("clm"), "--feature", "tool", "--", "sleep", "5")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay)
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		e2etest.Eventually(t, 5*time.Second, fmt.Sprintf("seat free after SIGTERM at %s (%s)", delay, cmd.ProcessState), func() error {
			if f := g.Feature("tool"); f.InUse != 0 {
				return fmt.Errorf("%d in use: %+v", f.InUse, f.Leases)
			}
			return nil
		})
	}
}
