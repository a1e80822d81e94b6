package sdk_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/licensegw/licensegw/sdk"
	pb "github.com/licensegw/licensegw/sdk/proto"
	"github.com/licensegw/licensegw/sdk/sdktest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// frameCounter counts the frames the gateway side receives, to show that
// requests are batched.
type frameCounter struct{ frames atomic.Int64 }

func (c *frameCounter) interceptor(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	return h(srv, &countingStream{ServerStream: ss, c: c})
}

type countingStream struct {
	grpc.ServerStream
	c *frameCounter
}

func (s *countingStream) RecvMsg(m any) error {
	err := s.ServerStream.RecvMsg(m)
	if err == nil {
		s.c.frames.Add(1)
	}
	return err
}

// serveSeats serves the Seats service for seats on a unix socket and
// returns a client connection to it.
func serveSeats(tb testing.TB, seats sdk.Seats, register func(*grpc.Server), opts ...grpc.ServerOption) (*grpc.ClientConn, *grpc.Server) {
	tb.Helper()
	sock := filepath.Join(tb.TempDir(), "s")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		tb.Fatal(err)
	}
	srv := grpc.NewServer(opts...)
	pb.RegisterSeatsServer(srv, sdk.NewSeatsServer(seats, nil))
	if register != nil {
		register(srv)
	}
	go func() { _ = srv.Serve(ln) }()
	tb.Cleanup(srv.Stop)
	conn, err := grpc.NewClient("unix://"+sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = conn.Close() })
	return conn, srv
}

