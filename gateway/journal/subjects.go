package journal

import "github.com/licensegw/licensegw/gateway/events"

// maxSubjects bounds a subjectCache; a full cache starts over.
const maxSubjects = 4096

// subjectKey is what an event's subject depends on.
type subjectKey struct {
	kind, reason, vendor, feature string
}

// subjectCache keeps the subjects of the events the publisher encodes:
// building one (a token per name) costs several allocations, and a
// gateway's events use few subjects, one per feature and kind.
type subjectCache map[subjectKey]string

// get returns ev.Subject(prefix). The journal's prefix never changes.
func (c *subjectCache) get(ev *events.Event, prefix string) string {
	k := subjectKey{kind: string(ev.Kind), vendor: ev.Vendor, feature: ev.Feature}
	if ev.Kind == events.Denied {
		k.reason = string(ev.Reason)
	}
	if s, ok := (*c)[k]; ok {
		return s
	}
	if *c == nil || len(*c) >= maxSubjects {
		*c = make(subjectCache, 16)
	}
	s := ev.Subject(prefix)
	(*c)[k] = s
	return s
}
