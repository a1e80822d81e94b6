package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/natsd/natstest"
	"github.com/licensegw/licensegw/internal/e2etest"
)

// forgedCheckout is the event of issue 11's forgery: a checkout for
// "mallory" that no client asked for.
func forgedCheckout(t *testing.T) []byte {
	t.Helper()
	b, err := json.Marshal(events.Event{
		Schema: events.Schema, ID: "01JFORGEDFORGEDFORGEDFORGED", Kind: events.Checkout, Gateway: e2etest.DefaultName,
		Time: time.Now().UTC(), Vendor: events.DefaultVendor, Feature: "cad", Version: "1.0",
		Lease: "forged-lease", User: "mallory", Host: "evil", Count: 1, InUse: 1, Seats: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestNATSForgeryRefused replays issue 11's attack on a real gateway: a
// forged checkout published to the embedded NATS, a purge and a delete of
// the stream, then a restart. Without credentials nothing connects; with
// the audit credentials the writes are permission violations; the audit
// identity still follows events with its durable consumer; after the
// restart no forged lease exists and the seat is free.
func TestNATSForgeryRefused(t *testing.T) {
	t.Parallel()
	g := StartGateway(t, `
feature "cad" {
  seats = 1
}
`)
	fi, err := os.Stat(g.AuditCreds())
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("audit credentials: %v, %v; want a file with mode 0600", fi, err)
	}

	// No credentials, or a key the gateway does not know: refused.
	stranger, _ := nkeys.CreateUser()
	strangerPub, _ := stranger.PublicKey()
	for name, opts := range map[string][]nats.Option{
		"no credentials": nil,
		"unknown nkey":   {nats.Nkey(strangerPub, stranger.Sign)},
	} {
		nc, err := nats.Connect(g.NATSURL(), append(opts, nats.Timeout(20*time.Second))...)
		if err == nil {
			nc.Close()
			t.Fatalf("%s: connected", name)
		}
		if !errors.Is(err, nats.ErrAuthorization) {
			t.Errorf("%s: %v, want an authorization violation", name, err)
		}
	}

	// The audit identity: a durable consumer, then the attack.
	asyncErrs := make(chan error, 16)
	audit, err := nats.Connect(g.NATSURL(), g.AuditNATS(), nats.Timeout(20*time.Second),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { asyncErrs <- err }))
	if err != nil {
		t.Fatalf("audit credentials: %v", err)
	}
	defer audit.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	js, _ := jetstream.New(audit)
	cons, err := js.CreateOrUpdateConsumer(ctx, e2etest.StreamName, jetstream.ConsumerConfig{
		Durable: "siem", AckPolicy: jetstream.AckExplicitPolicy, FilterSubject: "licensegw.events.*.cad.checkout",
	})
	if err != nil {
		t.Fatalf("durable consumer with the audit credentials: %v", err)
	}

	for _, subject := range []string{
		"licensegw.events.local.cad.checkout",
		"$JS.API.STREAM.PURGE." + e2etest.StreamName,
		"$JS.API.STREAM.DELETE." + e2etest.StreamName,
		"$JS.API.STREAM.MSG.DELETE." + e2etest.StreamName,
	} {
		if err := audit.PublishRequest(subject, audit.NewRespInbox(), forgedCheckout(t)); err != nil {
			t.Fatal(err)
		}
		if err := audit.Flush(); err != nil {
			t.Fatal(err)
		}
		waitViolation(t, asyncErrs, subject)
	}

	// A real checkout reaches the audit consumer.
	c := g.Dial()
	defer c.Close()
	grant := c.Do("CHECKOUT feature=cad user=alice host=ws-01")
	expect(t, grant, "GRANTED")
	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var got []events.Event
	for m := range batch.Messages() {
		var ev events.Event
		if err := json.Unmarshal(m.Data(), &ev); err != nil {
			t.Fatal(err)
		}
		got = append(got, ev)
		if err := m.DoubleAck(ctx); err != nil {
			t.Errorf("ack: %v", err)
		}
	}
	if len(got) != 1 || got[0].User != "alice" {
		t.Fatalf("durable consumer fetched %+v (%v), want alice's checkout", got, batch.Error())
	}
	expect(t, c.Do("CHECKIN lease="+grant.Get("lease")), "OK")
	c.Close()

	// After a restart the gateway adopted nothing it did not grant.
	g.Restart()
	cad := g.Feature("cad")
	for _, l := range cad.Leases {
		if l.User == "mallory" {
			t.Fatalf("the forged lease was adopted: %+v", l)
		}
	}
	if cad.InUse != 0 {
		t.Errorf("cad in use %d after the restart, want 0", cad.InUse)
	}
	for _, e := range g.Events() {
		if e.User == "mallory" {
			t.Fatalf("the stream holds the forged event at seq %d", e.Seq)
		}
	}
	c = g.Dial()
	defer c.Close()
	expect(t, c.Do("CHECKOUT feature=cad user=bob host=ws-02"), "GRANTED")
}

// waitViolation waits for the server's permissions violation about subject.
func waitViolation(t *testing.T, asyncErrs <-chan error, subject string) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case err := <-asyncErrs:
			if errors.Is(err, nats.ErrPermissionViolation) && strings.Contains(err.Error(), `"`+subject+`"`) {
				return
			}
		case <-deadline:
			t.Fatalf("no permissions violation for %s", subject)
		}
	}
}

