package concurrentlm

import "testing"

// The answer ring grows keeping the answers' order, also when they wrap
// around its end.
func TestGrowRingKeepsOrder(t *testing.T) {
	a, b, d := &slot{}, &slot{}, &slot{}
	c := &conn{ring: []*slot{b, a}, head: 1, n: 2} // a, then b (wrapped)
	c.growRing()
	c.ring[(c.head+c.n)%len(c.ring)] = d
	c.n++
	if len(c.ring) != 4 || c.head != 0 {
		t.Fatalf("ring of %d, head %d after growing", len(c.ring), c.head)
	}
	for i, want := range []*slot{a, b, d} {
		if got := c.ring[(c.head+i)%len(c.ring)]; got != want {
			t.Fatalf("answer %d out of order", i)
		}
	}
}
