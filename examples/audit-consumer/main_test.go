package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/licensegw/licensegw/examples/audit-consumer/audit"
	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/journal"
	"github.com/licensegw/licensegw/gateway/natsd/natstest"
)

// TestBinarySurvivesKill runs the built program against a real server while
// events keep coming, kills it with SIGKILL (no chance to finish a batch)
// several times, and checks that the file ends up with every event exactly
// once, in stream order.
func TestBinarySurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := filepath.Join(t.TempDir(), "audit-consumer")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	s := natstest.Start(t)
	nc, err := s.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	j, err := journal.Open(ctx, journal.Config{Conn: nc, Gateway: "gw-test"})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close(ctx)

	// Events keep coming while the consumer is killed and restarted.
	const rounds, perRound = 40, 25
	published := make(chan []string, 1)
	go func() {
		var ids []string
		for r := range rounds {
			batch := make([]events.Event, perRound)
			for i := range batch {
				batch[i] = events.Event{Kind: events.Checkin, Feature: "solver", Lease: "L" + strconv.Itoa(r*perRound+i), InUse: 0, Seats: 5}
			}
			c := j.Append(batch)
			if err := c.Wait(ctx); err != nil {
				t.Error(err)
				break
			}
			for _, e := range c.Events() {
				ids = append(ids, e.ID)
			}
			time.Sleep(10 * time.Millisecond)
		}
		published <- ids
	}()

	out := filepath.Join(t.TempDir(), "audit.jsonl")
	creds := natstest.ReadOnlyCreds(t) // the audit identity's permissions
	run := func() *exec.Cmd {
		cmd := exec.Command(bin, "-url", s.ClientURL(), "-creds", creds, "-out", out, "-batch", "8", "-ack-wait", "500ms")
		cmd.Stderr = testLog{t}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	for kill := 1; kill <= 3; kill++ {
		cmd := run()
		waitLines(t, out, kill*150)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
	}

	ids := <-published
	cmd := run()
	waitLines(t, out, len(ids))
	// Every event acknowledged, none pending: nothing can be redelivered
	// any more, so the file below is final.
	waitAcked(ctx, t, nc)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("after SIGTERM: %v", err)
	}

	if got := fileIDs(t, out); !slices.Equal(got, ids) {
		pos := map[string]int{}
		for i, id := range ids {
			pos[id] = i
		}
		var order []int
		for _, id := range got {
			order = append(order, pos[id])
		}
		t.Fatalf("file holds %d events, want the %d published, each once, in order; positions: %v", len(got), len(ids), order)
	}
}

// waitAcked waits until the durable consumer has nothing pending and no
// acknowledgement outstanding.
func waitAcked(ctx context.Context, t *testing.T, nc *nats.Conn) {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	cons, err := js.Consumer(ctx, audit.DefaultStream, audit.DefaultDurable)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		info, err := cons.Info(ctx)
		if err == nil && info.NumPending == 0 && info.NumAckPending == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("consumer not done after 30 s: %+v, %v", info, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func fileIDs(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ids []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var ev events.Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("line %d: %v", len(ids)+1, err)
		}
		if ev.Kind == events.TermKind {
			continue // the journal's own: it opens each writer's history
		}
		ids = append(ids, ev.ID)
	}
	return ids
}

func waitLines(t *testing.T, path string, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		got := bytes.Count(b, []byte{'\n'})
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("file has %d lines after 30s, want %d", got, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// testLog sends the program's log to the test's.
type testLog struct{ t *testing.T }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimSpace(p)))
	return len(p), nil
}
