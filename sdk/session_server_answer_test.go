package sdk

import (
	"testing"
	"time"

	pb "github.com/licensegw/licensegw/sdk/proto"
	"google.golang.org/protobuf/proto"
)

// TestGrantResponse: the one-allocation answer to a grant says what the
// general conversion says.
func TestGrantResponse(t *testing.T) {
	for _, g := range []Grant{
		{Lease: "L1", Feature: "cad", Count: 1, TTL: time.Minute, Expires: time.Unix(1700000000, 5)},
		{Lease: "L2", Vendor: "acme", Feature: "cad", Version: "2.0", Count: 3, Borrowed: true, Signature: []byte{1, 2}},
	} {
		c := &Checkout{Outcome: Granted, Grant: &g}
		want := &pb.Response{Result: &pb.Response_Checkout{Checkout: checkoutToPB(c)}}
		if got := grantResponse(c); !proto.Equal(got, want) {
			t.Errorf("grantResponse(%+v) = %v, want %v", g, got, want)
		}
		if n := testing.AllocsPerRun(100, func() { grantResponse(c) }); n != 1 {
			t.Errorf("grantResponse: %v allocations, want 1", n)
		}
	}
}
