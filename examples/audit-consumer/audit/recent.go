package audit

// recent remembers the last n ids written, to drop redelivered events.
type recent struct {
	ring []string
	next int
	set  map[string]struct{}
}

func newRecent(n int) *recent {
	return &recent{ring: make([]string, n), set: make(map[string]struct{}, n)}
}

func (r *recent) has(id string) bool {
	_, ok := r.set[id]
	return ok
}

// add records id, forgetting the oldest one when full.
func (r *recent) add(id string) {
	if id == "" || r.has(id) {
		return
	}
	if old := r.ring[r.next]; old != "" {
		delete(r.set, old)
	}
	r.ring[r.next] = id
	r.set[id] = struct{}{}
	r.next = (r.next + 1) % len(r.ring)
}
