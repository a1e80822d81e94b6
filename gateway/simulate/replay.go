package simulate

import (
	"container/heap"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/seats"
)

type holdSum struct {
	total time.Duration
	n     int
}

// meanHold is the mean recorded hold of a feature so far.
func (s *Simulator) meanHold(k featureKey) time.Duration {
	h := s.holds[k]
	if h.n == 0 {
		return DefaultHold
	}
	return h.total / time.Duration(h.n)
}

// Add feeds one recorded event; events must come in stream order. Kinds
// the simulator does not use, or does not know, are skipped.
func (s *Simulator) Add(ev *events.Event) {
	s.read++
	s.advance(ev.Time)
	k := keyOf(ev)
	switch ev.Kind {
	case events.Checkout, events.Borrowed:
		s.recordInUse(ev)
		if ev.Ticket != "" {
			s.recordedQueueGrant(ev, k)
			return
		}
		r := s.request(ev, k, "granted")
		if ev.Kind == events.Borrowed && ev.Expires != nil {
			r.req.Borrow = ev.Expires.Sub(ev.Time)
		}
		s.byLease[ev.Lease] = r
		s.issue(r, k)
	case events.Denied:
		r := s.request(ev, k, "denied:"+ev.Reason)
		r.deniedInRecord = true
		s.issue(r, k)
	case events.Queued:
		s.recordInUse(ev)
		r := s.request(ev, k, "queued")
		if ev.Expires != nil {
			r.req.Wait = max(ev.Expires.Sub(ev.Time), time.Nanosecond)
		}
		s.byTicket[ev.Ticket] = r
		s.issue(r, k)
	case events.Checkin, events.Expired, events.Removed, events.Returned:
		s.recordInUse(ev)
		s.recordedEnd(ev, k)
	case events.Dequeued:
		s.recordInUse(ev)
		s.recordedDequeue(ev, k)
	}
}

func keyOf(ev *events.Event) featureKey {
	v := ev.Vendor
	if v == "" {
		v = events.DefaultVendor
	}
	return featureKey{v, ev.Feature}
}

// request makes a request from a recorded event that asked for seats.
func (s *Simulator) request(ev *events.Event, k featureKey, outcome string) *request {
	s.nextID++
	r := &request{
		id: s.nextID, at: ev.Time, outcome: outcome,
		counted: !ev.Time.Before(s.opts.Since) && (s.opts.Until.IsZero() || ev.Time.Before(s.opts.Until)),
		req: seats.CheckoutRequest{
			Vendor: k.vendor, Feature: ev.Feature, Version: ev.Version, Count: max(ev.Count, 1),
			Client: seats.Client{User: ev.User, Host: ev.Host, Display: ev.Display, Project: ev.Project,
				Addr: ev.Client, Protocol: ev.Protocol, Plugin: ev.Plugin},
		},
	}
	if r.counted {
		s.requests++
		f := s.feature(k)
		f.Recorded.Requests++
		switch outcome {
		case "granted":
			f.Recorded.Granted++
		case "queued":
			f.Recorded.Queued++
		default:
			f.Recorded.Denied++
			f.Recorded.reason(ev.Reason)
		}
	}
	return r
}

func (o *Outcome) reason(r string) {
	if o.Reasons == nil {
		o.Reasons = map[string]int{}
	}
	o.Reasons[r]++
}

func (s *Simulator) feature(k featureKey) *Feature {
	f, ok := s.features[k]
	if !ok {
		f = &Feature{Vendor: k.vendor, Feature: k.name}
		s.features[k] = f
	}
	return f
}

// issue makes the request in the simulation, now.
func (s *Simulator) issue(r *request, k featureKey) {
	res, evs := s.eng.Checkout(s.now, r.req, s.evs[:0])
	s.evs = evs
	f := s.feature(k)
	switch res.Outcome {
	case seats.Granted:
		r.simOutcome = "granted"
		s.simGranted(r, res.Lease.ID)
		if r.counted {
			f.Simulated.Granted++
		}
	case seats.Queued:
		r.simOutcome = "queued"
		r.simTicket = res.Ticket
		s.simTicket[res.Ticket] = r
		if r.counted {
			f.Simulated.Queued++
		}
	default:
		r.simOutcome = "denied:" + string(res.Reason)
		if r.counted {
			f.Simulated.Denied++
			f.Simulated.reason(string(res.Reason))
		}
	}
	if r.counted {
		f.Simulated.Requests++
		if s.opts.Observe != nil {
			s.opts.Observe(r.outcome, r.simOutcome)
		}
	}
	s.simEvents(evs)
}

// simGranted notes a grant in the simulation and schedules its end when
// the record cannot say it: a request the record denied holds its seats
// for its feature's mean hold; one whose recorded lease already ended (it
// waited longer here) holds them for its recorded hold.
func (s *Simulator) simGranted(r *request, lease string) {
	r.simLease, r.simGrantAt = lease, s.now
	switch {
	case r.deniedInRecord:
		s.schedule(s.now.Add(s.meanHold(keyOf2(r))), r)
	case r.ended:
		s.schedule(s.now.Add(r.hold), r)
	}
}

func keyOf2(r *request) featureKey { return featureKey{r.req.Vendor, r.req.Feature} }

// recordedQueueGrant: a ticket of the record was granted.
func (s *Simulator) recordedQueueGrant(ev *events.Event, k featureKey) {
	r, ok := s.byTicket[ev.Ticket]
	if !ok {
		return // queued before the stream's retained start
	}
	delete(s.byTicket, ev.Ticket)
	s.byLease[ev.Lease] = r
	if r.counted {
		f := s.feature(k)
		f.Recorded.GrantedQueued++
		f.Recorded.waits = append(f.Recorded.waits, ev.Time.Sub(r.at))
	}
}

