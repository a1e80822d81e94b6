package seats

// TombstoneCapacity is how many ended leases the engine remembers the end
// of, so that a late HEARTBEAT or CHECKIN hears why its lease is gone.
const TombstoneCapacity = 65536

// Tombstone records why a lease ended (GoneExpired or GoneRemoved).
type Tombstone struct {
	Lease  string
	Reason Reason
}

// tombstones is a ring of the most recent TombstoneCapacity ends with an
// index: bounded memory, O(1) add and lookup.
type tombstones struct {
	ring []Tombstone
	next int // when full, the oldest entry and the next to overwrite
	m    map[string]Reason
}

func (ts *tombstones) add(id string, r Reason) {
	if ts.m == nil {
		ts.m = make(map[string]Reason)
	}
	t := Tombstone{Lease: id, Reason: r}
	if len(ts.ring) < TombstoneCapacity {
		ts.ring = append(ts.ring, t)
	} else {
		delete(ts.m, ts.ring[ts.next].Lease)
		ts.ring[ts.next] = t
		ts.next = (ts.next + 1) % TombstoneCapacity
	}
	ts.m[id] = r
}

func (ts *tombstones) reason(id string) Reason {
	if r, ok := ts.m[id]; ok {
		return r
	}
	return GoneUnknown
}

// list returns the tombstones oldest first.
func (ts *tombstones) list() []Tombstone {
	out := make([]Tombstone, 0, len(ts.ring))
	out = append(out, ts.ring[ts.next:]...)
	return append(out, ts.ring[:ts.next]...)
}

func (ts *tombstones) reset() { *ts = tombstones{} }
