package events

import (
	"encoding/json"
	"time"
)

// TimeLayout is how event times are written: RFC 3339 in UTC, always with
// microseconds, so that every time has the same width and sorts as text.
const TimeLayout = "2006-01-02T15:04:05.000000Z07:00"

// MarshalJSON writes the event with its time in UTC and TimeLayout.
func (e Event) MarshalJSON() ([]byte, error) {
	type plain Event // drops the methods, so no recursion
	var idx *uint64
	if e.Term > 0 {
		idx = &e.Idx // idx 0 is written too: the term event's
	}
	return json.Marshal(struct {
		plain
		Time    string  `json:"time"`
		Expires *string `json:"expires,omitempty"`
		Idx     *uint64 `json:"idx,omitempty"`
	}{plain: plain(e), Time: e.Time.UTC().Format(TimeLayout), Expires: formatOptional(e.Expires), Idx: idx})
}

func formatOptional(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := t.UTC().Format(TimeLayout)
	return &s
}
