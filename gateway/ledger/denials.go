package ledger

import (
	"net"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
)

// Denials journaled one by one, per window of denialWindow: at most
// DenialsPerSource from one source (a client address, or user@host when a
// plugin gives none) and DenialsTotal from all sources together; the rest
// are counted and journaled as one summary per window (reason
// "suppressed", count = how many). So a flood of refused requests, from one
// address or from many spoofed ones, grows the stream by at most
// DenialsTotal+1 events per second.
const (
	DenialsPerSource = 5
	DenialsTotal     = 100
	denialWindow     = time.Second
	// maxDenialSources bounds the per-window table: past it, a new
	// source's denials count only against the total.
	maxDenialSources = 10_000
)

// denialLimiter decides which denials the ledger journals. Denials change
// no state (replay ignores them), so leaving one out loses only audit
// detail, which the summary keeps as a count. Guarded by Ledger.mu.
type denialLimiter struct {
	window     time.Time      // start of the current window
	perSource  map[string]int // denials journaled per source this window
	total      int            // denials journaled this window
	suppressed int            // denials not journaled since the last summary
}

// filter drops the denials over the limits from evs (in place) and, once a
// window has passed since suppression began, appends the summary.
func (d *denialLimiter) filter(now time.Time, evs []events.Event) []events.Event {
	if now.Sub(d.window) >= denialWindow || now.Before(d.window) {
		evs = d.flush(now, evs)
	}
	kept := evs[:0]
	for i := range evs {
		if evs[i].Kind == events.Denied && evs[i].Reason != events.ReasonSuppressed && !d.allow(&evs[i]) {
			d.suppressed++
			continue
		}
		kept = append(kept, evs[i])
	}
	return kept
}

// flush starts a new window, appending the summary of the last one's
// suppressed denials.
func (d *denialLimiter) flush(now time.Time, evs []events.Event) []events.Event {
	if d.suppressed > 0 {
		evs = append(evs, events.Event{
			Kind: events.Denied, Reason: events.ReasonSuppressed, Count: d.suppressed, Time: now,
		})
		d.suppressed = 0
	}
	d.window = now
	d.total = 0
	clear(d.perSource)
	return evs
}

func (d *denialLimiter) allow(ev *events.Event) bool {
	if d.total >= DenialsTotal {
		return false
	}
	if d.perSource == nil {
		d.perSource = make(map[string]int)
	}
	src := denialSource(ev)
	n, known := d.perSource[src]
	if n >= DenialsPerSource || !known && len(d.perSource) >= maxDenialSources {
		return false
	}
	d.perSource[src] = n + 1
	d.total++
	return true
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
