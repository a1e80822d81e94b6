package sdk

import (
	"testing"
	"unsafe"

	pb "github.com/licensegw/licensegw/sdk/proto"
	"google.golang.org/protobuf/proto"
)

// decodeSamples are frames the gateway's reader meets: the plugins' hot
// requests (decoded by hand) and the others (decoded by protobuf).
func decodeSamples() []*pb.PluginFrame {
	client := &pb.Client{User: "ann", Host: "ws1", Display: "ws1:0", Project: "p", Addr: "10.0.0.1:4242"}
	checkout := &pb.CheckoutRequest{
		Vendor: "acme", Feature: "cad", Version: "2.0", Count: 2, Client: client,
		WaitNs: 5e9, BorrowNs: 7, Sign: true, Nonce: "n0nce", BindConn: true, RequestKey: "clm/1",
	}
	return []*pb.PluginFrame{
		{},
		{Requests: []*pb.Request{{Id: 1, TimeoutNs: 3e9, Op: &pb.Request_Checkout{Checkout: checkout}}}},
		{Requests: []*pb.Request{
			{Id: 2, Op: &pb.Request_Heartbeat{Heartbeat: &pb.LeaseRef{Lease: "L1"}}},
			{Id: 3, Op: &pb.Request_Checkin{Checkin: &pb.LeaseRef{Lease: "L2"}}},
			{Id: 4, Op: &pb.Request_Checkout{Checkout: &pb.CheckoutRequest{Feature: "cad"}}},
			{Id: 5, Op: &pb.Request_Checkout{Checkout: &pb.CheckoutRequest{}}},
		}, Abandon: []uint64{9, 1 << 40}},
		{Abandon: []uint64{7}},
		// Decoded by protobuf: other operations, a remover, a negative
		// timeout, a request without an operation.
		{Requests: []*pb.Request{
			{Id: 6, Op: &pb.Request_Remove{Remove: &pb.LeaseRef{Lease: "L3", By: client}}},
			{Id: 7, Op: &pb.Request_Status{Status: &pb.StatusQuery{Feature: "cad"}}},
			{Id: 8, TimeoutNs: -1, Op: &pb.Request_Cancel{Cancel: &pb.TicketRef{Ticket: "T"}}},
			{Id: 9},
		}},
		{Requests: []*pb.Request{{Id: 10, Op: &pb.Request_Heartbeat{Heartbeat: &pb.LeaseRef{Lease: "L1", By: client}}}}},
	}
}

// TestFrameDecoder: the reader's decoder gives what protobuf gives, for
// the frames it decodes by hand and for those it hands to protobuf, and a
// frame decoded after another does not keep any of the first's fields.
func TestFrameDecoder(t *testing.T) {
	var d frameDecoder
	for round := range 2 {
		for i, want := range decodeSamples() {
			b, err := proto.Marshal(want)
			if err != nil {
				t.Fatal(err)
			}
			got, reused, err := d.decode(b)
			if err != nil {
				t.Fatalf("round %d, frame %d: %v", round, i, err)
			}
			if !proto.Equal(want, got) {
				t.Errorf("round %d, frame %d (reused %v): decoded %v, want %v", round, i, reused, got, want)
			}
			if wantFast := i < 4; reused != wantFast {
				t.Errorf("round %d, frame %d: decoded by hand %v, want %v", round, i, reused, wantFast)
			}
		}
	}
}

// TestFrameDecoderAllocations: a frame of the hot requests costs no
// allocation for the names (and client addresses) that repeat, nor for a
// lease heartbeaten before; the checkin of a lease never heartbeaten costs
// one.
func TestFrameDecoderAllocations(t *testing.T) {
	f := &pb.PluginFrame{Requests: []*pb.Request{
		{Id: 1, Op: &pb.Request_Checkout{Checkout: &pb.CheckoutRequest{Feature: "cad", Client: &pb.Client{User: "ann", Host: "ws1", Addr: "10.0.0.7:40312"}}}},
		{Id: 2, Op: &pb.Request_Heartbeat{Heartbeat: &pb.LeaseRef{Lease: "L1"}}},
		{Id: 3, Op: &pb.Request_Checkin{Checkin: &pb.LeaseRef{Lease: "L2"}}},
	}}
	b, err := proto.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	var d frameDecoder
	d.decode(b) // the slots, the names and L1
	if n := testing.AllocsPerRun(100, func() { d.decode(b) }); n != 1 {
		t.Errorf("%v allocations per frame, want 1 (the lease checked in)", n)
	}
}

// TestFrameDecoderLeases: a lease's heartbeats and its checkin share the
// string its first heartbeat made, and the checkin lets it go.
func TestFrameDecoderLeases(t *testing.T) {
	frame := func(op *pb.Request) []byte {
		b, err := proto.Marshal(&pb.PluginFrame{Requests: []*pb.Request{op}})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	hb := frame(&pb.Request{Id: 1, Op: &pb.Request_Heartbeat{Heartbeat: &pb.LeaseRef{Lease: "L7"}}})
	ci := frame(&pb.Request{Id: 2, Op: &pb.Request_Checkin{Checkin: &pb.LeaseRef{Lease: "L7"}}})
	var d frameDecoder
	lease := func(b []byte) string {
		f, reused, err := d.decode(b)
		if err != nil || !reused || len(f.Requests) != 1 {
			t.Fatalf("decode: %v %v %v", f, reused, err)
		}
		r := f.Requests[0]
		return r.GetHeartbeat().GetLease() + r.GetCheckin().GetLease()
	}
	first := lease(hb)
	if n := testing.AllocsPerRun(10, func() { lease(hb) }); n != 0 {
		t.Errorf("a heartbeat of a lease heartbeaten before: %v allocations, want 0", n)
	}
	if got := lease(ci); got != "L7" || unsafe.StringData(got) != unsafe.StringData(first) {
		t.Errorf("checkin's lease %q is not the heartbeats' string", got)
	}
	if _, kept := d.leases.m["L7"]; kept {
		t.Error("the lease is still interned after its checkin")
	}
	if got := lease(ci); got != "L7" {
		t.Errorf("a second checkin's lease: %q", got)
	}
}

// FuzzDecodePluginFrame: for any bytes, the reader's decoder and
// protobuf agree on whether they are a frame and, if so, on the frame.
func FuzzDecodePluginFrame(f *testing.F) {
	for _, s := range decodeSamples() {
		b, err := proto.Marshal(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0x0a, 0x02, 0x08})                   // truncated
	f.Add([]byte{0x0a, 0x04, 0x5a, 0x02, 0x0a, 0xff}) // bad UTF-8
	f.Fuzz(func(t *testing.T, b []byte) {
		var d frameDecoder
		want := &pb.PluginFrame{}
		werr := proto.Unmarshal(b, want)
		for range 2 { // and again, into the reused messages
			got, _, err := d.decode(b)
			if (err != nil) != (werr != nil) {
				t.Fatalf("decode error %v, protobuf's %v", err, werr)
			}
			if werr == nil && !proto.Equal(want, got) {
				t.Fatalf("decoded %v, protobuf %v", got, want)
			}
		}
	})
}
