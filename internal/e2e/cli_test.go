package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/internal/e2etest"
)

const cliFeatures = `
feature "cad" {
  version = "2024.1"
  seats   = %d
}
`

// TestCLI drives the licensegw administration commands against a running
// gateway: status, remove, reload and events tail.
func TestCLI(t *testing.T) {
	t.Parallel()
	g := StartGateway(t, strings.Replace(cliFeatures, "%d", "2", 1))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := g.Dial()
	kept := c.checkout("cad", "alice", "ws-01")
	doomed := c.checkout("cad", "bob", "ws-02")

	t.Run("status", func(t *testing.T) {
		r := g.CLI(ctx, "status")
		out := r.Stdout
		if r.Code != 0 {
			t.Fatalf("status: exit %d: %s", r.Code, r.Stderr)
		}
		for _, want := range []string{"gw-e2e", "cad", "2024.1", kept, doomed, "alice", "concurrentlm", "running"} {
			if !strings.Contains(out, want) {
				t.Errorf("status output lacks %q:\n%s", want, out)
			}
		}
		row := lineWith(out, "cad ")
		if f := strings.Fields(row); len(f) < 5 || f[3] != "2" || f[4] != "2" {
			t.Errorf("feature row %q, want seats 2 and in use 2", row)
		}
	})

	t.Run("remove", func(t *testing.T) {
		r := g.CLI(ctx, "remove", doomed)
		if r.Code != 0 || !strings.Contains(r.Stdout, "removed "+doomed) {
			t.Fatalf("remove: exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
		}
		expect(t, c.Do("HEARTBEAT lease="+doomed), "GONE", "lease", doomed, "reason", "removed")
		if code := g.CLI(ctx, "remove", doomed).Code; code != 1 {
			t.Errorf("removing it again: exit %d, want 1", code)
		}
	})

	t.Run("reload", func(t *testing.T) {
		g.SetFeatures(strings.Replace(cliFeatures, "%d", "7", 1))
		r := g.CLI(ctx, "reload")
		if r.Code != 0 || !strings.Contains(r.Stdout, "reloaded") {
			t.Fatalf("reload: exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
		}
		r = g.CLI(ctx, "status", "--json")
		out := r.Stdout
		if r.Code != 0 {
			t.Fatalf("status --json: exit %d", r.Code)
		}
		var st struct {
			Features []struct {
				Name   string
				Seats  int
				Leases []struct{ ID string }
			}
		}
		if err := json.Unmarshal([]byte(out), &st); err != nil {
			t.Fatalf("status --json: %v\n%s", err, out)
		}
		if len(st.Features) != 1 || st.Features[0].Seats != 7 || len(st.Features[0].Leases) != 1 || st.Features[0].Leases[0].ID != kept {
			t.Errorf("after the reload: %+v, want 7 seats and lease %s", st.Features, kept)
		}
		expect(t, c.Do("HEARTBEAT lease="+kept), "OK", "lease", kept)
	})

	t.Run("events tail", func(t *testing.T) {
		// Run beside the gateway, as its operator would: it finds the
		// audit credentials through ./config.hcl.
		cmd := exec.CommandContext(ctx, bins.Path(licensegwBin), "events", "tail", "--count", "1", "--kind", "checkout", "--nats", g.NATSURL())
		cmd.Dir = g.Dir
		var stdout bytes.Buffer
		cmd.Stdout = &stdout
		stderr, done := startBackground(t, cmd)
		// It subscribes, then says so; events before that are not its.
		e2etest.Eventually(t, 20*time.Second, "events tail subscribed", func() error {
			if !strings.Contains(stderr.String(), "listening on") {
				return errors.New("not subscribed yet")
			}
			return nil
		})
		// A denial first: --kind checkout must skip it.
		expect(t, c.Do("CHECKOUT feature=nope user=carol host=h"), "DENIED")
		lease := c.checkout("cad", "carol", "ws-03")
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("events tail: %v\n%s", err, stderr.String())
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("events tail did not stop after one checkout; stdout %q", stdout.String())
		}
		out := stdout.String()
		if strings.Count(strings.TrimSpace(out), "\n") != 0 {
			t.Errorf("--count 1 printed several lines:\n%s", out)
		}
		for _, want := range []string{string(events.Checkout), "cad", lease, "carol"} {
			if !strings.Contains(out, want) {
				t.Errorf("events tail output lacks %q: %q", want, out)
			}
		}
	})
}

// startBackground starts cmd with its stderr in a syncBuffer, waits for it
// in the background (its result arrives on the channel) and kills it at
// cleanup.
func startBackground(t *testing.T, cmd *exec.Cmd) (*syncBuffer, <-chan error) {
	t.Helper()
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return stderr, done
}

// syncBuffer is a bytes.Buffer safe to read while a process writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// lineWith is the first line of s that starts with prefix.
func lineWith(s, prefix string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

// TestCompletion asks the built binary for completions the way bash does
// after `complete -C licensegw licensegw` (what -autocomplete-install
// writes): COMP_LINE holds the line typed so far.
func TestCompletion(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tests := []struct {
		line string
		want []string
	}{
		{"licensegw sta", []string{"status"}},
		{"licensegw ev", []string{"events"}},
		{"licensegw events ", []string{"tail"}},
		{"licensegw status -", []string{"-addr", "-json", "-feature"}},
		{"licensegw run -f", []string{"-feature"}},
	}
	for _, tt := range tests {
		r := e2etest.Run(ctx, t, bins.Path(licensegwBin), []string{"licensegw"},
			"COMP_LINE="+tt.line, "COMP_POINT="+strconv.Itoa(len(tt.line)))
		got := strings.Fields(r.Stdout)
		if r.Code != 0 {
			t.Errorf("%q: exit %d", tt.line, r.Code)
		}
		for _, w := range tt.want {
			if !slices.Contains(got, w) {
				t.Errorf("completions of %q = %q, want %q among them", tt.line, got, w)
			}
		}
	}
}
