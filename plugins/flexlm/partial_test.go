package flexlm

import (
	"encoding/binary"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/licensegw/licensegw/plugins/flexlm/wire"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

// Frames that announce a megabyte and bring a few bytes cost what they
// brought, while the connection waits and after it closed: 200 of them used
// to pin 200 MiB.
func TestPartialFramesCostWhatTheyBrought(t *testing.T) {
	const conns = 200
	seats := sdktest.NewSeats(sdktest.Feature{Vendor: "acme", Name: "cad", Version: "1.0", Seats: 1})
	h := sdktest.Run(t, New(), seats, nil)
	addr := h.Addr(ListenerVendor)

	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	base := heap()
	// A header announcing the largest payload, then 1,000 of its bytes.
	partial := make([]byte, 12, 12+1000)
	copy(partial, "FX")
	partial[2], partial[3] = wire.Version, byte(wire.Checkout)
	binary.BigEndian.PutUint32(partial[8:], wire.MaxPayload)
	partial = append(partial, make([]byte, 1000)...)

	var open []net.Conn
	for range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if _, err := c.Write(partial); err != nil {
			t.Fatal(err)
		}
		open = append(open, c)
	}
	time.Sleep(500 * time.Millisecond) // the server has read what there is
	waiting := heap() - min(base, heap())
	t.Logf("%d connections each part-way into a %d-byte frame: heap +%d KiB (%d B each)", conns, wire.MaxPayload, waiting>>10, waiting/conns)
	if limit := uint64(conns * 64 << 10); waiting > limit {
		t.Errorf("heap grew %d bytes while %d partial frames wait, want under %d", waiting, conns, limit)
	}
	for _, c := range open {
		c.Close()
	}
	time.Sleep(500 * time.Millisecond)
	after := heap() - min(base, heap())
	t.Logf("after they closed: heap +%d KiB", after>>10)
	if limit := uint64(4 << 20); after > limit {
		t.Errorf("heap still %d bytes above the start after the connections closed, want under %d", after, limit)
	}
}
