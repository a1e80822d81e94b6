package journal

import (
	"context"
	"fmt"
	"sync"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/oklog/ulid/v2"
)

// Commit is the outcome of one Append: done when the stream has
// acknowledged every one of its events.
type Commit struct {
	events []events.Event
	one    [1]events.Event // backs events for single-event appends

	// oneID backs the id of a single-event append's event (idBytes):
	// written once by Append, never again.
	oneID [ulid.EncodedSize]byte

	// remaining is touched only by the publisher goroutine (and by Append
	// before the commit is queued).
	remaining int
	permErr   error  // an event could not be encoded; reported when done
	seq       uint64 // stream sequence of the last event acknowledged

	mu       sync.Mutex
	err      error // guarded by mu: the final outcome, set with finished
	lastErr  error // latest failed attempt, for a Wait that gives up
	finished bool  // guarded by mu: the commit is done; onDone has been (or is being) called
	onDone   Notifier
	more     []Notifier // further callbacks, in the order given (rare: riders)
	// done is made only for a caller that waits on a channel (Wait,
	// Done): the ledger's commits are answered through OnDone, and a
	// channel each would be an allocation per event. Guarded by mu;
	// closed when finished.
	done chan struct{}
}

// Wait returns nil once every event of the Append is acknowledged by the
// stream, the error that made the journal give up on them (ErrClosed), or,
// if ctx ends first, ctx's error joined with the last publish failure. Events
// a Wait gave up on are still published in order unless the journal is
// closed.
func (c *Commit) Wait(ctx context.Context) error {
	if done, err := c.outcome(); done {
		return err
	}
	select {
	case <-c.Done():
		_, err := c.outcome()
		return err
	case <-ctx.Done():
		return c.Unacknowledged(ctx.Err())
	}
}

// outcome says whether the commit is done, and with what error.
func (c *Commit) outcome() (done bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.finished, c.err
}

// Unacknowledged is the error Wait returns when cause (a context's error)
// ends the wait before the commit is done: cause joined with the last
// publish failure. OnDone's callers use it when they stop waiting.
func (c *Commit) Unacknowledged(cause error) error {
	c.mu.Lock()
	last := c.lastErr
	c.mu.Unlock()
	if last != nil {
		return fmt.Errorf("journal: %d events not acknowledged: %w (last attempt: %w)", len(c.events), cause, last)
	}
	return fmt.Errorf("journal: %d events not acknowledged: %w", len(c.events), cause)
}

// Err is the commit's outcome once it is done (what Wait returns then),
// and nil before.
func (c *Commit) Err() error {
	_, err := c.outcome()
	return err
}

// OnDone has f called once the commit is done, instead of a goroutine
// waiting for it: at once, on the caller's goroutine, if it is done
// already; otherwise on the journal's publisher goroutine, which then
// waits for f before it completes the next commit. So f must be quick and
// must not block, Append or Wait. Several callbacks (OnDone's and
// Notify's) run in the order they were given.
func (c *Commit) OnDone(f func()) {
	c.Notify(doneFunc(f)) // a func value is pointer-shaped: no allocation
}

// Notifier is told that a commit is done (Notify).
type Notifier interface {
	CommitDone()
}

// doneFunc is OnDone's callback as a Notifier.
type doneFunc func()

func (f doneFunc) CommitDone() { f() }

// Notify is OnDone for a caller that keeps its state in a struct of its
// own: n.CommitDone is called as OnDone calls f. Passing a pointer costs no
// allocation, where a closure over it (or a method value) costs one.
func (c *Commit) Notify(n Notifier) {
	c.mu.Lock()
	switch {
	case c.finished:
		c.mu.Unlock()
		n.CommitDone()
		return
	case c.onDone == nil:
		c.onDone = n
	default:
		c.more = append(c.more, n)
	}
	c.mu.Unlock()
}

// Finished reports whether the commit is done (acknowledged, or given up
// on), without making the channel Done would.
func (c *Commit) Finished() bool {
	done, _ := c.outcome()
	return done
}

// Seq is the stream sequence of the commit's last event, once Wait returned
// nil (0 before, or for an empty Append).
func (c *Commit) Seq() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.finished {
		return 0
	}
	return c.seq // written by the publisher before it finished the commit
}

// Done is closed when Wait would return without blocking.
func (c *Commit) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		c.done = make(chan struct{})
		if c.finished {
			close(c.done)
		}
	}
	return c.done
}

// Events are the appended events as published: with their ids, schema and
// gateway. The caller must not modify them.
func (c *Commit) Events() []events.Event { return c.events }

// idBytes is the memory the ids of c's events are written to, once, by
// Append (Journal.idInto): ulid.EncodedSize bytes per event, inside the
// commit for a single event and one allocation for several.
func (c *Commit) idBytes() []byte {
	if len(c.events) == 1 {
		return c.oneID[:]
	}
	return make([]byte, len(c.events)*ulid.EncodedSize)
}

func (c *Commit) failedAttempt(err error) {
	c.mu.Lock()
	c.lastErr = err
	c.mu.Unlock()
}

func (c *Commit) finish(err error) {
	c.mu.Lock()
	c.err = err
	c.finished = true
	if c.done != nil {
		close(c.done)
	}
	f, more := c.onDone, c.more
	c.onDone, c.more = nil, nil
	c.mu.Unlock()
	if f != nil {
		f.CommitDone()
	}
	for _, f := range more {
		f.CommitDone()
	}
}
