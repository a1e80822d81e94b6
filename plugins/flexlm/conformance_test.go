package flexlm_test

import (
	"bufio"
	"encoding/binary"
	"net"
	"testing"
	"time"

	"github.com/licensegw/licensegw/plugins/flexlm/internal/flextest"
	"github.com/licensegw/licensegw/plugins/flexlm/wire"
	"github.com/licensegw/licensegw/sdk"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

// The conformance suite of docs/flexlm.md, "Conformance": every answer the
// section lists for every request, in the order of its table. Each subtest
// is named after the row it checks.

// rawConn is a FlexLM-style connection that speaks frames directly.
type rawConn struct {
	t  *testing.T
	nc net.Conn
	r  *bufio.Reader
}

func dialRaw(t *testing.T, addr *net.TCPAddr) *rawConn {
	t.Helper()
	nc, err := net.DialTCP("tcp", nil, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rawConn{t: t, nc: nc, r: bufio.NewReader(nc)}
}

func (c *rawConn) send(f *wire.Frame) {
	c.t.Helper()
	if err := wire.Write(c.nc, f); err != nil {
		c.t.Fatalf("send %v: %v", f, err)
	}
}

func (c *rawConn) read() *wire.Frame {
	c.t.Helper()
	_ = c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	f, err := wire.Read(c.r)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return f
}

// call sends f and reads the next frame.
func (c *rawConn) call(f *wire.Frame) *wire.Frame {
	c.t.Helper()
	c.send(f)
	return c.read()
}

// closed reports whether the server hung up.
func (c *rawConn) closed() bool {
	_ = c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := wire.Read(c.r)
	return err != nil
}

func wantType(t *testing.T, f *wire.Frame, typ wire.Type, id uint32) {
	t.Helper()
	if f.Type != typ || f.ID != id {
		t.Fatalf("got %v id %d %v, want %v id %d", f.Type, f.ID, f.Fields, typ, id)
	}
}

func wantError(t *testing.T, f *wire.Frame, code int64, id uint32) {
	t.Helper()
	wantType(t, f, wire.Error, id)
	if got := f.GetInt(wire.TCode); got != code {
		t.Fatalf("ERROR code %d (%s), want %d", got, f.GetStr(wire.TMessage), code)
	}
}

func checkout(id uint32, feature string) *wire.Frame {
	return wire.New(wire.Checkout, id).Str(wire.TFeature, feature).Int(wire.TCount, 1).
		Str(wire.TUser, "u").Str(wire.THost, "h")
}

func conformanceServer(t *testing.T) (*flextest.Server, *sdktest.Seats) {
	s := sdktest.NewSeats(
		sdktest.Feature{Vendor: "acme", Name: "cad", Version: "2.0", Seats: 1, Queue: true, TTL: time.Minute, Borrow: true, MaxBorrow: 72 * time.Hour},
		sdktest.Feature{Vendor: "acme", Name: "plain", Version: "1.0", Seats: 1, TTL: time.Minute},
	)
	return flextest.Start(t, s, cfg()), s
}

func TestConformanceFraming(t *testing.T) {
	srv, _ := conformanceServer(t)
	t.Run("frame that does not decode: ERROR -4 id 0, closed", func(t *testing.T) {
		c := dialRaw(t, srv.Vendor)
		b, _ := checkout(1, "cad").Encode()
		b[len(b)-1] ^= 0xff // checksum
		if _, err := c.nc.Write(b); err != nil {
			t.Fatal(err)
		}
		wantError(t, c.read(), wire.CodeBadRequest, 0)
		if !c.closed() {
			t.Fatal("connection still open")
		}
	})
	t.Run("text not UTF-8: ERROR -4 with the id, connection stays", func(t *testing.T) {
		c := dialRaw(t, srv.Vendor)
		wantError(t, c.call(checkout(7, "cad").Str(wire.TDisplay, "\xff")), wire.CodeBadRequest, 7)
		wantType(t, c.call(wire.New(wire.Hello, 8)), wire.HelloOK, 8)
	})
	t.Run("integer not 8 bytes: ERROR -4 with the id", func(t *testing.T) {
		c := dialRaw(t, srv.Vendor)
		f := wire.New(wire.Checkout, 9).Str(wire.TFeature, "cad")
		f.Fields = append(f.Fields, wire.Field{Tag: wire.TCount, Value: binary.BigEndian.AppendUint32(nil, 1)})
		wantError(t, c.call(f), wire.CodeBadRequest, 9)
	})
	t.Run("request id 0: ERROR -4 id 0, connection stays", func(t *testing.T) {
		c := dialRaw(t, srv.Vendor)
		wantError(t, c.call(checkout(0, "cad")), wire.CodeBadRequest, 0)
		wantType(t, c.call(wire.New(wire.Hello, 1)), wire.HelloOK, 1)
	})
	t.Run("unknown type on the vendor port: ERROR -4", func(t *testing.T) {
		c := dialRaw(t, srv.Vendor)
		wantError(t, c.call(wire.New(wire.Type(0x55), 3)), wire.CodeBadRequest, 3)
	})
	t.Run("vendor request on the lmgrd port: ERROR -8", func(t *testing.T) {
		c := dialRaw(t, srv.Lmgrd)
		wantError(t, c.call(checkout(4, "cad")), wire.CodeWrongRole, 4)
		wantError(t, c.call(wire.New(wire.Type(0x55), 5)), wire.CodeWrongRole, 5)
	})
}

func TestConformanceDirectory(t *testing.T) {
	srv, _ := conformanceServer(t)
	c := dialRaw(t, srv.Lmgrd)
	t.Run("HELLO: HELLO_OK", func(t *testing.T) {
		f := c.call(wire.New(wire.Hello, 1).Str(wire.TUser, "u"))
		wantType(t, f, wire.HelloOK, 1)
		if f.GetStr(wire.TRole) != "lmgrd" {
			t.Fatalf("ROLE %q", f.GetStr(wire.TRole))
		}
	})
	t.Run("SERVER_INFO: SERVER_INFO_OK", func(t *testing.T) {
		wantType(t, c.call(wire.New(wire.ServerInfo, 2)), wire.ServerInfoOK, 2)
	})
	t.Run("VENDOR_PORT: VENDOR_PORT_OK", func(t *testing.T) {
		f := c.call(wire.New(wire.VendorPort, 3).Str(wire.TVendor, "acme"))
		wantType(t, f, wire.VendorPortOK, 3)
		if f.GetInt(wire.TPort) != int64(srv.Vendor.Port) {
			t.Fatalf("PORT %d, want %d", f.GetInt(wire.TPort), srv.Vendor.Port)
		}
	})
	t.Run("VENDOR_PORT of an unknown vendor: ERROR -5", func(t *testing.T) {
		wantError(t, c.call(wire.New(wire.VendorPort, 4).Str(wire.TVendor, "nobody")), wire.CodeNoFeature, 4)
	})
}

func TestConformanceCheckout(t *testing.T) {
	srv, seats := conformanceServer(t)
	c := dialRaw(t, srv.Vendor)
	var handle int64
	t.Run("GRANTED", func(t *testing.T) {
		f := c.call(checkout(1, "cad"))
		wantType(t, f, wire.Granted, 1)
		handle = f.GetInt(wire.THandle)
		if handle < 100 || f.GetStr(wire.TLease) == "" || f.GetInt(wire.TTTLMs) != 60_000 || !f.Has(wire.TExpires) {
			t.Fatalf("GRANTED fields %v", f.Fields)
		}
	})
	t.Run("DENIED with the pool's counts", func(t *testing.T) {
		f := c.call(checkout(2, "cad"))
		wantType(t, f, wire.Denied, 2)
		if f.GetStr(wire.TReason) != "no-seats" || f.GetInt(wire.TInUse) != 1 || f.GetInt(wire.TSeats) != 1 {
			t.Fatalf("DENIED fields %v", f.Fields)
		}
	})
	t.Run("DENIED unknown-feature, not ERROR -5", func(t *testing.T) {
		f := c.call(checkout(3, "nope"))
		wantType(t, f, wire.Denied, 3)
		if f.GetStr(wire.TReason) != "unknown-feature" {
			t.Fatalf("reason %q", f.GetStr(wire.TReason))
		}
	})
	t.Run("WAIT_MS on a feature without a queue: DENIED at once", func(t *testing.T) {
		other := dialRaw(t, srv.Vendor)
		wantType(t, other.call(checkout(1, "plain")), wire.Granted, 1)
		f := c.call(checkout(4, "plain").Int(wire.TWaitMs, 60_000))
		wantType(t, f, wire.Denied, 4)
	})
	t.Run("missing FEATURE: ERROR -4", func(t *testing.T) {
		wantError(t, c.call(wire.New(wire.Checkout, 5).Int(wire.TCount, 1)), wire.CodeBadRequest, 5)
	})
	t.Run("identifier rules: ERROR -4", func(t *testing.T) {
		wantError(t, c.call(checkout(6, "cad").Str(wire.TVendor, "a.*")), wire.CodeBadRequest, 6)
	})
	t.Run("QUEUED, then GRANTED with TICKET under the same id", func(t *testing.T) {
		w := dialRaw(t, srv.Vendor)
		q := w.call(checkout(9, "cad").Int(wire.TWaitMs, 60_000))
		wantType(t, q, wire.Queued, 9)
		if q.GetInt(wire.TPosition) != 1 {
			t.Fatalf("POSITION %d", q.GetInt(wire.TPosition))
		}
		wantType(t, c.call(wire.New(wire.Checkin, 10).Int(wire.THandle, handle)), wire.OK, 10)
		g := w.read()
		wantType(t, g, wire.Granted, 9)
		if g.GetInt(wire.TTicket) != q.GetInt(wire.TTicket) || g.GetInt(wire.THandle) != q.GetInt(wire.TTicket) {
			t.Fatalf("grant from the queue: %v", g.Fields)
		}
	})
	t.Run("CANCEL: OK, then DENIED cancelled under the checkout's id", func(t *testing.T) {
		// The previous waiter's connection closed and gave its seat back:
		// take it again, so that the next checkout queues.
		eventually(t, "the seat back", func() bool {
			fs, err := seats.Status(t.Context(), sdk.StatusQuery{Feature: "cad"})
			return err == nil && fs[0].InUse == 0
		})
		wantType(t, c.call(checkout(20, "cad")), wire.Granted, 20)
		w := dialRaw(t, srv.Vendor)
		q := w.call(checkout(11, "cad").Int(wire.TWaitMs, 60_000))
		wantType(t, q, wire.Queued, 11)
		wantType(t, w.call(wire.New(wire.Cancel, 12).Int(wire.TTicket, q.GetInt(wire.TTicket))), wire.OK, 12)
		d := w.read()
		wantType(t, d, wire.Denied, 11)
		if d.GetStr(wire.TReason) != "cancelled" {
			t.Fatalf("reason %q", d.GetStr(wire.TReason))
		}
	})
	t.Run("CANCEL of a ticket this connection does not wait on: ERROR -7", func(t *testing.T) {
		wantError(t, c.call(wire.New(wire.Cancel, 13).Int(wire.TTicket, 99999)), wire.CodeNoHandle, 13)
	})
	t.Run("gateway unavailable: ERROR -96", func(t *testing.T) {
		seats.FailWith(sdk.ErrUnavailable)
		defer seats.FailWith(nil)
		wantError(t, c.call(checkout(14, "plain")), wire.CodeUnavailable, 14)
	})
}

func TestConformanceLicences(t *testing.T) {
	srv, seats := conformanceServer(t)
	owner, other := dialRaw(t, srv.Vendor), dialRaw(t, srv.Vendor)
	// HELLO's USER and HOST are the defaults of later requests.
	wantType(t, owner.call(wire.New(wire.Hello, 1).Str(wire.TUser, "erin").Str(wire.THost, "ws-07")), wire.HelloOK, 1)
	g := owner.call(wire.New(wire.Checkout, 2).Str(wire.TFeature, "cad").Int(wire.TCount, 1))
	wantType(t, g, wire.Granted, 2)
	h := g.GetInt(wire.THandle)
	t.Run("HELLO's USER and HOST apply to a CHECKOUT without them", func(t *testing.T) {
		fs, err := seats.Status(t.Context(), sdk.StatusQuery{Feature: "cad"})
		if err != nil || len(fs[0].Leases) != 1 || fs[0].Leases[0].Client.User != "erin" || fs[0].Leases[0].Client.Host != "ws-07" {
			t.Fatalf("lease client: %+v %v", fs, err)
		}
	})
	t.Run("HEARTBEAT: HEARTBEAT_OK", func(t *testing.T) {
		f := owner.call(wire.New(wire.Heartbeat, 3).Int(wire.THandle, h))
		wantType(t, f, wire.HeartbeatOK, 3)
		if f.GetInt(wire.THandle) != h || f.GetInt(wire.TTTLMs) != 60_000 || !f.Has(wire.TExpires) {
			t.Fatalf("HEARTBEAT_OK fields %v", f.Fields)
		}
	})
	t.Run("another connection's handle: GONE unknown", func(t *testing.T) {
		for i, typ := range []wire.Type{wire.Heartbeat, wire.Checkin} {
			f := other.call(wire.New(typ, uint32(4+i)).Int(wire.THandle, h))
			wantType(t, f, wire.Gone, uint32(4+i))
			if f.GetStr(wire.TReason) != "unknown" {
				t.Fatalf("reason %q", f.GetStr(wire.TReason))
			}
		}
	})
	t.Run("CHECKIN: OK, then GONE unknown", func(t *testing.T) {
		wantType(t, owner.call(wire.New(wire.Checkin, 6).Int(wire.THandle, h)), wire.OK, 6)
		f := owner.call(wire.New(wire.Checkin, 7).Int(wire.THandle, h))
		wantType(t, f, wire.Gone, 7)
	})
	t.Run("a borrowed licence is returned from another connection", func(t *testing.T) {
		b := owner.call(wire.New(wire.Checkout, 8).Str(wire.TFeature, "cad").Int(wire.TCount, 1).Int(wire.TBorrowS, 3600))
		wantType(t, b, wire.Granted, 8)
		if b.GetInt(wire.TBorrowed) != 1 {
			t.Fatalf("not borrowed: %v", b.Fields)
		}
		owner.nc.Close()
		wantType(t, other.call(wire.New(wire.Heartbeat, 9).Int(wire.THandle, b.GetInt(wire.THandle))), wire.HeartbeatOK, 9)
		wantType(t, other.call(wire.New(wire.Checkin, 10).Int(wire.THandle, b.GetInt(wire.THandle))), wire.OK, 10)
	})
	t.Run("STATUS: STATUS_FEATURE ... STATUS_END", func(t *testing.T) {
		other.send(wire.New(wire.Status, 11).Str(wire.TFeature, "cad"))
		f := other.read()
		wantType(t, f, wire.StatusFeature, 11)
		for f.Type != wire.StatusEnd {
			f = other.read()
		}
		if f.GetInt(wire.TCount) != 1 {
			t.Fatalf("STATUS_END COUNT %d", f.GetInt(wire.TCount))
		}
	})
}
