package vendors

import (
	"regexp"
	"testing"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/internal/e2etest"
)

// notSubject matches the bytes the contract replaces with _ in subject tokens.
var notSubject = regexp.MustCompile(`[^A-Za-z0-9_-]`)

// checkContract checks every event against the contract in docs/events.md: the
// schema, the gateway's name, the subject, the fields each kind carries,
// ids and times in stream order, and no grant above the seats.
func checkContract(t *testing.T, evs []e2etest.Event) {
	t.Helper()
	if len(evs) == 0 {
		t.Error("no events in the stream")
	}
	var prev *e2etest.Event
	for i := range evs {
		e := &evs[i]
		bad := func(format string, args ...any) {
			t.Helper()
			t.Errorf("event %d (%s %s/%s lease %q): "+format, append([]any{e.Seq, e.Kind, e.Feature, e.User, e.Lease}, args...)...)
		}
		if e.Kind == events.TermKind {
			// The journal's own (events v2): opens each writer's history.
			if e.Subject != "licensegw.events._journal.term" || e.Term == 0 || e.Idx != 0 {
				bad("term event %+v on %s", e.Event, e.Subject)
			}
			prev = e
			continue
		}
		if e.Schema != events.Schema || e.Gateway != e2etest.DefaultName || e.ID == "" || !e.Kind.Valid() {
			bad("schema %q, gateway %q, id %q, kind %q", e.Schema, e.Gateway, e.ID, e.Kind)
		}
		want := "licensegw.events." + notSubject.ReplaceAllString(e.Vendor, "_") + "." + notSubject.ReplaceAllString(e.Feature, "_") + "." + string(e.Kind)
		switch {
		case e.Kind == events.Denied && e.Reason == events.ReasonUnknownFeature:
			want = "licensegw.events._._unknown.denied"
		case e.Kind == events.Denied && e.Reason == events.ReasonSuppressed:
			want = "licensegw.events._._suppressed.denied"
		}
		if e.Subject != want {
			bad("subject %q, want %q", e.Subject, want)
		}
		switch e.Kind {
		case events.Checkout, events.Borrowed:
			if e.Lease == "" || e.Count < 1 || e.User == "" || e.Protocol == "" || e.Plugin == "" || e.Client == "" {
				bad("a grant without lease, count, user, protocol, plugin or client_addr: %+v", e.Event)
			}
			if e.InUse > e.Seats {
				bad("%d of %d seats in use", e.InUse, e.Seats)
			}
		case events.Checkin, events.Expired, events.Removed:
			if e.Lease == "" || e.HeldMS == nil || *e.HeldMS < 0 {
				bad("no lease or held_ms: %+v", e.Event)
			}
		case events.Queued, events.Dequeued:
			if e.Ticket == "" {
				bad("no ticket")
			}
		case events.Denied:
			if e.Reason == "" {
				bad("a denial without a reason")
			}
		}
		if prev != nil && (e.ID <= prev.ID || e.Time.Before(prev.Time)) {
			bad("id %s at %s after id %s at %s: not in time order", e.ID, e.Time, prev.ID, prev.Time)
		}
		prev = e
	}
}