// recordedEnd: a recorded lease ended. Its simulated twin ends now, or
// after its recorded hold from its own (later) grant.
func (s *Simulator) recordedEnd(ev *events.Event, k featureKey) {
	r, ok := s.byLease[ev.Lease]
	if !ok {
		return
	}
	delete(s.byLease, ev.Lease)
	r.ended = true
	if ev.HeldMS != nil {
		r.hold = time.Duration(*ev.HeldMS) * time.Millisecond
		h := s.holds[k]
		h.total += r.hold
		h.n++
		s.holds[k] = h
	}
	if r.simLease == "" {
		return // still queued (or denied) here: simGranted schedules it
	}
	if end := r.simGrantAt.Add(r.hold); end.After(s.now) {
		s.schedule(end, r)
		return
	}
	s.endSim(r)
}

// recordedDequeue: a recorded ticket ended without a grant. A ticket that
// timed out times out here by its own deadline; one the user cancelled (or
// a disconnect or restart ended) is cancelled here too, if still waiting.
func (s *Simulator) recordedDequeue(ev *events.Event, k featureKey) {
	r, ok := s.byTicket[ev.Ticket]
	if !ok {
		return
	}
	delete(s.byTicket, ev.Ticket)
	if r.counted {
		s.feature(k).Recorded.DequeuedUnmet++
	}
	r.deniedInRecord = true // no recorded hold: a later simulated grant gets the mean
	if ev.Reason == string(seats.Timeout) || r.simTicket == "" || r.simLease != "" {
		if r.simLease != "" && r.hold == 0 {
			s.schedule(r.simGrantAt.Add(s.meanHold(k)), r)
		}
		return
	}
	evs, err := s.eng.Cancel(s.now, r.simTicket, seats.Cancelled, s.evs[:0])
	if err == nil {
		s.simEvents(evs)
	}
}

// endSim checks the simulated lease of r in.
func (s *Simulator) endSim(r *request) {
	if r.simLease == "" {
		return
	}
	evs, _ := s.eng.Checkin(s.now, r.simLease, s.evs[:0]) // gone: a borrow ended by itself
	r.simLease = ""
	s.simEvents(evs)
}

// simEvents follows the simulation's own events: grants from its queues,
// timeouts, and its seats in use.
func (s *Simulator) simEvents(evs []events.Event) {
	for i := range evs {
		ev := &evs[i]
		k := keyOf(ev)
		s.simInUse[seats.PoolKey{Vendor: k.vendor, Name: ev.Feature, Version: ev.Version}] = ev.InUse
		s.peak(k, s.simInUse, &s.feature(k).Simulated)
		r := s.simTicket[ev.Ticket]
		if r == nil || ev.Ticket == "" {
			continue
		}
		switch ev.Kind {
		case events.Checkout, events.Borrowed:
			delete(s.simTicket, ev.Ticket)
			r.simTicket = ""
			if r.counted {
				f := s.feature(k)
				f.Simulated.GrantedQueued++
				f.Simulated.waits = append(f.Simulated.waits, ev.Time.Sub(r.at))
			}
			s.simGranted(r, ev.Lease)
		case events.Dequeued:
			delete(s.simTicket, ev.Ticket)
			r.simTicket = ""
			if r.counted {
				s.feature(k).Simulated.DequeuedUnmet++
			}
		}
	}
	s.evs = evs[:0]
}

func (s *Simulator) recordInUse(ev *events.Event) {
	k := keyOf(ev)
	s.recInUse[seats.PoolKey{Vendor: k.vendor, Name: ev.Feature, Version: ev.Version}] = ev.InUse
	if !ev.Time.Before(s.opts.Since) && (s.opts.Until.IsZero() || ev.Time.Before(s.opts.Until)) {
		s.peak(k, s.recInUse, &s.feature(k).Recorded)
	}
}

// peak notes the feature's seats in use (all its pools) as a candidate peak.
func (s *Simulator) peak(k featureKey, inUse map[seats.PoolKey]int, o *Outcome) {
	n := 0
	for p, v := range inUse {
		if p.Vendor == k.vendor && p.Name == k.name {
			n += v
		}
	}
	o.PeakInUse = max(o.PeakInUse, n)
}

// advance runs the simulation's clock to t: scheduled ends in time order,
// with the engine's own timers (queue timeouts) between them.
func (s *Simulator) advance(t time.Time) {
	for len(s.pending) > 0 && !s.pending[0].at.After(t) {
		e := heap.Pop(&s.pending).(end)
		s.tick(e.at)
		if e.r.simLease != "" {
			s.endSim(e.r)
		}
	}
	s.tick(t)
}

// tick runs the engine's timers due by t, each at its own deadline, as
// the ledger's clock does.
func (s *Simulator) tick(t time.Time) {
	for {
		next := s.eng.NextDeadline()
		if next.IsZero() || next.After(t) {
			break
		}
		s.now = later(s.now, next)
		s.simEvents(s.eng.Tick(s.now, s.evs[:0]))
	}
	s.now = later(s.now, t)
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func (s *Simulator) schedule(at time.Time, r *request) {
	heap.Push(&s.pending, end{at: at, r: r, seq: len(s.pending)})
}

type end struct {
	at  time.Time
	r   *request
	seq int
}

type endHeap []end

func (h endHeap) Len() int { return len(h) }
func (h endHeap) Less(i, j int) bool {
	if h[i].at.Equal(h[j].at) {
		return h[i].r.id < h[j].r.id
	}
	return h[i].at.Before(h[j].at)
}
func (h endHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *endHeap) Push(x any)   { *h = append(*h, x.(end)) }
func (h *endHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