// openSession opens the plugin side of a Session on conn.
func openSession(tb testing.TB, conn *grpc.ClientConn, onEnd func(error)) sdk.Seats {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	stream, err := pb.NewSeatsClient(conn).Session(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	return sdk.NewSessionClient(stream, onEnd)
}

func TestSessionOperations(t *testing.T) {
	backend := sdktest.NewSeats(
		sdktest.Feature{Vendor: "acme", Name: "cad", Version: "2.0", Seats: 1, Queue: true, TTL: time.Minute},
	)
	conn, _ := serveSeats(t, backend, nil)
	seats := openSession(t, conn, nil)
	ctx := context.Background()

	c, err := seats.Checkout(ctx, sdk.CheckoutRequest{Feature: "cad", Sign: true, Nonce: "n",
		Client: sdk.Client{User: "ann", Host: "ws1", Addr: "10.0.0.1:5000"}})
	if err != nil || c.Outcome != sdk.Granted {
		t.Fatalf("checkout: %+v, %v", c, err)
	}
	g := c.Grant
	if g.Vendor != "acme" || g.Version != "2.0" || g.Count != 1 || g.TTL != time.Minute || g.Expires.IsZero() {
		t.Fatalf("grant fields lost: %+v", g)
	}
	pub, err := seats.PublicKey(ctx)
	if err != nil || !ed25519.Verify(pub, []byte(sdk.GrantText(g, "ann", "ws1", "n")), g.Signature) {
		t.Fatalf("grant signature does not verify over the stream (key %x, %v)", pub, err)
	}
	sig, err := seats.Sign(ctx, []byte("data"))
	if err != nil || !ed25519.Verify(pub, []byte("data"), sig) {
		t.Fatalf("Sign: %v", err)
	}

	d, err := seats.Checkout(ctx, sdk.CheckoutRequest{Feature: "cad"})
	if err != nil || d.Outcome != sdk.Denied || d.Denial.Reason != "no-seats" || d.Denial.InUse != 1 || d.Denial.Seats != 1 {
		t.Fatalf("denial: %+v, %v", d, err)
	}

	q, err := seats.Checkout(ctx, sdk.CheckoutRequest{Feature: "cad", Wait: time.Hour, Client: sdk.Client{User: "bob"}})
	if err != nil || q.Outcome != sdk.Queued || q.Position != 1 || q.Updates == nil {
		t.Fatalf("queued: %+v, %v", q, err)
	}
	fs, err := seats.Status(ctx, sdk.StatusQuery{Feature: "cad"})
	if err != nil || len(fs) != 1 || fs[0].InUse != 1 || fs[0].Queued != 1 ||
		fs[0].Leases[0].Client.Addr != "10.0.0.1:5000" || fs[0].Tickets[0].Client.User != "bob" || fs[0].LeaseTTL != time.Minute {
		t.Fatalf("status: %+v, %v", fs, err)
	}

	st, err := seats.Heartbeat(ctx, g.Lease)
	if err != nil || st.Lease != g.Lease || st.TTL != time.Minute {
		t.Fatalf("heartbeat: %+v, %v", st, err)
	}
	if err := seats.Checkin(ctx, g.Lease); err != nil {
		t.Fatal(err)
	}
	select {
	case u := <-q.Updates:
		if u.Grant == nil || u.Ticket != q.Ticket {
			t.Fatalf("ticket update: %+v", u)
		}
		if err := seats.Remove(ctx, u.Grant.Lease, sdk.Client{Addr: "test"}); err != nil {
			t.Fatal(err)
		}
		var gone *sdk.GoneError
		if _, err := seats.Heartbeat(ctx, u.Grant.Lease); !errors.As(err, &gone) || gone.Reason != "removed" || gone.Lease != u.Grant.Lease {
			t.Fatalf("heartbeat of a removed lease: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no grant update for the queued checkout")
	}
	if _, ok := <-q.Updates; ok {
		t.Fatal("Updates not closed after the final update")
	}
	if err := seats.Cancel(ctx, "nope"); !errors.Is(err, sdk.ErrUnknownTicket) {
		t.Fatalf("cancel unknown: %v", err)
	}
	if err := seats.Reload(ctx); err != nil || backend.Reloads() != 1 {
		t.Fatalf("reload: %v (%d)", err, backend.Reloads())
	}
	backend.FailWith(sdk.ErrUnavailable)
	if _, err := seats.Checkout(ctx, sdk.CheckoutRequest{Feature: "cad"}); !errors.Is(err, sdk.ErrUnavailable) {
		t.Fatalf("unavailable: %v", err)
	}
}

// gatedSeats holds Checkout until the gate opens.
type gatedSeats struct {
	sdk.Seats
	gate     chan struct{}
	checkins atomic.Int64
}

func (g *gatedSeats) Checkout(ctx context.Context, req sdk.CheckoutRequest) (*sdk.Checkout, error) {
	<-g.gate
	return g.Seats.Checkout(context.WithoutCancel(ctx), req)
}

func (g *gatedSeats) Checkin(ctx context.Context, lease string) error {
	g.checkins.Add(1)
	return g.Seats.Checkin(ctx, lease)
}

// A checkout whose caller gives up but which the gateway grants anyway is
// checked back in, so no seat leaks until its TTL.
func TestAbandonedCheckoutIsUndone(t *testing.T) {
	backend := sdktest.NewSeats(sdktest.Feature{Name: "cad", Seats: 1})
	gated := &gatedSeats{Seats: backend, gate: make(chan struct{})}
	conn, _ := serveSeats(t, gated, nil)
	seats := openSession(t, conn, nil)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := seats.Checkout(ctx, sdk.CheckoutRequest{Feature: "cad"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want deadline exceeded, got %v", err)
	}
	close(gated.gate)
	waitFor(t, "the abandoned grant to be checked in", func() bool { return gated.checkins.Load() == 1 })
	if fs, err := backend.Status(context.Background(), sdk.StatusQuery{}); err != nil || fs[0].InUse != 0 {
		t.Fatalf("seats in use after the undo: %+v, %v", fs, err)
	}
	c, err := seats.Checkout(context.Background(), sdk.CheckoutRequest{Feature: "cad"})
	if err != nil || c.Outcome != sdk.Granted {
		t.Fatalf("the seat did not come back: %+v, %v", c, err)
	}
}

// When the gateway goes away, calls fail with ErrUnavailable, waiting
// tickets end, and the plugin is told.
func TestSessionEnd(t *testing.T) {
	backend := sdktest.NewSeats(sdktest.Feature{Name: "cad", Seats: 1, Queue: true})
	conn, srv := serveSeats(t, backend, nil)
	ended := make(chan error, 1)
	seats := openSession(t, conn, func(err error) { ended <- err })
	ctx := context.Background()
	if _, err := seats.Checkout(ctx, sdk.CheckoutRequest{Feature: "cad"}); err != nil {
		t.Fatal(err)
	}
	q, err := seats.Checkout(ctx, sdk.CheckoutRequest{Feature: "cad", Wait: time.Hour})
	if err != nil || q.Outcome != sdk.Queued {
		t.Fatalf("queue: %+v, %v", q, err)
	}

	srv.Stop()
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("onEnd not called when the gateway went away")
	}
	u, ok := <-q.Updates
	if !ok || u.Denial == nil || u.Denial.Reason != "unavailable" {
		t.Fatalf("ticket after session end: %+v (open %v)", u, ok)
	}
	if _, err := seats.Status(ctx, sdk.StatusQuery{}); !errors.Is(err, sdk.ErrUnavailable) {
		t.Fatalf("call after session end: %v", err)
	}
	// The gateway side cancelled the ticket of the vanished session.
	waitFor(t, "the ticket to be cancelled", func() bool {
		fs, err := backend.Status(ctx, sdk.StatusQuery{})
		return err == nil && fs[0].Queued == 0
	})
}

// Many goroutines share one session: every call gets its own answer, the
// counts stay right, and requests travel in batches.
func TestSessionConcurrency(t *testing.T) {
	const (
		workers = 64
		rounds  = 100
		nSeats  = 8
	)
	backend := sdktest.NewSeats(sdktest.Feature{Name: "cad", Seats: nSeats})
	counter := &frameCounter{}
	conn, _ := serveSeats(t, backend, nil, grpc.StreamInterceptor(counter.interceptor))
	seats := openSession(t, conn, nil)

	var granted, denied atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			for i := range rounds {
				user := fmt.Sprintf("u%d-%d", w, i)
				c, err := seats.Checkout(ctx, sdk.CheckoutRequest{Feature: "cad", Client: sdk.Client{User: user}})
				if err != nil {
					errs <- err
					return
				}
				if c.Outcome == sdk.Denied {
					denied.Add(1)
					continue
				}
				granted.Add(1)
				fs, err := seats.Status(ctx, sdk.StatusQuery{Feature: "cad"})
				if err != nil {
					errs <- err
					return
				}
				if fs[0].InUse > nSeats {
					errs <- fmt.Errorf("%d seats in use of %d", fs[0].InUse, nSeats)
					return
				}
				if err := seats.Checkin(ctx, c.Grant.Lease); err != nil {
					errs <- fmt.Errorf("checkin %s: %w", c.Grant.Lease, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if granted.Load()+denied.Load() != workers*rounds || granted.Load() == 0 {
		t.Fatalf("granted %d + denied %d != %d", granted.Load(), denied.Load(), workers*rounds)
	}
	fs, err := backend.Status(context.Background(), sdk.StatusQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if fs[0].InUse != 0 {
		t.Fatalf("%d seats still in use after every checkin", fs[0].InUse)
	}
	requests := granted.Load()*3 + denied.Load()
	if frames := counter.frames.Load(); frames >= requests {
		t.Fatalf("%d frames for %d requests: no batching", frames, requests)
	} else {
		t.Logf("%d requests in %d frames (%.1f per frame)", requests, frames, float64(requests)/float64(frames))
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
