package sdk

import (
	"context"
	"io"
	"sync"
	"testing"
	"time"

	pb "github.com/licensegw/licensegw/sdk/proto"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
)

// fakeStream is the plugin's end of a Session whose gateway frames the
// test supplies.
type fakeStream struct {
	grpc.ClientStream
	sent chan *pb.PluginFrame
	recv chan *pb.GatewayFrame
	once sync.Once
}

func newFakeStream() *fakeStream {
	return &fakeStream{sent: make(chan *pb.PluginFrame, 64), recv: make(chan *pb.GatewayFrame, 64)}
}

func (s *fakeStream) Send(f *pb.PluginFrame) error { s.sent <- f; return nil }
func (s *fakeStream) Recv() (*pb.GatewayFrame, error) {
	f, ok := <-s.recv
	if !ok {
		return nil, io.EOF
	}
	return f, nil
}
func (s *fakeStream) CloseSend() error             { return nil }
func (s *fakeStream) Header() (metadata.MD, error) { return nil, nil }
func (s *fakeStream) Trailer() metadata.MD         { return nil }
func (s *fakeStream) Context() context.Context     { return context.Background() }
func (s *fakeStream) end()                         { s.once.Do(func() { close(s.recv) }) }

// FuzzSessionClientFrames feeds the plugin side arbitrary gateway frames
// answering a checkout: it must never panic, every call must return, and a
// successful checkout must carry what its outcome promises.
func FuzzSessionClientFrames(f *testing.F) {
	seeds := []*pb.GatewayFrame{
		{Responses: []*pb.Response{{Result: &pb.Response_Checkout{Checkout: &pb.CheckoutResult{
			Outcome: pb.Outcome_OUTCOME_GRANTED, Grant: &pb.Grant{Lease: "l1", Count: 1}}}}}},
		{Responses: []*pb.Response{{Result: &pb.Response_Checkout{Checkout: &pb.CheckoutResult{
			Outcome: pb.Outcome_OUTCOME_QUEUED, Ticket: "t1", Position: 2}}}},
			Updates: []*pb.TicketUpdate{{Ticket: "t1", Position: 1}, {Ticket: "t1", Grant: &pb.Grant{Lease: "l2"}}}},
		{Responses: []*pb.Response{{Error: &pb.Error{Code: pb.Error_CODE_GONE, Lease: "l", Reason: "expired"}}}},
		{Responses: []*pb.Response{{Result: &pb.Response_Checkout{Checkout: &pb.CheckoutResult{Outcome: pb.Outcome_OUTCOME_GRANTED}}}}},
		{Updates: []*pb.TicketUpdate{{Ticket: "nope", Denial: &pb.Denial{Reason: "timeout"}}}},
	}
	for _, s := range seeds {
		b, err := proto.Marshal(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var frame pb.GatewayFrame
		if proto.Unmarshal(data, &frame) != nil {
			return
		}
		stream := newFakeStream()
		c := newSessionClient(stream, nil, nil)
		defer c.close()
		type result struct {
			co  *Checkout
			err error
		}
		done := make(chan result, 1)
		go func() {
			co, err := c.Checkout(context.Background(), CheckoutRequest{Feature: "f"})
			done <- result{co, err}
		}()
		sent := <-stream.sent
		// Address the fuzzed responses to the pending call.
		for _, r := range frame.GetResponses() {
			if r != nil {
				r.Id = sent.GetRequests()[0].GetId()
			}
		}
		stream.recv <- &frame
		stream.end()
		select {
		case r := <-done:
			if r.err != nil {
				return
			}
			if err := checkCheckout(r.co); err != nil {
				t.Fatalf("malformed answer accepted: %v", err)
			}
			if r.co.Outcome == Queued {
				for range r.co.Updates { // must be closed once the session ends
				}
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Checkout did not return")
		}
	})
}

// FuzzParseAllowEntry: any string either parses to a masked prefix that
// admits the entry's own address, or is refused; never a panic.
func FuzzParseAllowEntry(f *testing.F) {
	for _, s := range []string{"10.0.0.0/8", "192.0.2.7", "::1", "fd00::/8", "::ffff:10.0.0.0/104", "10.1.2.3/8", "fe80::1%eth0", "", "1.2.3.4/33"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseAllowEntry(s)
		if err != nil {
			return
		}
		if !p.IsValid() || p.Masked() != p || p.Addr().Is4In6() || p.Addr().Zone() != "" {
			t.Fatalf("ParseAllowEntry(%q) = %v: not a masked, unmapped, zone-free prefix", s, p)
		}
		if !p.Contains(p.Addr()) {
			t.Fatalf("ParseAllowEntry(%q) = %v does not contain its own address", s, p)
		}
		q, err := ParseAllowEntry(p.String())
		if err != nil || q != p {
			t.Fatalf("ParseAllowEntry(%q) = %v, which reparses as %v, %v", s, p, q, err)
		}
	})
}
