package sentinel

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/licensegw/licensegw/plugins/sentinel/wire"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

// FuzzDatagrams sends arbitrary datagrams to a plugin that reaches its
// seats through the real Seats session (protobuf encoding included), then
// checks that a client is still served by the gateway: no datagram may end
// the session or the plugin.
func FuzzDatagrams(f *testing.F) {
	for _, r := range []wire.Request{
		{ID: 1, Type: wire.Checkout, Feature: "cad", User: "u", Host: "h"},
		{ID: 2, Type: wire.Checkout, Feature: "cad\xff", User: "u", Host: "h"},
		{ID: 3, Type: wire.Checkout, Feature: "cad", User: "\xc3(", Host: "\x00", Display: "\xed\xa0\x80"},
		{ID: 4, Type: wire.Commute, Feature: "cad", Days: 1, Version: "\xfe"},
		{ID: 5, Type: wire.Poll, Handle: "\xff"},
		{ID: 6, Type: wire.Clients, Feature: "a.*>", Version: "\x80"},
		{ID: 7, Type: wire.Discover, Feature: "\xff"},
	} {
		b, err := wire.EncodeRequest(&r, wire.MinRequest)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	r := serve(f, sdktest.Session(f, conformanceSeats()), map[string]any{"rate_limit": 1000000, "rate_burst": 1000000}, nil)
	c := r.dial(f, "alive")
	f.Fuzz(func(t *testing.T, b []byte) {
		u, err := net.Dial("udp", r.addr)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = u.Write(b)
		u.Close()
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		resp, err := c.Do(ctx, &wire.Request{Type: wire.Features, Feature: "cad"}, 400)
		if err != nil || resp.Status != wire.OK || resp.Total != 1 {
			t.Fatalf("features after the input: %+v %v", resp, err)
		}
	})
}
