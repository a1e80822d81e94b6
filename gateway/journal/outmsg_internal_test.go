package journal

import (
	"math"
	"strconv"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
)

// TestSetExpect: the fence header says the sequence last set, at any
// length, and setting it allocates nothing.
func TestSetExpect(t *testing.T) {
	j := &Journal{}
	m := j.recycledMsg()
	for _, seq := range []uint64{0, 7, 100, 123456789, math.MaxUint64, 42} {
		m.setExpect(seq)
		if got := m.Header.Get(jetstream.ExpectedLastSeqHeader); got != strconv.FormatUint(seq, 10) {
			t.Errorf("setExpect(%d): header %q", seq, got)
		}
	}
	if n := testing.AllocsPerRun(100, func() { m.setExpect(1234567) }); n != 0 {
		t.Errorf("setExpect: %v allocations, want 0", n)
	}
}
