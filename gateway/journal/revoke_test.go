package journal_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/journal"
	"github.com/licensegw/licensegw/gateway/natsd"
	"github.com/licensegw/licensegw/gateway/natsd/natstest"
)

// TestRevokedWriterSendsNothingMore: a cluster leader whose appends were
// failing (the stream unreachable) when it lost its lease must not store
// them once the stream is back. Before MayWrite, its publisher retried
// them for as long as it ran, and the retry landed after the next leader
// had read the stream's tail: the next leader's term event was then
// refused and the rightful leader deposed by a node that no longer led
// (TestClusterFaults' flapping after a stream leader's kill).
func TestRevokedWriterSendsNothingMore(t *testing.T) {
	start, addr := restartable(t)
	s := start()
	// Dialed, as a gateway's journal is: its own connections.
	dial := func(opts ...nats.Option) (*nats.Conn, error) {
		return nats.Connect("nats://"+addr, append([]nats.Option{natstest.FullAccess(), nats.ReconnectWait(20 * time.Millisecond)}, opts...)...)
	}
	var holds atomic.Bool
	holds.Store(true)
	old, logs := openLogged(t, journal.Config{Dial: dial, Gateway: "gw1", Term: 3, MayWrite: holds.Load})
	ctx := waitCtx(t)
	for i := range 5 {
		if err := old.Append([]events.Event{ev(i)}).Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-old.Deposed():
		t.Fatal("Deposed closed while the writer may write")
	default:
	}

	s.Shutdown()
	var pending []*journal.Commit
	for i := range 5 {
		pending = append(pending, old.Append([]events.Event{ev(100 + i)}))
	}
	// The publisher fails and retries while the stream is away.
	const retrying = "publishing events failed; retrying"
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(logs.String(), retrying); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no failed attempt while the server was down; log:\n%s", logs.String())
		}
	}
	holds.Store(false) // the lease is lost meanwhile
	s = start()

	for i, c := range pending {
		if err := c.Wait(ctx); !errors.Is(err, journal.ErrRevoked) {
			t.Fatalf("pending commit %d after the lease was lost: %v, want ErrRevoked", i, err)
		}
	}
	select {
	case <-old.Deposed():
	case <-ctx.Done():
		t.Fatal("Deposed not closed after the revocation")
	}
	if err := old.Ready(); !errors.Is(err, journal.ErrRevoked) {
		t.Fatalf("Ready after the revocation: %v", err)
	}
	if err := old.Append([]events.Event{ev(200)}).Wait(ctx); !errors.Is(err, journal.ErrRevoked) {
		t.Fatalf("append after the revocation: %v, want ErrRevoked", err)
	}
	if err := old.Close(ctx); err != nil {
		t.Fatalf("close after the revocation: %v", err) // and no seal is sent
	}

	// The next leader opens the term it was elected with and writes on:
	// nothing of the old writer's lands after its tail.
	next, err := journal.Open(ctx, journal.Config{Conn: connectFull(t, s), Gateway: "gw2", Term: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = next.Close(context.Background()) })
	if err := next.Begin(ctx); err != nil {
		t.Fatalf("the next writer's term: %v", err)
	}
	if err := next.Append([]events.Event{ev(300)}).Wait(ctx); err != nil {
		t.Fatalf("the next writer's append: %v", err)
	}
	var got []string
	for _, m := range stored(t, s) { // term events aside
		var e struct{ Gateway, Lease string }
		if err := json.Unmarshal(m.Data, &e); err != nil {
			t.Fatal(err)
		}
		got = append(got, e.Gateway+"/"+e.Lease)
	}
	want := []string{"gw1/L0", "gw1/L1", "gw1/L2", "gw1/L3", "gw1/L4", "gw2/L300"}
	if !slices.Equal(got, want) {
		t.Fatalf("the stream holds %v, want %v: the revoked writer's pending events must not be stored", got, want)
	}
}

func connectFull(t *testing.T, s *natsd.Server) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(s.ClientURL(), natstest.FullAccess())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}
