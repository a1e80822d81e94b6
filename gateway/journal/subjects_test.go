package journal

import (
	"testing"

	"github.com/licensegw/licensegw/gateway/events"
)

// TestSubjectCache: the cached subject of every kind of event is the one
// Event.Subject builds, also when two events differ only in what the
// subject depends on (reason of a denial, vendor, feature).
func TestSubjectCache(t *testing.T) {
	evs := []events.Event{
		{Kind: events.Checkout, Feature: "cad"},
		{Kind: events.Checkout, Vendor: "acme", Feature: "cad"},
		{Kind: events.Checkin, Feature: "cad"},
		{Kind: events.Checkout, Feature: "cad.2 x"},
		{Kind: events.Denied, Feature: "cad", Reason: events.ReasonUnknownFeature},
		{Kind: events.Denied, Feature: "cad", Reason: events.ReasonSuppressed},
		{Kind: events.Denied, Feature: "cad", Reason: "no_seats"},
		{Kind: events.TermKind},
		{Kind: events.SealKind},
	}
	var c subjectCache
	for round := range 2 {
		for _, ev := range evs {
			if got, want := c.get(&ev, "lg"), ev.Subject("lg"); got != want {
				t.Errorf("round %d: subject of %+v = %q, want %q", round, ev, got, want)
			}
		}
	}
	if len(c) != len(evs) {
		t.Errorf("%d subjects cached for %d distinct events", len(c), len(evs))
	}
}
