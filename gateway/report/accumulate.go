package report

import (
	"time"

	"github.com/licensegw/licensegw/gateway/events"
)

// Report accumulates events into rows. Make it with New, feed it every
// event in stream order with Add, then read Usage, Denials or Peaks.
type Report struct {
	q                                  Query
	byFeature, byUser, byHost, byProto bool
	byGroup                            bool
	groupsOf                           map[string][]string // user -> groups
	since, until                       int64               // UnixNano of q.Since, q.Until

	rows    map[Key]*row
	leases  map[string]holding
	tickets map[string]waiting
	pending map[retryKey][]denial
	seats   map[poolKey]int

	read, inRange int
	finished      bool
	first, last   time.Time
}

// holding is a lease being held: its rows and seats.
type holding struct {
	r     *row   // the one row, or nil when rs is used (by group)
	rs    []*row // the rows of a user in several groups
	count int
}

type waiting struct {
	at    int64
	r     *row
	rs    []*row
	count int
}

type retryKey struct{ vendor, feature, user string }

type denial struct {
	at int64
	r  *row
	rs []*row
}

// row is one key's figures.
type row struct {
	key         Key
	level       int   // seats held now
	changed     int64 // when level last changed (UnixNano)
	seatNanos   float64
	peak        int
	peakAt      int64
	checkouts   int
	denials     int
	trueDenials int
	retries     int
	reasons     map[string]int
	waits       []float64 // seconds, of grants from a queue in range
	// The current day's peak is kept in the row and moved to daily when
	// the day changes: most changes are within one day, and a map access
	// per change was a fifth of the report's cost.
	day     int64
	dayPeak dayPeak
	daily   map[int64]dayPeak
	name    string // key.String(), for sorting
}

type dayPeak struct {
	peak int
	at   int64
}

// New returns an empty report for q, which must have passed Validate.
func New(q Query) *Report {
	r := &Report{
		q:       q,
		since:   q.Since.UnixNano(),
		until:   q.Until.UnixNano(),
		rows:    map[Key]*row{},
		leases:  map[string]holding{},
		tickets: map[string]waiting{},
		pending: map[retryKey][]denial{},
		seats:   map[poolKey]int{},
	}
	for _, b := range q.By {
		switch b {
		case ByFeature:
			r.byFeature = true
		case ByUser:
			r.byUser = true
		case ByHost:
			r.byHost = true
		case ByGroup:
			r.byGroup = true
		case ByProtocol:
			r.byProto = true
		}
	}
	if r.byGroup {
		r.groupsOf = map[string][]string{}
		for g, users := range q.Groups {
			for _, u := range users {
				r.groupsOf[u] = append(r.groupsOf[u], g)
			}
		}
	}
	return r
}

type poolKey struct{ vendor, feature, version string }

const day = int64(24 * time.Hour)

// Add feeds one event. Events must come in stream order; kinds the report
// does not use (and kinds it does not know) are skipped.
func (r *Report) Add(ev *events.Event) {
	t := ev.Time.UnixNano()
	if r.read == 0 {
		r.first = ev.Time
	}
	r.read++
	r.last = ev.Time
	in := t >= r.since && t < r.until
	if in {
		r.inRange++
	}
	vendor := ev.Vendor
	if vendor == "" {
		vendor = events.DefaultVendor
	}
	if ev.Seats > 0 || ev.Kind == events.Checkout {
		r.seats[poolKey{vendor, ev.Feature, ev.Version}] = ev.Seats
	}
	switch ev.Kind {
	case events.Checkout, events.Borrowed:
		h := r.holdingOf(ev, vendor)
		r.change(h.r, h.rs, t, h.count)
		r.leases[ev.Lease] = h
		if in {
			r.each(h.r, h.rs, func(w *row) { w.checkouts++ })
		}
		if ev.Ticket != "" {
			r.granted(ev.Ticket, t, in)
		}
		r.retried(retryKey{vendor, ev.Feature, ev.User}, t)
	case events.Checkin, events.Expired, events.Removed, events.Returned:
		h, ok := r.leases[ev.Lease]
		if !ok {
			return // granted before the stream's retained start
		}
		delete(r.leases, ev.Lease)
		r.change(h.r, h.rs, t, -h.count)
	case events.Denied:
		if !in {
			return
		}
		h := r.holdingOf(ev, vendor)
		r.each(h.r, h.rs, func(w *row) {
			w.denials++
			if w.reasons == nil {
				w.reasons = map[string]int{}
			}
			w.reasons[ev.Reason]++
		})
		k := retryKey{vendor, ev.Feature, ev.User}
		r.pending[k] = append(r.pending[k], denial{at: t, r: h.r, rs: h.rs})
	case events.Queued:
		h := r.holdingOf(ev, vendor)
		r.tickets[ev.Ticket] = waiting{at: t, r: h.r, rs: h.rs, count: h.count}
	case events.Dequeued:
		delete(r.tickets, ev.Ticket)
	}
}

