package flexlm

import "sync"

// firstHandle is the first license handle given out; FlexLM's handles are
// small integers and lmstat prints them.
const firstHandle = 100

// handles numbers the gateway's lease and ticket ids for the wire and for
// lmstat. A ticket that is granted keeps its number for the lease.
type handles struct {
	mu   sync.Mutex
	next int
	ids  map[string]int // lease or ticket id -> handle
	nums map[int]string // handle -> id
	lent map[int]bool   // handles of borrowed licences
	// holder is the connection that holds each lease handle; a lease a
	// client checks out again on a new connection with its request key
	// moves to that connection.
	holder map[int]*conn
}

func newHandles() *handles {
	return &handles{next: firstHandle, ids: map[string]int{}, nums: map[int]string{}, lent: map[int]bool{},
		holder: map[int]*conn{}}
}

// setHolder records that c holds handle n and returns who held it before.
func (h *handles) setHolder(n int, c *conn) *conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	prev := h.holder[n]
	h.holder[n] = c
	return prev
}

// releaseHolder forgets that c holds handle n, reporting whether it did:
// false when another connection took the lease over.
func (h *handles) releaseHolder(n int, c *conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	cur, ok := h.holder[n]
	if ok && cur != c {
		return false
	}
	delete(h.holder, n)
	return true
}

// setBorrowed records that handle n is a borrowed licence, which any
// connection may heartbeat and check in.
func (h *handles) setBorrowed(n int, b bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if b {
		h.lent[n] = true
	} else {
		delete(h.lent, n)
	}
}

// isBorrowed reports whether handle n is a borrowed licence.
func (h *handles) isBorrowed(n int) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.lent[n]
}

// of returns id's handle, numbering it if it has none.
func (h *handles) of(id string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if n, ok := h.ids[id]; ok {
		return n
	}
	n := h.next
	h.next++
	h.ids[id], h.nums[n] = n, id
	return n
}

// rebind gives handle n to id (a ticket's number passing to its lease).
func (h *handles) rebind(n int, id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if old, ok := h.nums[n]; ok {
		delete(h.ids, old)
	}
	h.ids[id], h.nums[n] = n, id
}

// id returns the lease or ticket id of handle n.
func (h *handles) id(n int) (string, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	id, ok := h.nums[n]
	return id, ok
}

// drop forgets id.
func (h *handles) drop(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if n, ok := h.ids[id]; ok {
		delete(h.ids, id)
		delete(h.nums, n)
		delete(h.lent, n)
		delete(h.holder, n)
	}
}

// mark returns the next handle to be given out; handles below it existed
// when mark was called.
func (h *handles) mark() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.next
}

// prune forgets the handles numbered before mark whose ids are not in live:
// leases of other protocols that lmstat numbered and that have gone since.
func (h *handles) prune(mark int, live map[string]bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, n := range h.ids {
		if n < mark && !live[id] {
			delete(h.ids, id)
			delete(h.nums, n)
			delete(h.lent, n)
		}
	}
}

// size reports how many ids are numbered.
func (h *handles) size() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.ids)
}
