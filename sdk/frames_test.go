package sdk_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/licensegw/licensegw/sdk"
	pb "github.com/licensegw/licensegw/sdk/proto"
	"github.com/licensegw/licensegw/sdk/sdktest"
	"google.golang.org/protobuf/proto"
)

func listenFrames(t *testing.T, backend sdk.Seats) *sdk.FramesServer {
	t.Helper()
	srv, err := sdk.ListenFrames(backend, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// TestFramesReopens: when a data-plane connection breaks while the gateway
// lives, the plugin dials a new session: the lease taken before is still
// there, and a queue ticket that waited across the break gets its grant.
func TestFramesReopens(t *testing.T) {
	backend := sdktest.NewSeats(sdktest.Feature{Name: "solo", Seats: 1, Queue: true, TTL: time.Minute})
	srv := listenFrames(t, backend)
	c, err := sdk.NewFramesSeatsClient(srv.Socket(), srv.Cookie(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	held, err := c.Checkout(ctx, sdk.CheckoutRequest{Feature: "solo", Client: sdk.Client{User: "a"}})
	if err != nil || held.Outcome != sdk.Granted {
		t.Fatalf("checkout: %+v %v", held, err)
	}
	q, err := c.Checkout(ctx, sdk.CheckoutRequest{Feature: "solo", Wait: time.Hour, Client: sdk.Client{User: "b"}})
	if err != nil || q.Outcome != sdk.Queued {
		t.Fatalf("queued checkout: %+v %v", q, err)
	}
	srv.DropSessions()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err = c.Heartbeat(ctx, held.Grant.Lease)
		if err == nil || time.Now().After(deadline) || !errors.Is(err, sdk.ErrUnavailable) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("heartbeat after the break: %v", err)
	}
	if n := c.Sessions(); n != 2 {
		t.Fatalf("%d sessions, want 2", n)
	}
	if err := c.Checkin(ctx, held.Grant.Lease); err != nil {
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
}

// TestFramesCookie: a connection that does not present the cookie is
// closed without an answer, and without a seat changing hands.
func TestFramesCookie(t *testing.T) {
	backend := sdktest.NewSeats(sdktest.Feature{Name: "solo", Seats: 1})
	srv := listenFrames(t, backend)
	// The right cookie with its last byte changed. (Not the right cookie
	// cut short: its first 31 bytes and the frame's first byte, 0, are the
	// cookie itself whenever its last byte is 0, one run in 256.)
	nearly := bytes.Clone(srv.Cookie())
	nearly[len(nearly)-1] ^= 0xff
	for _, cookie := range [][]byte{bytes.Repeat([]byte{0}, 32), nearly} {
		nc, err := net.Dial("unix", srv.Socket())
		if err != nil {
			t.Fatal(err)
		}
		frame, _ := proto.Marshal(&pb.PluginFrame{Requests: []*pb.Request{{Id: 1, Op: &pb.Request_Checkout{Checkout: &pb.CheckoutRequest{Feature: "solo", Count: 1, Client: &pb.Client{User: "u"}}}}}})
		msg := append(append([]byte{}, cookie...), binary.BigEndian.AppendUint32(nil, uint32(len(frame)))...)
		_, _ = nc.Write(append(msg, frame...))
		_ = nc.SetReadDeadline(time.Now().Add(20 * time.Second))
		if n, err := io.ReadAll(nc); len(n) != 0 || isTimeout(err) {
			t.Errorf("cookie %x: answered %q (%v), want the connection closed", cookie, n, err)
		}
		nc.Close()
	}
	fs, err := backend.Status(context.Background(), sdk.StatusQuery{Feature: "solo"})
	if err != nil || fs[0].InUse != 0 {
		t.Fatalf("after refused connections: %+v %v", fs, err)
	}
}

// TestFramesTooBig: a length prefix past the bound ends the session; the
// server keeps serving new ones.
func TestFramesTooBig(t *testing.T) {
	backend := sdktest.NewSeats(sdktest.Feature{Name: "solo", Seats: 1})
	srv := listenFrames(t, backend)
	nc, err := net.Dial("unix", srv.Socket())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_, _ = nc.Write(append(append([]byte{}, srv.Cookie()...), 0xff, 0xff, 0xff, 0xff))
	_ = nc.SetReadDeadline(time.Now().Add(20 * time.Second))
	if n, err := io.ReadAll(nc); len(n) != 0 || isTimeout(err) {
		t.Errorf("answered %q (%v), want the connection closed", n, err)
	}
	c, err := sdk.NewFramesSeatsClient(srv.Socket(), srv.Cookie(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if co, err := c.Checkout(ctx, sdk.CheckoutRequest{Feature: "solo", Client: sdk.Client{User: "a"}}); err != nil || co.Outcome != sdk.Granted {
		t.Fatalf("checkout after a broken session: %+v %v", co, err)
	}
}

// isTimeout: the read waited out its deadline (the connection was not
// closed); a reset is a close with our bytes unread.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// inlineSeats counts the heartbeats answered through HeartbeatNow.
type inlineSeats struct {
	*sdktest.Seats
	mu     sync.Mutex
	inline int
}

func (s *inlineSeats) HeartbeatNow(lease string) (sdk.LeaseState, error) {
	s.mu.Lock()
	s.inline++
	s.mu.Unlock()
	return s.Seats.Heartbeat(context.Background(), lease)
}

// TestInlineHeartbeats: a Seats that implements sdk.InlineHeartbeater has
// every heartbeat answered through HeartbeatNow, with the same answers
// (renewed lease, unknown lease) as Heartbeat gives.
func TestInlineHeartbeats(t *testing.T) {
	backend := &inlineSeats{Seats: sdktest.NewSeats(sdktest.Feature{Name: "solo", Seats: 1, TTL: time.Minute})}
	c := sdktest.Session(t, backend)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	co, err := c.Checkout(ctx, sdk.CheckoutRequest{Feature: "solo", Client: sdk.Client{User: "a"}})
	if err != nil || co.Outcome != sdk.Granted {
		t.Fatalf("checkout: %+v %v", co, err)
	}
	for range 3 {
		st, err := c.Heartbeat(ctx, co.Grant.Lease)
		if err != nil || st.Lease != co.Grant.Lease || st.TTL != time.Minute {
			t.Fatalf("heartbeat: %+v %v", st, err)
		}
	}
	var gone *sdk.GoneError
	if _, err := c.Heartbeat(ctx, "nosuchlease"); !errors.As(err, &gone) || gone.Lease != "nosuchlease" {
		t.Fatalf("heartbeat of an unknown lease: %v, want a *sdk.GoneError", err)
	}
	backend.mu.Lock()
	defer backend.mu.Unlock()
	if backend.inline != 4 {
		t.Fatalf("%d heartbeats answered inline, want 4", backend.inline)
	}
}
