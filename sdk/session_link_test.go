package sdk_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/licensegw/licensegw/sdk"
	"github.com/licensegw/licensegw/sdk/sdktest"
	"google.golang.org/grpc"
)

// streamKiller ends the Session streams it is told to while the gRPC
// connection stays up, as a frame that cannot be encoded used to.
type streamKiller struct {
	mu    sync.Mutex
	kills []chan struct{}
}

func (k *streamKiller) interceptor(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	kill := make(chan struct{})
	k.mu.Lock()
	k.kills = append(k.kills, kill)
	k.mu.Unlock()
	done := make(chan error, 1)
	go func() { done <- h(srv, ss) }()
	select {
	case err := <-done:
		return err
	case <-kill:
		return errors.New("stream killed by the test")
	}
}

func (k *streamKiller) killLatest() {
	k.mu.Lock()
	defer k.mu.Unlock()
	close(k.kills[len(k.kills)-1])
}

// TestSeatsLinkReopens: when the Session stream ends while the gateway
// lives, the plugin's Seats opens a new one on the same connection: calls
// go on, the lease taken before is still there, and a queue ticket that
// waited across the break still gets its grant.
func TestSeatsLinkReopens(t *testing.T) {
	backend := sdktest.NewSeats(sdktest.Feature{Name: "solo", Seats: 1, Queue: true, TTL: time.Minute})
	var k streamKiller
	conn, _ := serveSeats(t, backend, nil, grpc.StreamInterceptor(k.interceptor))
	gone := make(chan error, 1)
	link, err := sdk.NewSeatsLink(conn, func(err error) { gone <- err })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(link.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	held, err := link.Checkout(ctx, sdk.CheckoutRequest{Feature: "solo", Client: sdk.Client{User: "a"}})
	if err != nil || held.Outcome != sdk.Granted {
		t.Fatalf("checkout: %+v %v", held, err)
	}
	q, err := link.Checkout(ctx, sdk.CheckoutRequest{Feature: "solo", Wait: time.Hour, Client: sdk.Client{User: "b"}})
	if err != nil || q.Outcome != sdk.Queued {
		t.Fatalf("queued checkout: %+v %v", q, err)
	}

	k.killLatest()
	// Calls made after the break go on the next session. The first may
	// race the break: answered "unavailable" (retry as a client would),
	// or still answered on the old stream, whose handler runs on until
	// gRPC has ended it (ask again until the link has moved on).
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err = link.Heartbeat(ctx, held.Grant.Lease)
		if err == nil && link.Sessions() > 1 || time.Now().After(deadline) {
			break
		}
		if err != nil && !errors.Is(err, sdk.ErrUnavailable) {
			t.Fatalf("heartbeat across the break: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("heartbeat after the break: %v", err)
	}
	if n := link.Sessions(); n != 2 {
		t.Fatalf("%d sessions, want 2", n)
	}
	if err := link.Checkin(ctx, held.Grant.Lease); err != nil {
		t.Fatal(err)
	}
	select {
	case u := <-q.Updates:
		if u.Grant == nil {
			t.Fatalf("the ticket that waited across the break got %+v, want a grant", u)
		}
	case <-ctx.Done():
		t.Fatal("no update for the ticket that waited across the break")
	}
	select {
	case err := <-gone:
		t.Fatalf("gateway reported gone: %v", err)
	default:
	}
}

// TestSeatsLinkGivesUp: when no session can be opened (the gateway is
// gone), the link says so, and waiting tickets end "unavailable".
func TestSeatsLinkGivesUp(t *testing.T) {
	backend := sdktest.NewSeats(sdktest.Feature{Name: "solo", Seats: 1, Queue: true})
	conn, srv := serveSeats(t, backend, nil)
	gone := make(chan error, 1)
	link, err := sdk.NewSeatsLink(conn, func(err error) { gone <- err })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(link.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := link.Checkout(ctx, sdk.CheckoutRequest{Feature: "solo"}); err != nil {
		t.Fatal(err)
	}
	q, err := link.Checkout(ctx, sdk.CheckoutRequest{Feature: "solo", Wait: time.Hour})
	if err != nil || q.Outcome != sdk.Queued {
		t.Fatalf("queued checkout: %+v %v", q, err)
	}
	srv.Stop()
	select {
	case <-gone:
	case <-ctx.Done():
		t.Fatal("the link never gave up on a stopped gateway")
	}
	select {
	case u := <-q.Updates:
		if u.Denial == nil || u.Denial.Reason != "unavailable" {
			t.Fatalf("ticket update %+v, want a denial: unavailable", u)
		}
	case <-ctx.Done():
		t.Fatal("no final update for the ticket")
	}
}
