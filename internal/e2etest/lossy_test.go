package e2etest

import (
	"encoding/binary"
	"fmt"
	"net"
	"testing"
	"time"
)

// TestLossyRelay sends numbered datagrams to a UDP echo server through a
// relay that drops, duplicates and reorders, and checks that all three
// happen and that nothing arrives that was not sent.
func TestLossyRelay(t *testing.T) {
	echo, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	go func() {
		buf := make([]byte, 64)
		for {
			n, from, err := echo.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = echo.WriteTo(buf[:n], from)
		}
	}()
	r, err := NewLossyRelay(echo.LocalAddr().String(), Loss{Drop: 0.2, Duplicate: 0.2, Reorder: 0.2, MaxDelay: 5 * time.Millisecond, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	c, err := net.Dial("udp", r.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	const n = 400
	// Read while sending, so that the socket's buffer never overflows.
	seen := map[uint32]int{}
	var order []uint32
	done := make(chan error, 1)
	go func() {
		buf := make([]byte, 64)
		for {
			_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			m, err := c.Read(buf)
			if err != nil {
				done <- nil
				return
			}
			v := binary.BigEndian.Uint32(buf)
			if m != 4 || v >= n {
				done <- fmt.Errorf("%x came back, never sent", buf[:m])
				return
			}
			seen[v]++
			order = append(order, v)
		}
	}()
	for i := range n {
		if _, err := c.Write(binary.BigEndian.AppendUint32(nil, uint32(i))); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Microsecond)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	twice, late := 0, 0
	for _, k := range seen {
		if k > 1 {
			twice++
		}
	}
	for i := 1; i < len(order); i++ {
		if order[i] < order[i-1] {
			late++
		}
	}
	st := r.Stats()
	t.Logf("%d of %d came back (%d twice, %d out of order); relay %+v", len(seen), n, twice, late, st)
	if len(seen) == n || len(seen) < n/2 {
		t.Errorf("%d of %d datagrams came back: want some, not all, lost", len(seen), n)
	}
	if twice == 0 || late == 0 {
		t.Errorf("no duplicate (%d) or no reordering (%d) seen", twice, late)
	}
	if st.Dropped == 0 || st.Duplicated == 0 || st.Reordered == 0 {
		t.Errorf("stats %+v: every kind of mistreatment should have happened", st)
	}
}
