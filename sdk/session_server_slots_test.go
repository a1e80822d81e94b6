package sdk

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	pb "github.com/licensegw/licensegw/sdk/proto"
	"google.golang.org/protobuf/proto"
)

// marshalStream is a serverStream whose Send marshals the frame into a
// reused buffer, as the data plane's does, and keeps a decoded copy of it.
type marshalStream struct {
	buf  []byte
	last *pb.GatewayFrame
	keep bool // decode every frame into last
}

func (m *marshalStream) Send(f *pb.GatewayFrame) error {
	b, err := proto.MarshalOptions{}.MarshalAppend(m.buf[:0], f)
	m.buf = b
	if err == nil && m.keep {
		m.last = &pb.GatewayFrame{}
		err = proto.Unmarshal(b, m.last)
	}
	return err
}
func (m *marshalStream) Recv() (*pb.PluginFrame, error) { return nil, io.EOF }
func (m *marshalStream) Context() context.Context       { return context.Background() }
func (m *marshalStream) doneWithFrameOnSend()           {}

type fixedHeartbeat struct{ st LeaseState }

func (h *fixedHeartbeat) HeartbeatNow(lease string) (LeaseState, error) {
	if lease != h.st.Lease {
		return LeaseState{}, &GoneError{Lease: lease}
	}
	return h.st, nil
}

// TestAnswerSlots: answers built in recycled slots go out as the general
// conversions build them, a slot serves the next request only once the
// frame with its answer is written, and a cycle of checkout, heartbeat and
// checkin answered from slots allocates nothing.
func TestAnswerSlots(t *testing.T) {
	stream := &marshalStream{keep: true}
	ss := &session{srv: newSessionServer(nil, nil), stream: stream, wake: make(chan struct{}, 1), recycles: true}
	released := 0
	release := func() { released++ }
	flush := func() {
		ss.mu.Lock()
		ss.flushLocked()
		ss.mu.Unlock()
	}
	exp := time.Unix(1700000000, 0)
	grant := &Checkout{Outcome: Granted, Grant: &Grant{Lease: "L1", Feature: "cad", Count: 1, TTL: time.Minute, Expires: exp}}
	hb := &fixedHeartbeat{LeaseState{Lease: "L1", TTL: time.Minute, Expires: exp}}

	a := ss.takeSlot(release)
	a.id = 1
	b := ss.takeSlot(release)
	b.id = 2
	c := ss.takeSlot(release)
	a.onCheckout(grant, nil)
	ss.heartbeatNow(hb, 3, "L1", c)
	b.onCheckin(errors.New("boom"))
	if got := len(ss.free); got != 0 {
		t.Fatalf("%d slots free before the frame is written, want 0", got)
	}
	flush()
	if released != 2 {
		t.Errorf("release called %d times, want 2", released)
	}
	want := []*pb.Response{
		{Id: 1, Result: &pb.Response_Checkout{Checkout: checkoutToPB(grant)}},
		{Id: 3, Result: &pb.Response_LeaseState{LeaseState: &pb.LeaseState{Lease: "L1", TtlNs: int64(time.Minute), ExpiresUnixNs: exp.UnixNano()}}},
		{Id: 2, Error: errorToPB(errors.New("boom"))},
	}
	if !proto.Equal(stream.last, &pb.GatewayFrame{Responses: want}) {
		t.Fatalf("frame %v, want responses %v", stream.last, want)
	}
	if got := len(ss.free); got != 3 {
		t.Fatalf("%d slots free after the frame is written, want 3", got)
	}

	// The slots serve the next requests, and their earlier answers are
	// gone from them: the next frame says only what it should.
	d := ss.takeSlot(release)
	if d != a && d != b && d != c {
		t.Fatal("a new slot, not a recycled one")
	}
	d.id = 4
	d.onCheckin(nil)
	flush()
	if !proto.Equal(stream.last, &pb.GatewayFrame{Responses: []*pb.Response{{Id: 4}}}) {
		t.Fatalf("frame %v, want the empty answer to 4", stream.last)
	}

	stream.keep = false
	if n := testing.AllocsPerRun(100, func() {
		co, h, ci := ss.takeSlot(release), ss.takeSlot(release), ss.takeSlot(release)
		co.id, ci.id = 5, 7
		co.onCheckout(grant, nil)
		ss.heartbeatNow(hb, 6, "L1", h)
		ci.onCheckin(nil)
		flush()
	}); n != 0 {
		t.Errorf("%v allocations per checkout, heartbeat and checkin, want 0", n)
	}
}

// TestSharedSlot: a session on a stream that may keep its frames (gRPC)
// recycles nothing: its requests share one slot whose answers are
// allocated.
func TestSharedSlot(t *testing.T) {
	ss := &session{srv: newSessionServer(nil, nil), stream: &marshalStream{}, wake: make(chan struct{}, 1)}
	a, b := ss.takeSlot(func() {}), ss.takeSlot(func() {})
	if a != b || a.recycled() || a.queued() != nil {
		t.Fatalf("slots %p, %p (recycled %v): want one shared, not recycled", a, b, a.recycled())
	}
	ss.heartbeatNow(&fixedHeartbeat{LeaseState{Lease: "L1"}}, 1, "L1", a)
	ss.mu.Lock()
	ss.flushLocked()
	free := len(ss.free)
	ss.mu.Unlock()
	if free != 0 {
		t.Errorf("%d slots put back, want 0", free)
	}
}