// holdingOf finds (making them on first use) the rows ev counts in.
func (r *Report) holdingOf(ev *events.Event, vendor string) holding {
	count := ev.Count
	if count == 0 {
		count = 1
	}
	var k Key
	if r.byFeature {
		k.Vendor, k.Feature = vendor, ev.Feature
	}
	if r.byUser {
		k.User = ev.User
	}
	if r.byHost {
		k.Host = ev.Host
	}
	if r.byProto {
		k.Protocol = ev.Protocol
	}
	if !r.byGroup {
		return holding{r: r.row(k), count: count}
	}
	groups := r.groupsOf[ev.User]
	if len(groups) <= 1 {
		k.Group = "-"
		if len(groups) == 1 {
			k.Group = groups[0]
		}
		return holding{r: r.row(k), count: count}
	}
	rs := make([]*row, len(groups))
	for i, g := range groups {
		k.Group = g
		rs[i] = r.row(k)
	}
	return holding{rs: rs, count: count}
}

func (r *Report) row(k Key) *row {
	w, ok := r.rows[k]
	if !ok {
		w = &row{key: k, changed: r.since}
		r.rows[k] = w
	}
	return w
}

func (r *Report) each(one *row, many []*row, f func(*row)) {
	if one != nil {
		f(one)
		return
	}
	for _, w := range many {
		f(w)
	}
}

// change moves rows' levels by delta at t, integrating the level held
// since their last change.
func (r *Report) change(one *row, many []*row, t int64, delta int) {
	r.each(one, many, func(w *row) {
		r.advance(w, t)
		w.level = max(0, w.level+delta)
		if t >= r.since && t < r.until {
			r.peakAt(w, t)
		}
	})
}

// advance integrates w's level from its last change to t, clipped to the
// range, and notes the level as a peak at the start of the clipped span.
func (r *Report) advance(w *row, t int64) {
	from, to := max(w.changed, r.since), min(t, r.until)
	if to > from && w.level > 0 {
		w.seatNanos += float64(w.level) * float64(to-from)
		r.peakAt(w, from)
		// A level held across midnight is each covered day's candidate.
		for d := from - from%day + day; d < to; d += day {
			r.peakAt(w, d)
		}
	}
	w.changed = max(w.changed, t)
}

func (r *Report) peakAt(w *row, t int64) {
	if w.level > w.peak {
		w.peak, w.peakAt = w.level, t
	}
	d := t - t%day
	if d != w.day || w.daily == nil {
		w.flushDay()
		w.day = d
		w.dayPeak = dayPeak{peak: w.level, at: t}
		if p, ok := w.daily[d]; ok {
			w.dayPeak = p // back to a day seen before (a clipped span's start)
			if w.level > p.peak {
				w.dayPeak = dayPeak{peak: w.level, at: t}
			}
		}
		return
	}
	if w.level > w.dayPeak.peak {
		w.dayPeak = dayPeak{peak: w.level, at: t}
	}
}

// flushDay stores the current day's peak in daily.
func (w *row) flushDay() {
	if w.daily == nil {
		w.daily = map[int64]dayPeak{}
		return
	}
	w.daily[w.day] = w.dayPeak
}

// granted notes the wait of a queue ticket granted at t.
func (r *Report) granted(ticket string, t int64, in bool) {
	q, ok := r.tickets[ticket]
	if !ok {
		return
	}
	delete(r.tickets, ticket)
	if in {
		wait := float64(t-q.at) / 1e9
		r.each(q.r, q.rs, func(w *row) { w.waits = append(w.waits, wait) })
	}
}

// retried settles k's pending denials at a grant at t: those within the
// retry window were retries, older ones true denials.
func (r *Report) retried(k retryKey, t int64) {
	ds, ok := r.pending[k]
	if !ok {
		return
	}
	delete(r.pending, k)
	window := int64(r.q.RetryWindow)
	for _, d := range ds {
		retry := t-d.at <= window
		r.each(d.r, d.rs, func(w *row) {
			if retry {
				w.retries++
			} else {
				w.trueDenials++
			}
		})
	}
}

// finish closes the range: levels are integrated to its end, and denials
// no grant followed are true denials.
func (r *Report) finish() {
	if r.finished {
		return
	}
	r.finished = true
	for _, w := range r.rows {
		r.advance(w, r.until)
		if w.daily != nil {
			w.flushDay()
		}
	}
	for k, ds := range r.pending {
		for _, d := range ds {
			r.each(d.r, d.rs, func(w *row) { w.trueDenials++ })
		}
		delete(r.pending, k)
	}
}
