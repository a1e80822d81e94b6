package sentinel

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/licensegw/licensegw/plugins/sentinel/client"
	"github.com/licensegw/licensegw/plugins/sentinel/wire"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

// raw is a bare UDP socket for datagram-level tests.
type raw struct {
	t    *testing.T
	conn net.PacketConn
	to   net.Addr
}

func dialRaw(t *testing.T, addr string) *raw {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	to, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return &raw{t: t, conn: conn, to: to}
}

func (r *raw) send(b []byte) {
	r.t.Helper()
	if _, err := r.conn.WriteTo(b, r.to); err != nil {
		r.t.Fatal(err)
	}
}

// recv returns the next datagram, or nil after wait.
func (r *raw) recv(wait time.Duration) []byte {
	r.t.Helper()
	buf := make([]byte, 2*wire.MaxDatagram)
	r.conn.SetReadDeadline(time.Now().Add(wait))
	n, _, err := r.conn.ReadFrom(buf)
	if err != nil {
		return nil
	}
	return buf[:n]
}

func encode(t *testing.T, r wire.Request, size int) []byte {
	t.Helper()
	b, err := wire.EncodeRequest(&r, size)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestConformance(t *testing.T) {
	sdktest.Conformance(t, New())
}

// TestRetransmitExecutesOnce sends one checkout five times: one token is
// taken and every copy gets the same answer.
func TestRetransmitExecutesOnce(t *testing.T) {
	seats := sdktest.NewSeats(sdktest.Feature{Name: "cad", Seats: 5})
	r := serve(t, seats, nil, nil)
	conn := dialRaw(t, r.addr)
	req := encode(t, wire.Request{ID: 42, Type: wire.Checkout, Feature: "cad", User: "u", Host: "h"}, 0)
	var first []byte
	for i := range 5 {
		conn.send(req)
		got := conn.recv(2 * time.Second)
		if got == nil {
			t.Fatalf("copy %d unanswered", i)
		}
		if first == nil {
			first = got
		} else if !bytes.Equal(got, first) {
			t.Errorf("copy %d answered differently", i)
		}
	}
	if n := inUse(t, seats, "cad"); n != 1 {
		t.Errorf("in use = %d after 5 copies of one checkout, want 1", n)
	}
	if st := r.plugin.Stats(); st.Retransmits != 4 {
		t.Errorf("retransmits counted = %d, want 4", st.Retransmits)
	}
	// The same id from another address is another request.
	other := dialRaw(t, r.addr)
	other.send(req)
	if other.recv(2*time.Second) == nil {
		t.Fatal("other address unanswered")
	}
	if n := inUse(t, seats, "cad"); n != 2 {
		t.Errorf("in use = %d, want 2", n)
	}
}

// TestRetransmitDuringExecution: copies arriving while the gateway is
// still deciding are not executed again, and the read loop keeps serving
// others meanwhile.
func TestRetransmitDuringExecution(t *testing.T) {
	// The checkout is held in the gateway until the test opens the gate.
	seats := &slowSeats{Seats: sdktest.NewSeats(sdktest.Feature{Name: "cad", Seats: 5}),
		gate: make(chan struct{}), entered: make(chan struct{}, 8)}
	r := serve(t, seats, nil, nil)
	conn := dialRaw(t, r.addr)
	req := encode(t, wire.Request{ID: 7, Type: wire.Checkout, Feature: "cad"}, 0)
	conn.send(req)
	select {
	case <-seats.entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the checkout did not reach the gateway")
	}
	for range 4 {
		conn.send(req)
	}
	// A query from another client, sent after the copies, is answered
	// while the checkout is still held: the read loop got past the
	// copies and kept serving.
	info, err := r.dial(t, "q").ServerInfo(testCtx(t))
	if err != nil || info.Features != 1 {
		t.Fatalf("ServerInfo during a held checkout = %+v, %v", info, err)
	}
	if n := seats.checkouts.Load(); n != 1 {
		t.Errorf("gateway saw %d checkouts before the first was answered, want 1", n)
	}
	close(seats.gate)
	if conn.recv(3*time.Second) == nil {
		t.Fatal("checkout unanswered")
	}
	if n := seats.checkouts.Load(); n != 1 {
		t.Errorf("gateway saw %d checkouts, want 1", n)
	}
	if n := inUse(t, seats, "cad"); n != 1 {
		t.Errorf("in use = %d, want 1", n)
	}
}

// TestAmplificationBound: no answer exceeds three times its request, the
// smallest requests included, and paginated lists still come whole.
func TestAmplificationBound(t *testing.T) {
	var features []sdktest.Feature
	for i := range 40 {
		features = append(features, sdktest.Feature{Name: fmt.Sprintf("feature_with_a_long_name_%02d", i), Version: "2024.10.1", Seats: 3, Queue: true, Borrow: true})
	}
	seats := sdktest.NewSeats(features...)
	r := serve(t, seats, map[string]any{"server_name": "a-rather-long-server-name-for-discovery-answers-0123456789abcdef"}, nil)
	c := r.dial(t, "a-user-name-that-is-quite-long-indeed-0123456789")
	ctx := testCtx(t)
	for i := range 40 {
		if _, _, err := c.Checkout(ctx, client.CheckoutRequest{Feature: features[i].Name}); err != nil {
			t.Fatal(err)
		}
	}
	conn := dialRaw(t, r.addr)
	name := features[0].Name
	reqs := []wire.Request{
		{Type: wire.Checkout, Feature: name, User: "u"},
		{Type: wire.Checkout, Feature: "missing"},
		{Type: wire.Refresh, Handle: "nope"},
		{Type: wire.Poll, Handle: "nope"},
		{Type: wire.Features},
		{Type: wire.Features, Cursor: 39},
		{Type: wire.Clients, Feature: name},
		{Type: wire.Discover},
		{Type: wire.Discover, Feature: name},
	}
	for i, req := range reqs {
		for _, size := range []int{wire.MinRequest, 200, 400} {
			req.ID = uint64(1000*i + size)
			b := encode(t, req, size)
			conn.send(b)
			ans := conn.recv(2 * time.Second)
			if ans == nil {
				t.Fatalf("%v (%d bytes) unanswered", req.Type, size)
			}
			if len(ans) > wire.Amplification*len(b) {
				t.Errorf("%v: %d-byte answer to a %d-byte request", req.Type, len(ans), len(b))
			}
			resp, err := wire.DecodeResponse(ans)
			if err != nil {
				t.Fatalf("%v: %v", req.Type, err)
			}
			if req.Type == wire.Features && size == wire.MinRequest && req.Cursor == 0 && (len(resp.Features) == 0 || resp.Next == wire.NoMore) {
				t.Errorf("a short features request got %d records, next %d: want a first page", len(resp.Features), resp.Next)
			}
		}
	}
	all, err := c.Features(ctx, "")
	if err != nil || len(all) != 40 {
		t.Fatalf("Features = %d records, %v", len(all), err)
	}
	for i, f := range all {
		want := 1
		if i == 0 {
			want = 3 // and the raw checkouts above
		}
		if f.Name != features[i].Name || f.UnreservedInUse != want || f.UnreservedFree != 3-want {
			t.Errorf("feature %d = %+v", i, f)
		}
	}
}

// TestMalformedDropped: junk is dropped without an answer and counted,
// while well-formed requests around it are served.
func TestMalformedDropped(t *testing.T) {
	r := serve(t, sdktest.NewSeats(sdktest.Feature{Name: "cad", Seats: 1}), nil, nil)
	conn := dialRaw(t, r.addr)
	good := encode(t, wire.Request{ID: 1, Type: wire.Discover}, 0)
	junk := [][]byte{
		{},
		[]byte("HELLO\n"),
		good[:20],                         // unpadded
		append([]byte("XX"), good[2:]...), // bad magic
		append(bytes.Clone(good[:3]), good[3:]...), // placeholder, replaced below
		bytes.Repeat([]byte{0x4c}, wire.MaxDatagram+1),
	}
	junk[4][3] = 0x7e // unknown type
	dirty := bytes.Clone(good)
	dirty[len(dirty)-1] = 1 // non-zero padding
	junk = append(junk, dirty)
	for _, b := range junk {
		conn.send(b)
	}
	conn.send(good)
	ans := conn.recv(2 * time.Second)
	if ans == nil {
		t.Fatal("the well-formed request was not answered")
	}
	if resp, err := wire.DecodeResponse(ans); err != nil || resp.ID != 1 {
		t.Fatalf("answer = %+v, %v", resp, err)
	}
	if extra := conn.recv(200 * time.Millisecond); extra != nil {
		t.Errorf("junk was answered: %x", extra)
	}
	if st := r.plugin.Stats(); st.Malformed != uint64(len(junk)) || st.Answered != 1 {
		t.Errorf("stats = %+v, want %d malformed and 1 answered", st, len(junk))
	}
}

func TestRateLimit(t *testing.T) {
	r := serve(t, sdktest.NewSeats(sdktest.Feature{Name: "cad", Seats: 1}), map[string]any{"rate_limit": 1.0, "rate_burst": 3.0}, nil)
	conn := dialRaw(t, r.addr)
	for i := range 10 {
		conn.send(encode(t, wire.Request{ID: uint64(i), Type: wire.Discover}, 0))
	}
	answers := 0
	for conn.recv(300*time.Millisecond) != nil {
		answers++
	}
	if answers < 3 || answers > 4 { // the burst, and maybe one refilled token
		t.Errorf("%d answers to 10 requests with a burst of 3", answers)
	}
	if st := r.plugin.Stats(); st.RateLimited < 6 {
		t.Errorf("rate limited = %d, want >= 6", st.RateLimited)
	}
}

// TestGatewayUnavailable: the client is told to retry later.
func TestGatewayUnavailable(t *testing.T) {
	seats := sdktest.NewSeats(sdktest.Feature{Name: "cad", Seats: 1})
	r := serve(t, seats, nil, nil)
	c := r.dial(t, "u")
	seats.FailWith(context.DeadlineExceeded)
	if _, _, err := c.Checkout(testCtx(t), client.CheckoutRequest{Feature: "cad"}); !client.IsStatus(err, wire.Unavailable) {
		t.Errorf("checkout with the gateway down = %v, want unavailable", err)
	}
}

// TestFloodFromOneIPSparesOthers: one address sending ~2,000 state-changing
// datagrams a second fills only its own share of the retransmit cache; the
// checkouts of another address are still executed and answered. The cache
// is made small so that the flood would fill a global one in a fraction
// of a second.
func TestFloodFromOneIPSparesOthers(t *testing.T) {
	seats := sdktest.NewSeats(sdktest.Feature{Name: "cad", Seats: 100})
	r := serve(t, seats, map[string]any{
		"cache_size": float64(512), "cache_entries_per_ip": float64(64),
		"rate_limit": float64(100000), "rate_burst": float64(100000),
	}, nil)
	to, err := net.ResolveUDPAddr("udp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	flood, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)})
	if err != nil {
		t.Skipf("no second loopback address: %v", err)
	}
	t.Cleanup(func() { flood.Close() })
	go func() { // drain the flood's answers
		buf := make([]byte, 2*wire.MaxDatagram)
		for {
			if _, _, err := flood.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	stop := make(chan struct{})
	var sent atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(5 * time.Millisecond) // 10 a tick: ~2,000/s
		defer tick.Stop()
		for id := uint64(1); ; {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			for range 10 {
				id++
				b, err := wire.EncodeRequest(&wire.Request{ID: id, Type: wire.Refresh, Handle: fmt.Sprint("nope", id)}, 0)
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := flood.WriteTo(b, to); err == nil {
					sent.Add(1)
				}
			}
		}
	})
	t.Cleanup(func() { close(stop); wg.Wait() })

	victim := dialRaw(t, r.addr)
	// The flood is past twice the old global cache's 512 entries before
	// the victim starts.
	for deadline := time.Now().Add(10 * time.Second); sent.Load() < 1024; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the flood sent only %d datagrams in 10 s", sent.Load())
		}
	}
	for i := range uint64(10) {
		victim.send(encode(t, wire.Request{ID: 1000 + i, Type: wire.Checkout, Feature: "cad", User: "v", Host: "h"}, 0))
		got := victim.recv(2 * time.Second)
		if got == nil {
			t.Fatalf("checkout %d from another address unanswered during the flood (stats %+v)", i, r.plugin.Stats())
		}
		resp, err := wire.DecodeResponse(got)
		if err != nil || resp.Status != wire.OK {
			t.Fatalf("checkout %d: %+v, %v", i, resp, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := sent.Load(); n < 1000 {
		t.Fatalf("the flood sent only %d datagrams", n)
	}
	if st := r.plugin.Stats(); st.OverShare == 0 {
		t.Errorf("the flood never hit its share: %+v", st)
	}
}
