package sdk

import (
	"bytes"
	"testing"

	pb "github.com/licensegw/licensegw/sdk/proto"
	"google.golang.org/protobuf/proto"
)

// gatewayFrameSeeds are frames of every kind the gateway sends.
func gatewayFrameSeeds() []*pb.GatewayFrame {
	grant := &pb.Grant{Lease: "l1", Vendor: "acme", Feature: "f", Version: "2.0", Count: 3, TtlNs: 60e9,
		ExpiresUnixNs: 1_800_000_000e9, Borrowed: true, Signature: []byte{1, 2, 3}}
	return []*pb.GatewayFrame{
		{Responses: []*pb.Response{{Id: 1, Result: &pb.Response_Checkout{Checkout: &pb.CheckoutResult{
			Outcome: pb.Outcome_OUTCOME_GRANTED, Grant: grant}}}}},
		{Responses: []*pb.Response{
			{Id: 2, Result: &pb.Response_LeaseState{LeaseState: &pb.LeaseState{Lease: "l1", TtlNs: 60e9, ExpiresUnixNs: 17e17}}},
			{Id: 3},
			{Id: 4, Error: &pb.Error{Code: pb.Error_CODE_GONE, Message: "gone", Lease: "l9", Reason: "expired"}},
		}},
		{Responses: []*pb.Response{{Id: 5, Result: &pb.Response_Checkout{Checkout: &pb.CheckoutResult{
			Outcome: pb.Outcome_OUTCOME_QUEUED, Ticket: "t1", Position: 2}}}}},
		{Responses: []*pb.Response{{Id: 6, Result: &pb.Response_Checkout{Checkout: &pb.CheckoutResult{
			Outcome: pb.Outcome_OUTCOME_DENIED, Denial: &pb.Denial{Reason: "no-seats", Message: "m", InUse: 4, Seats: 4}}}}}},
		{Responses: []*pb.Response{
			{Id: 7, Result: &pb.Response_Status{Status: &pb.StatusResult{Features: []*pb.FeatureStatus{{Feature: "f", Seats: 2}}}}},
			{Id: 8, Result: &pb.Response_Bytes{Bytes: &pb.Bytes{Data: []byte("sig")}}},
		}, Updates: []*pb.TicketUpdate{{Ticket: "t1", Position: 1}, {Ticket: "t1", Grant: grant}, {Ticket: "t2", Denial: &pb.Denial{Reason: "timeout"}}}},
	}
}

// FuzzDecodeGatewayFrame: the hand-written decoder of the data plane
// agrees with proto.Unmarshal on every frame proto.Unmarshal accepts
// (responses in order, then updates), and never panics on any other.
func FuzzDecodeGatewayFrame(f *testing.F) {
	for _, s := range gatewayFrameSeeds() {
		b, err := proto.Marshal(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var got []answer
		var updates []*pb.TicketUpdate
		n := names{}
		err := splitGatewayFrame(data, func(b []byte) error {
			id, err := responseID(b)
			if err != nil {
				return err
			}
			var a answer
			if err := decodeResponse(b, &a, hints{lease: "l1", feature: "f"}, n); err != nil {
				return err
			}
			if a.id != id {
				t.Fatalf("responseID %d, decoded id %d", id, a.id)
			}
			got = append(got, a)
			return nil
		}, func(b []byte) error {
			u := &pb.TicketUpdate{}
			updates = append(updates, u)
			return proto.Unmarshal(b, u)
		})
		var frame pb.GatewayFrame
		if proto.Unmarshal(data, &frame) != nil {
			return
		}
		if err != nil {
			t.Fatalf("proto.Unmarshal accepts the frame, the decoder says %v", err)
		}
		if len(got) != len(frame.Responses) {
			t.Fatalf("%d responses decoded, proto has %d", len(got), len(frame.Responses))
		}
		for i, r := range frame.Responses {
			var want answer
			answerFromPB(r, &want)
			if why := answerDiff(got[i], want); why != "" {
				t.Fatalf("response %d: %s\ngot  %+v\nwant %+v", i, why, got[i], want)
			}
		}
		if len(updates) != len(frame.Updates) {
			t.Fatalf("%d updates decoded, proto has %d", len(updates), len(frame.Updates))
		}
		for i, u := range frame.Updates {
			if !proto.Equal(updates[i], u) {
				t.Fatalf("update %d: %v, want %v", i, updates[i], u)
			}
		}
	})
}

// answerDiff says how a and b differ, or "".
func answerDiff(a, b answer) string {
	switch {
	case a.id != b.id:
		return "id"
	case !proto.Equal(a.err, b.err):
		return "error"
	case a.result != b.result:
		return "result kind"
	}
	switch a.result {
	case resultCheckout:
		x, y := a.co, b.co
		switch {
		case x.outcome != y.outcome || x.ticket != y.ticket || x.position != y.position:
			return "checkout"
		case !proto.Equal(x.denial, y.denial):
			return "denial"
		case x.hasGrant != y.hasGrant:
			return "grant presence"
		}
		g, h := x.grant, y.grant
		if g.Lease != h.Lease || g.Vendor != h.Vendor || g.Feature != h.Feature || g.Version != h.Version ||
			g.Count != h.Count || g.TTL != h.TTL || !g.Expires.Equal(h.Expires) || g.Borrowed != h.Borrowed ||
			!bytes.Equal(g.Signature, h.Signature) {
			return "grant"
		}
	case resultLeaseState:
		if a.ls != b.ls {
			return "lease state"
		}
	case resultStatus:
		if !proto.Equal(a.status, b.status) {
			return "status"
		}
	case resultBytes:
		if !bytes.Equal(a.data, b.data) {
			return "bytes"
		}
	}
	return ""
}

// The answers a plugin gets nearly all the time cost no allocation to
// decode beyond a new lease's string: interned names, the heartbeated
// lease and empty results come for free.
func TestDecodeResponseAllocations(t *testing.T) {
	grant := &pb.Response{Id: 1, Result: &pb.Response_Checkout{Checkout: &pb.CheckoutResult{
		Outcome: pb.Outcome_OUTCOME_GRANTED, Grant: &pb.Grant{Lease: "lease-1", Vendor: "acme", Feature: "f", Version: "1.0", Count: 1, TtlNs: 1}}}}
	hb := &pb.Response{Id: 2, Result: &pb.Response_LeaseState{LeaseState: &pb.LeaseState{Lease: "lease-1", TtlNs: 5, ExpiresUnixNs: 6}}}
	empty := &pb.Response{Id: 3}
	n := names{}
	for _, tc := range []struct {
		r    *pb.Response
		want float64
	}{{grant, 1}, {hb, 0}, {empty, 0}} {
		b, err := proto.Marshal(tc.r)
		if err != nil {
			t.Fatal(err)
		}
		var a answer
		_ = decodeResponse(b, &a, hints{lease: "lease-1", feature: "f"}, n) // interns the names
		allocs := testing.AllocsPerRun(100, func() {
			a.reset()
			if err := decodeResponse(b, &a, hints{lease: "lease-1", feature: "f"}, n); err != nil {
				t.Fatal(err)
			}
		})
		if allocs > tc.want {
			t.Errorf("decoding %v: %.1f allocations, want at most %.0f", tc.r, allocs, tc.want)
		}
	}
}
