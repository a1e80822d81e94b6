package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/natsd"
	"github.com/licensegw/licensegw/internal/e2etest"
)

// TestJournalTamperEvidence runs the journal's tamper evidence as an
// operator meets it: events verify on a live gateway, then, after a crash,
// one event changed with the server's full rights; verify names its
// sequence, the gateway refuses to start, journal repair drops exactly the
// events from there on, and the gateway starts again with the leases
// granted before the change.
func TestJournalTamperEvidence(t *testing.T) {
	t.Parallel()
	g := StartGateway(t, `
feature "cad" {
  seats = 10
}
`)
	c := g.Dial()
	var leases []string
	for _, u := range []string{"alice", "bob", "carol", "dave"} {
		leases = append(leases, c.checkout("cad", u, "ws-"+u))
	}
	expect(t, c.Do("CHECKIN lease="+leases[3]), "OK", "lease", leases[3])

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	last := g.Events()
	lastSeq := last[len(last)-1].Seq
	// A seal follows the events within a second.
	e2etest.Eventually(t, 30*time.Second, "a seal after the events", func() error {
		seals, err := e2etest.ReadStream(ctx, g.NATSURL(), "licensegw.events._journal.seal", g.AuditNATS())
		if err != nil {
			return err
		}
		if len(seals) == 0 || seals[len(seals)-1].Seq < lastSeq {
			return fmt.Errorf("seals %v, last event at %d", seals, lastSeq)
		}
		return nil
	})
	// Beside the gateway, verify finds the audit credentials and the
	// signing key through its configuration.
	r := g.CLI(ctx, "events", "verify", "--nats", g.NATSURL())
	if r.Code != 0 || !strings.Contains(r.Stdout, ", 0 unsealed") || !strings.Contains(r.Stdout, "last seal at sequence") ||
		strings.Contains(r.Stdout, "not checked") {
		t.Fatalf("events verify on the live gateway: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}

	// Crash, so that the start replays the events (no final snapshot),
	// and change carol's checkout as a compromised broker could.
	g.Kill()
	var changed uint64
	for _, e := range last {
		if e.Kind == events.Checkout && e.User == "carol" {
			changed = e.Seq
		}
	}
	tamper(t, filepath.Join(g.Dir, "data", "jetstream"), changed)
	want := fmt.Sprintf("at stream sequence %d", changed)

	r = g.CLI(ctx, "events", "verify", "--offline")
	if r.Code != 1 || !strings.Contains(r.Stdout, "BROKEN "+want) {
		t.Fatalf("events verify after the change: exit %d, want 1 naming sequence %d\n%s%s", r.Code, changed, r.Stdout, r.Stderr)
	}
	r = g.CLI(ctx, "serve", g.ConfigPath)
	if r.Code == 0 || !strings.Contains(r.Stderr, "hash chain broken "+want) || !strings.Contains(r.Stderr, "journal repair") {
		t.Fatalf("serve on a broken journal: exit %d, want a refusal naming sequence %d\n%s", r.Code, changed, r.Stderr)
	}

	r = g.CLI(ctx, "journal", "repair", "--dry-run", g.ConfigPath)
	if r.Code != 0 || !strings.Contains(r.Stdout, fmt.Sprintf("would drop %d ", changed)) {
		t.Fatalf("journal repair --dry-run: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	r = g.CLI(ctx, "journal", "repair", g.ConfigPath)
	if r.Code != 0 || !strings.Contains(r.Stdout, fmt.Sprintf("dropped %d ", changed)) || !strings.Contains(r.Stdout, "user=mallory") ||
		!strings.Contains(r.Stdout, fmt.Sprintf("the journal now ends at %d", changed-1)) {
		t.Fatalf("journal repair: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	t.Logf("journal repair:\n%s", r.Stdout)

	g.Start()
	// alice and bob were granted before the change; carol's checkout
	// (changed) and dave's checkout and checkin after it are gone.
	if f := g.Feature("cad"); f.InUse != 2 {
		t.Errorf("in_use %d after the repair, want 2 (alice, bob)", f.InUse)
	}
	expect(t, c2(g).Do("HEARTBEAT lease="+leases[0]), "OK", "lease", leases[0])
	r = g.CLI(ctx, "events", "verify", "--nats", g.NATSURL(), "--key", filepath.Join(g.Dir, "data", "signing.key"))
	if r.Code != 0 {
		t.Fatalf("events verify after the repair and a start: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
}

// c2 is a fresh connection (the old one died with the gateway's plugin).
func c2(g *Gateway) *Conn { return g.Dial() }

// tamper changes the user of the event at seq in the stopped gateway's
// store, with the server's own rights: the stream is read, deleted and
// written again with that one payload changed.
func tamper(t *testing.T, storeDir string, seq uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ns, err := natsd.Start(ctx, natsd.Config{StoreDir: storeDir, Name: "tamper", NoListen: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Shutdown()
	nc, err := ns.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	st, err := js.Stream(ctx, events.DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.FirstSeq != 1 {
		t.Fatalf("stream begins at %d", info.State.FirstSeq)
	}
	type msg struct {
		subject string
		data    []byte
	}
	var msgs []msg
	for s := uint64(1); s <= info.State.LastSeq; s++ {
		m, err := st.GetMsg(ctx, s)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			t.Fatalf("sequence %d missing", s)
		}
		if err != nil {
			t.Fatal(err)
		}
		data := m.Data
		if s == seq {
			var f map[string]any
			if err := json.Unmarshal(data, &f); err != nil {
				t.Fatal(err)
			}
			f["user"] = "mallory"
			data, _ = json.Marshal(f)
		}
		msgs = append(msgs, msg{m.Subject, data})
	}
	cfg := info.Config
	if err := js.DeleteStream(ctx, cfg.Name); err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if _, err := js.Publish(ctx, m.subject, m.data); err != nil {
			t.Fatal(err)
		}
	}
}
