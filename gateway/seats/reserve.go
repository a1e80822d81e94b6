package seats

import "slices"

// Reservations are honoured as an assignment problem. Each lease has a
// signature: the set of reservations its client matches (a bit per entry of
// Feature.Reserve). The seats held under each signature are assigned to
// reservations by a maximum flow (signature -> matching reservation ->
// its seats), and whatever the flow cannot cover is unreserved use, which
// may not exceed Seats minus all reservations. A maximum flow, unlike a
// first-fit rule, never leaves a reserved seat unusable because a client
// matching two reservations sits in the wrong one, and it only shrinks by
// at most the seats released, so a release never pushes the unreserved use
// up. The flow depends only on the seats held per signature, so replay and
// Restore reach the same split.

// maxReservations bounds Feature.Reserve: a signature is a 64-bit set.
const maxReservations = 64

// sigOf returns the set of p's reservations that c matches.
func (p *pool) sigOf(c *Client) uint64 {
	var sig uint64
	for i := range p.reserves {
		if p.reserves[i].who.match(c) {
			sig |= 1 << i
		}
	}
	return sig
}

// reservedCover returns how many seats the reservations can cover with
// extra more seats held under signature sig (0 for the current leases).
func (p *pool) reservedCover(sig uint64, extra int) int {
	if sig == 0 || extra == 0 {
		return p.covered
	}
	if p.sigSeats == nil {
		p.sigSeats = make(map[uint64]int)
	}
	p.sigSeats[sig] += extra
	total, _, _, _ := p.flow()
	if p.sigSeats[sig] -= extra; p.sigSeats[sig] == 0 {
		delete(p.sigSeats, sig)
	}
	return total
}

// rebalance recomputes the assignment after a change: the per-reservation
// use, the unreserved use and each lease's Reserved share (the signature's
// covered seats handed out in grant order).
func (p *pool) rebalance() {
	if len(p.sigSeats) == 0 { // nobody holding seats matches a reservation
		if p.covered > 0 {
			for l := p.head; l != nil; l = l.next {
				l.Reserved = 0
			}
		}
		for i := range p.reserves {
			p.reserves[i].used = 0
		}
		p.covered = 0
		p.unreservedUsed = p.inUse
		return
	}
	total, sigs, bySig, byRes := p.flow()
	p.covered = total
	p.unreservedUsed = p.inUse - total
	for i := range p.reserves {
		p.reserves[i].used = byRes[i]
	}
	for l := p.head; l != nil; l = l.next {
		l.Reserved = 0
		if l.sig == 0 {
			continue
		}
		i, _ := slices.BinarySearch(sigs, l.sig)
		take := min(l.Count, bySig[i])
		bySig[i] -= take
		l.Reserved = take
	}
}

// flow computes a maximum assignment of held seats to reservations with
// shortest augmenting paths (Edmonds-Karp) over signatures in ascending
// order, so the result is a function of sigSeats alone. The graph is small:
// one node per distinct signature held and one per reservation.
func (p *pool) flow() (total int, sigs []uint64, bySig, byRes []int) {
	sigs = make([]uint64, 0, len(p.sigSeats))
	for s, n := range p.sigSeats {
		if n > 0 {
			sigs = append(sigs, s)
		}
	}
	slices.Sort(sigs)
	S, R := len(sigs), len(p.reserves)
	bySig = make([]int, S)
	byRes = make([]int, R)
	sr := make([]int, S*R) // flow from signature i to reservation j at i*R+j
	prev := make([]int, S+R)
	queue := make([]int, 0, S+R)
	const unseen, source = -2, -1
	for {
		for i := range prev {
			prev[i] = unseen
		}
		queue = queue[:0]
		for i, s := range sigs {
			if p.sigSeats[s] > bySig[i] {
				prev[i] = source
				queue = append(queue, i)
			}
		}
		end := -1
		for q := 0; q < len(queue) && end < 0; q++ {
			u := queue[q]
			if u < S { // a signature: forward to every reservation it matches
				for j := 0; j < R; j++ {
					if sigs[u]&(1<<j) == 0 || prev[S+j] != unseen {
						continue
					}
					prev[S+j] = u
					if byRes[j] < p.reserves[j].Seats {
						end = S + j
						break
					}
					queue = append(queue, S+j)
				}
				continue
			}
			j := u - S // a reservation: back along flow to the signatures using it
			for i := 0; i < S; i++ {
				if sr[i*R+j] > 0 && prev[i] == unseen {
					prev[i] = u
					queue = append(queue, i)
				}
			}
		}
		if end < 0 {
			return total, sigs, bySig, byRes
		}
		b := p.reserves[end-S].Seats - byRes[end-S]
		for v := end; ; {
			u := prev[v]
			if u == source {
				b = min(b, p.sigSeats[sigs[v]]-bySig[v])
				break
			}
			if v < S { // reservation u -> signature v undoes flow
				b = min(b, sr[v*R+u-S])
			}
			v = u
		}
		byRes[end-S] += b
		for v := end; ; {
			u := prev[v]
			if u == source {
				bySig[v] += b
				break
			}
			if v >= S {
				sr[u*R+v-S] += b
			} else {
				sr[v*R+u-S] -= b
			}
			v = u
		}
		total += b
	}
}
