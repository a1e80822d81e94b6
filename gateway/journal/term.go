package journal

import (
	"context"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
)

// queueTermLocked queues this writer's term event, which opens its
// history, fenced on the stream's last sequence when the journal was
// opened; first is the time of the first event it opens (zero: none).
// j.mu is held.
func (j *Journal) queueTermLocked(now, first time.Time) *Commit {
	j.termQueued = true
	tc := &Commit{done: make(chan struct{}), remaining: 1}
	tc.events = tc.one[:]
	at := now
	if !first.IsZero() && first.Before(at) {
		at = first // not after the events it opens
	}
	tc.events[0] = events.Event{Kind: events.TermKind, Schema: events.Schema, Gateway: j.cfg.Gateway, Time: at}
	tc.events[0].ID = j.newID(now)
	j.queue = append(j.queue, pending{commit: tc})
	return tc
}

// Begin opens this writer's term now instead of at its first Append: it
// appends the term event, fenced on the stream's last sequence when the
// journal was opened, and waits until it is stored. A cluster's new
// leader calls it as soon as it is elected: from then on the previous
// leader's appends are refused (it may have been frozen, or cut off, and
// not know yet that its lease is gone), even before the new leader has
// anything to journal. It fails with ErrDeposed if another writer appended
// since Open. Once the term is open it only waits for what was appended.
func (j *Journal) Begin(ctx context.Context) error {
	now := time.Now()
	j.mu.Lock()
	if j.closing {
		j.mu.Unlock()
		return ErrClosed
	}
	if d := j.deposed.Load(); d != nil {
		j.mu.Unlock()
		return *d
	}
	if j.termQueued {
		j.mu.Unlock()
		_, err := j.Sync(ctx)
		return err
	}
	tc := j.queueTermLocked(now, time.Time{})
	j.mu.Unlock()
	j.poke()
	return tc.Wait(ctx)
}
