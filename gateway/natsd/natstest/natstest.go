package natstest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/natsd"
)

// The test identities' seeds. Public: never use them outside tests.
const (
	fullSeed     = "SUACDZUEBEJYFEWDE665VUU2AIXDHNTKTXV7QQ7VH662U7FM6WMNAYYWRI"
	readOnlySeed = "SUAM665Y22Z6GXEDNVYU5Z3OWUTMOY7MDJUMDQ3CQFQTMJFFFM3NL4KCFE"
)

// Start runs an embedded server with JetStream on a random loopback port and
// a store in t.TempDir(); it is shut down when the test ends.
func Start(t testing.TB) *natsd.Server {
	t.Helper()
	return StartAt(t, t.TempDir())
}

// StartAt is Start with the JetStream store in dir, so that a test can stop a
// server and start another on the same store. The server is shut down when
// the test ends (Shutdown is idempotent, so the test may also stop it).
func StartAt(t testing.TB, dir string) *natsd.Server {
	t.Helper()
	return StartWith(t, natsd.Config{StoreDir: dir})
}

// StartWith runs a server with cfg, completed with this package's defaults:
// a random loopback port, a store in t.TempDir(), and the Auth of Auth()
// when cfg.Auth has no identities.
func StartWith(t testing.TB, cfg natsd.Config) *natsd.Server {
	t.Helper()
	if cfg.Listen == "" && !cfg.NoListen {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.StoreDir == "" {
		cfg.StoreDir = t.TempDir()
	}
	if cfg.Name == "" {
		cfg.Name = "test"
	}
	if len(cfg.Auth.Identities) == 0 {
		cfg.Auth = Auth()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	log := hclog.New(&hclog.LoggerOptions{Name: "nats", Level: hclog.Warn, Output: testWriter{t}})
	s, err := natsd.Start(ctx, cfg, log)
	if err != nil {
		t.Fatalf("natstest: %v", err)
	}
	t.Cleanup(s.Shutdown)
	return s
}

// Auth is the test servers' authentication: the FullAccess and ReadOnly
// identities, reading the default events and lifecycle subjects and
// streams.
func Auth() natsd.Auth {
	return natsd.Auth{
		Identities: []natsd.Identity{
			{Name: "natstest-full", NKey: publicKey(fullSeed), Access: natsd.Full},
			{Name: "natstest-read", NKey: publicKey(readOnlySeed), Access: natsd.ReadOnly},
		},
		ReadSubjects:   append(events.StreamSubjects(events.DefaultPrefix), events.LifecycleSubjects(events.DefaultPrefix)...),
		ReadStreams:    []string{events.DefaultStream, events.DefaultLifecycleStream},
		ConsumeStreams: []string{events.DefaultStream},
	}
}

// FullAccess authenticates a network connection with every permission.
func FullAccess() nats.Option { return nkeyOption(fullSeed) }

// ReadOnly authenticates a network connection as a read-only identity.
func ReadOnly() nats.Option { return nkeyOption(readOnlySeed) }

// ReadOnlyCreds writes the ReadOnly identity's seed file into t.TempDir()
// and returns its path, for programs that take a credentials file.
func ReadOnlyCreds(t testing.TB) string {
	t.Helper()
	return writeSeed(t, "read.nk", readOnlySeed)
}

// FullAccessCreds is ReadOnlyCreds for the FullAccess identity.
func FullAccessCreds(t testing.TB) string {
	t.Helper()
	return writeSeed(t, "full.nk", fullSeed)
}

func writeSeed(t testing.TB, name, seed string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(seed+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Dial connects to s over TCP as FullAccess; the connection is closed when
// the test ends.
func Dial(t testing.TB, s *natsd.Server, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(s.ClientURL(), append([]nats.Option{FullAccess()}, opts...)...)
	if err != nil {
		t.Fatalf("natstest: connect: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func nkeyOption(seed string) nats.Option {
	kp, err := nkeys.FromSeed([]byte(seed))
	if err != nil {
		panic("natstest: bad seed constant: " + err.Error())
	}
	pub, _ := kp.PublicKey()
	return nats.Nkey(pub, kp.Sign)
}

func publicKey(seed string) string {
	kp, err := nkeys.FromSeed([]byte(seed))
	if err != nil {
		panic("natstest: bad seed constant: " + err.Error())
	}
	pub, _ := kp.PublicKey()
	return pub
}

// testWriter sends server warnings to the test log, so they show only for
// failed or verbose tests.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p))
	return len(p), nil
}

// Connect connects to s in process, as the gateway does; the connection
// is closed when the test ends.
func Connect(t testing.TB, s *natsd.Server) *nats.Conn {
	t.Helper()
	nc, err := s.Connect()
	if err != nil {
		t.Fatalf("natstest: connect: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// JetStream is JetStream on a Connect connection to s.
func JetStream(t testing.TB, s *natsd.Server) jetstream.JetStream {
	t.Helper()
	js, err := jetstream.New(Connect(t, s))
	if err != nil {
		t.Fatalf("natstest: jetstream: %v", err)
	}
	return js
}
