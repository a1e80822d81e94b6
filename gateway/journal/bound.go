package journal

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/licensegw/licensegw/gateway/events"
)

// ErrTooLarge is the cause reported for an event that stays over
// events.MaxBytes even with every name shortened (which the engine's events
// never are).
var ErrTooLarge = errors.New("journal: event too large")

// clipBytes is what each shortened field keeps: with JSON's worst escaping
// (six bytes per byte) the thirteen clippable fields stay well under
// events.MaxBytes.
const clipBytes = 80

// encodeBounded encodes ev, shortening its names first if the payload would
// be over events.MaxBytes. The plugins and the engine validate names long
// before they reach the journal; this is the journal's own defence, so that
// no request can make an event NATS refuses (which would stop every later
// event behind it).
func encodeBounded(ev *events.Event) ([]byte, error) {
	return encodeBoundedTo(make([]byte, 0, 512), ev, nil)
}

// encodeBoundedTo is encodeBounded with encodeEventTo's buf and prev.
func encodeBoundedTo(buf []byte, ev *events.Event, prev []byte) ([]byte, error) {
	data, err := encodeEventTo(buf, ev, prev)
	if err != nil || len(data) <= events.MaxBytes {
		return data, err
	}
	// Who and why first: the pool names and ids matter to replay.
	for _, s := range []*string{&ev.Display, &ev.Project, &ev.Host, &ev.User, &ev.Client, &ev.Reason, &ev.Request, &ev.By, &ev.Protocol, &ev.Plugin} {
		*s = clip(*s)
	}
	ev.Truncated = true
	if data, err = encodeEventTo(data, ev, prev); err != nil || len(data) <= events.MaxBytes {
		return data, err
	}
	for _, s := range []*string{&ev.Vendor, &ev.Feature, &ev.Version} {
		*s = clip(*s)
	}
	if data, err = encodeEventTo(data, ev, prev); err != nil || len(data) <= events.MaxBytes {
		return data, err
	}
	return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(data), events.MaxBytes)
}

// clip shortens s to at most clipBytes bytes, on a rune boundary.
func clip(s string) string {
	if len(s) <= clipBytes {
		return s
	}
	n := clipBytes
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
