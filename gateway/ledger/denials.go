package ledger

import (
	"net"
	"time"

	"golang.org/x/time/rate"

	"github.com/licensegw/licensegw/gateway/events"
)

// Denials are journaled one by one within two token buckets: one per source
// (a client address without its port, or user@host when a plugin gives
// none) and one for all sources together. The rest are counted and journaled
// as one summary per second (reason "suppressed", count = how many).
//
// The buckets are deep so that ordinary contention is recorded in full: a
// build farm behind one address whose jobs all find the seats taken, or a
// burst of waiters giving up at once, is the audit trail reports are made
// of. Only a sustained flood is summarised. Over any t seconds the stream
// grows by at most DenialBurstTotal + (DenialsTotal+1)·t denial events,
// however many addresses a flood spoofs.
const (
	DenialsPerSource     = 10   // denials per second journaled per source, sustained
	DenialBurstPerSource = 300  // per source, before the rate applies
	DenialsTotal         = 100  // denials per second journaled in all, sustained
	DenialBurstTotal     = 1000 // in all, before the rate applies
	denialWindow         = time.Second
	// maxDenialSources bounds the table of per-source buckets: past it, a
	// new source's denials count only against the total.
	maxDenialSources = 10_000
)

// denialLimiter decides which denials the ledger journals. Denials change
// no state (replay ignores them), so leaving one out loses only audit
// detail, which the summary keeps as a count. Guarded by Ledger.mu; it uses
// the ledger's clock, so tests drive it with theirs.
type denialLimiter struct {
	window     time.Time // when the last summary was due
	total      *rate.Limiter
	perSource  map[string]*rate.Limiter
	suppressed int // denials not journaled since the last summary
}

// filter drops the denials over the limits from evs (in place) and, once a
// window has passed since the last summary, appends the summary.
func (d *denialLimiter) filter(now time.Time, evs []events.Event) []events.Event {
	if now.Sub(d.window) >= denialWindow || now.Before(d.window) {
		evs = d.flush(now, evs)
	}
	kept := evs[:0]
	for i := range evs {
		if evs[i].Kind == events.Denied && evs[i].Reason != events.ReasonSuppressed && !d.allow(now, &evs[i]) {
			d.suppressed++
			continue
		}
		kept = append(kept, evs[i])
	}
	return kept
}

// flush starts a new window, appending the summary of the denials
// suppressed since the last one, and forgets the sources whose buckets
// have filled up again (they would start from a full bucket anyway).
func (d *denialLimiter) flush(now time.Time, evs []events.Event) []events.Event {
	if d.suppressed > 0 {
		evs = append(evs, events.Event{
			Kind: events.Denied, Reason: events.ReasonSuppressed, Count: d.suppressed, Time: now,
		})
		d.suppressed = 0
	}
	d.window = now
	for src, b := range d.perSource {
		if b.TokensAt(now) >= DenialBurstPerSource {
			delete(d.perSource, src)
		}
	}
	return evs
}

func (d *denialLimiter) allow(now time.Time, ev *events.Event) bool {
	if d.total == nil {
		d.total = rate.NewLimiter(DenialsTotal, DenialBurstTotal)
		d.perSource = make(map[string]*rate.Limiter)
	}
	src := denialSource(ev)
	b, known := d.perSource[src]
	if !known {
		if len(d.perSource) >= maxDenialSources {
			return d.total.AllowN(now, 1)
		}
		b = rate.NewLimiter(DenialsPerSource, DenialBurstPerSource)
		d.perSource[src] = b
	}
	// The source's token is spent only when the total has one too: a
	// source is not charged for what the total refused.
	if b.TokensAt(now) < 1 || !d.total.AllowN(now, 1) {
		return false
	}
	return b.AllowN(now, 1)
}

// pending reports whether a summary is due at the next window.
func (d *denialLimiter) pending() bool { return d.suppressed > 0 }

// denialSource is who a denial is counted against: the client's address
// without its port, or user@host.
func denialSource(ev *events.Event) string {
	if ev.Client == "" {
		return ev.User + "@" + ev.Host
	}
	if host, _, err := net.SplitHostPort(ev.Client); err == nil {
		return host
	}
	return ev.Client
}
