package flexlm

import "testing"

func TestHandles(t *testing.T) {
	h := newHandles()
	a, b := h.of("lease-a"), h.of("ticket-b")
	if a != firstHandle || b != firstHandle+1 || h.of("lease-a") != a {
		t.Fatalf("numbers %d %d", a, b)
	}
	h.rebind(b, "lease-b")
	if id, ok := h.id(b); !ok || id != "lease-b" {
		t.Errorf("after rebind %d -> %q", b, id)
	}
	if h.of("lease-b") != b {
		t.Error("rebound lease got a new number")
	}
	mark := h.mark()
	c := h.of("lease-c") // numbered after the mark: kept by prune
	h.prune(mark, map[string]bool{"lease-b": true})
	if _, ok := h.id(a); ok {
		t.Error("prune kept a gone lease")
	}
	if _, ok := h.id(b); !ok {
		t.Error("prune forgot a live lease")
	}
	if _, ok := h.id(c); !ok {
		t.Error("prune forgot a lease numbered after the mark")
	}
	h.drop("lease-b")
	if h.size() != 1 {
		t.Errorf("size = %d, want 1", h.size())
	}
}