// TestNATSBadAuditCredentials: a damaged audit credentials file is reported
// clearly, by the gateway (which keeps serving) and by the CLI, and is
// never silently replaced.
func TestNATSBadAuditCredentials(t *testing.T) {
	t.Parallel()
	g := StartGateway(t, `
feature "cad" {
  seats = 1
}
`)
	g.Stop()
	b, err := os.ReadFile(g.AuditCreds())
	if err != nil {
		t.Fatal(err)
	}
	truncated := b[:len(b)-20]
	if err := os.WriteFile(g.AuditCreds(), truncated, 0o600); err != nil {
		t.Fatal(err)
	}
	g.Start()
	if !strings.Contains(g.Log(), "NATS audit identity off") {
		t.Errorf("the gateway did not say the audit identity is off:\n%s", g.Log())
	}
	c := g.Dial()
	defer c.Close()
	expect(t, c.Do("CHECKOUT feature=cad user=alice host=ws-01"), "GRANTED")

	r := g.CLI(t.Context(), "events", "tail", "--count", "1", "--nats", g.NATSURL())
	if r.Code == 0 || !strings.Contains(r.Stderr, "malformed NATS credentials") || !strings.Contains(r.Stderr, g.AuditCreds()) {
		t.Errorf("events tail with the damaged file: %d %q", r.Code, r.Stderr)
	}
	if after, _ := os.ReadFile(g.AuditCreds()); string(after) != string(truncated) {
		t.Error("the damaged file was replaced")
	}
	// Credentials of a stranger: refused with a clear error.
	r = g.CLI(t.Context(), "events", "tail", "--count", "1", "--nats", g.NATSURL(), "--creds", natstest.ReadOnlyCreds(t))
	if r.Code == 0 || !strings.Contains(r.Stderr, "does not accept these credentials") {
		t.Errorf("events tail with a stranger's credentials: %d %q", r.Code, r.Stderr)
	}
	// The write identity still connects: the listener serves.
	if nc := g.PrivilegedNATS(); !nc.IsConnected() {
		t.Error("privileged connection not connected")
	}
}

