package e2e

import (
	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/internal/e2etest"
)

// filterEvents keeps the events of one kind and, unless feature is empty,
// one feature.
func filterEvents(evs []e2etest.Event, kind events.Kind, feature string) []e2etest.Event {
	var out []e2etest.Event
	for _, e := range e2etest.Kinds(evs, kind) {
		if feature == "" || e.Feature == feature {
			out = append(out, e)
		}
	}
	return out
}
