package natstest

import (
	"context"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/licensegw/licensegw/gateway/natsd"
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
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	log := hclog.New(&hclog.LoggerOptions{Name: "nats", Level: hclog.Warn, Output: testWriter{t}})
	s, err := natsd.Start(ctx, natsd.Config{Listen: "127.0.0.1:0", StoreDir: dir, Name: "test"}, log)
	if err != nil {
		t.Fatalf("natstest: %v", err)
	}
	t.Cleanup(s.Shutdown)
	return s
}

// testWriter sends server warnings to the test log, so they show only for
// failed or verbose tests.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p))
	return len(p), nil
}