// TestNATSTLS: the embedded server's listener with TLS and client
// certificates; events tail connects with the CA, its certificate and the
// audit credentials found beside the gateway.
func TestNATSTLS(t *testing.T) {
	t.Parallel()
	files := natstest.NewTLSFiles(t)
	g := StartGateway(t, `
feature "cad" {
  seats = 1
}
`, WithNATSBody(`
  tls {
    cert_file      = "`+files.ServerCert+`"
    key_file       = "`+files.ServerKey+`"
    client_ca_file = "`+files.CA+`"
  }
`))
	tail := func(extra ...string) e2etest.Result {
		args := append([]string{"events", "tail", "--count", "1", "--nats", "tls://" + g.NATSAddr}, extra...)
		return g.CLI(t.Context(), args...)
	}
	if r := tail(); r.Code == 0 || !strings.Contains(r.Stderr, "connect to NATS") {
		t.Errorf("tail without TLS settings: %d %q", r.Code, r.Stderr)
	}
	if r := tail("--nats-tls-ca", files.CA); r.Code == 0 {
		t.Errorf("tail without a client certificate: %d %q", r.Code, r.Stderr)
	}
	// With the CA, its certificate and the audit credentials found beside
	// the gateway: it subscribes, and the next checkout ends it.
	cmd := exec.CommandContext(t.Context(), bins.Path(licensegwBin), "events", "tail", "--count", "1", "--kind", "checkout",
		"--nats", "tls://"+g.NATSAddr, "--nats-tls-ca", files.CA, "--nats-tls-cert", files.ClientCert, "--nats-tls-key", files.ClientKey)
	cmd.Dir = g.Dir
	var stdout syncBuffer
	cmd.Stdout = &stdout
	stderr, done := startBackground(t, cmd)
	e2etest.Eventually(t, 30*time.Second, "events tail subscribed over TLS", func() error {
		if !strings.Contains(stderr.String(), "listening on") {
			return errors.New("not subscribed yet: " + stderr.String())
		}
		return nil
	})
	c := g.Dial()
	defer c.Close()
	expect(t, c.Do("CHECKOUT feature=cad user=alice host=ws-01"), "GRANTED")
	select {
	case err := <-done:
		if err != nil || !strings.Contains(stdout.String(), "alice") {
			t.Fatalf("events tail over TLS: %v %q %q", err, stdout.String(), stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("events tail over TLS did not stop after one checkout; stdout %q", stdout.String())
	}
}

// TestNATSRotation: credentials rotate with a reload, no restart: a
// deleted audit seed is made anew (the old one is refused and its
// connection closed), a declared identity is accepted, then revoked.
func TestNATSRotation(t *testing.T) {
	t.Parallel()
	const features = `
feature "cad" {
  seats = 1
}
`
	g := StartGateway(t, features)
	oldSeed, err := os.ReadFile(g.AuditCreds())
	if err != nil {
		t.Fatal(err)
	}
	oldFile := g.Path("old-audit.nk")
	if err := os.WriteFile(oldFile, oldSeed, 0o600); err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	old, err := nats.Connect(g.NATSURL(), g.AuditNATS(), nats.NoReconnect(), nats.Timeout(20*time.Second),
		nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()

	// A new identity, declared the way an operator does.
	siemFile := g.Path("siem.nk")
	r := g.CLI(t.Context(), "nats", "identity", "-name", "siem", "-out", siemFile)
	if r.Code != 0 {
		t.Fatalf("nats identity: %d %q", r.Code, r.Stderr)
	}
	if err := os.Remove(g.AuditCreds()); err != nil {
		t.Fatal(err)
	}
	// The printed block goes into the nats block.
	g.WriteFile("config.hcl", strings.Replace(readFile(t, g.ConfigPath), "nats {\n", "nats {\n"+r.Stdout, 1))
	if r := g.CLI(t.Context(), "reload"); r.Code != 0 {
		t.Fatalf("reload: %d %q", r.Code, r.Stderr)
	}
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
		t.Fatal("the rotated audit identity's connection stayed open")
	}
	connect := func(file string) error {
		opt, err := nats.NkeyOptionFromSeed(file)
		if err != nil {
			t.Fatal(err)
		}
		nc, err := nats.Connect(g.NATSURL(), opt, nats.Timeout(20*time.Second))
		if err == nil {
			nc.Close()
		}
		return err
	}
	if err := connect(oldFile); !errors.Is(err, nats.ErrAuthorization) {
		t.Errorf("the old audit seed after rotation: %v, want an authorization violation", err)
	}
	if err := connect(g.AuditCreds()); err != nil {
		t.Errorf("the new audit seed: %v", err)
	}
	if err := connect(siemFile); err != nil {
		t.Errorf("the declared identity: %v", err)
	}

	// Revoked: the block removed, reload.
	g.Reconfigure(g.config())
	if r := g.CLI(t.Context(), "reload"); r.Code != 0 {
		t.Fatalf("reload: %d %q", r.Code, r.Stderr)
	}
	if err := connect(siemFile); !errors.Is(err, nats.ErrAuthorization) {
		t.Errorf("the revoked identity: %v, want an authorization violation", err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
