package flexlm_test

import (
	"bufio"
	"net"
	"testing"
	"time"

	"github.com/licensegw/licensegw/plugins/flexlm/internal/flextest"
	"github.com/licensegw/licensegw/plugins/flexlm/wire"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

// FuzzVendorPort sends arbitrary bytes to the vendor port of a plugin that
// reaches its seats through the real Seats session (protobuf encoding
// included), then checks that the plugin still serves a new client: no
// input, however decoded, may end the session or the plugin.
func FuzzVendorPort(f *testing.F) {
	enc := func(fr *wire.Frame) []byte { b, _ := fr.Encode(); return b }
	for _, fr := range []*wire.Frame{
		checkout(1, "cad"),
		checkout(2, "cad\xff"),
		checkout(3, "cad").Str(wire.TUser, "\xc3(").Str(wire.TProject, "\x00\x01"),
		checkout(0, "cad"),
		wire.New(wire.Status, 4).Str(wire.TFeature, "\xed\xa0\x80"),
		wire.New(wire.Remove, 5).Str(wire.TFeature, "cad").Str(wire.TUser, "\xff"),
		wire.New(wire.Hello, 6).Str(wire.TProgram, "\xfe").Str(wire.THost, "\xff"),
		wire.New(wire.Heartbeat, 7).Int(wire.THandle, 100),
	} {
		f.Add(enc(fr))
	}
	f.Add([]byte("FX\x01\x10garbage"))
	srv := flextest.Start(f, sdktest.Session(f, sdktest.NewSeats(
		sdktest.Feature{Vendor: "acme", Name: "cad", Version: "2.0", Seats: 2, Queue: true, TTL: time.Minute},
	)), cfg())
	f.Fuzz(func(t *testing.T, b []byte) {
		nc, err := net.DialTCP("tcp", nil, srv.Vendor)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		_, _ = nc.Write(b)
		_ = nc.CloseWrite()
		// Drain what the server answers until it closes.
		_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		r := bufio.NewReader(nc)
		for {
			if _, err := wire.Read(r); err != nil {
				break
			}
		}
		alive(t, srv)
	})
}

// alive checks that a new vendor connection gets a STATUS answered by the
// gateway (not ERROR -96: the Seats session is up).
func alive(t *testing.T, srv *flextest.Server) {
	t.Helper()
	c := dialRaw(t, srv.Vendor)
	c.send(wire.New(wire.Status, 1).Str(wire.TFeature, "cad"))
	for {
		f := c.read()
		if f.Type == wire.Error {
			t.Fatalf("STATUS after the input: ERROR %d %s", f.GetInt(wire.TCode), f.GetStr(wire.TMessage))
		}
		if f.Type == wire.StatusEnd {
			return
		}
	}
}
