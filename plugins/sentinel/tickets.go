package sentinel

import (
	"context"
	"sync"
	"time"

	"github.com/licensegw/licensegw/sdk"
)

// ticket is a queued checkout as the plugin keeps it between polls.
type ticket struct {
	id       string
	position int
	final    *sdk.TicketUpdate // set once the core has decided
	polled   time.Time         // last poll (or the checkout)
	finished time.Time         // when final was set
}

// tickets holds the queue tickets the plugin's clients poll. The core
// delivers a ticket's progress on Checkout.Updates; a goroutine per ticket
// drains it into the ticket so that a poll is answered at once.
type tickets struct {
	mu       sync.Mutex
	byID     map[string]*ticket
	lifetime time.Duration
	now      func() time.Time
}

func newTickets(lifetime time.Duration, now func() time.Time) *tickets {
	return &tickets{byID: map[string]*ticket{}, lifetime: lifetime, now: now}
}

// add keeps a queued checkout and follows its updates.
func (ts *tickets) add(c *sdk.Checkout) {
	t := &ticket{id: c.Ticket, position: c.Position, polled: ts.now()}
	ts.mu.Lock()
	ts.byID[t.id] = t
	ts.mu.Unlock()
	// The core closes Updates after the final update (or when the session
	// ends), which ends this goroutine.
	go func() {
		for u := range c.Updates {
			ts.mu.Lock()
			if u.Final() {
				if t.final == nil {
					u := u
					t.final, t.finished = &u, ts.now()
				}
			} else if u.Position > 0 {
				t.position = u.Position
			}
			ts.mu.Unlock()
		}
	}()
}

// poll returns a copy of the ticket's state and marks it polled.
func (ts *tickets) poll(id string) (ticket, bool) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	t, ok := ts.byID[id]
	if !ok {
		return ticket{}, false
	}
	t.polled = ts.now()
	return *t, true
}

// cancelled records that the client cancelled a waiting ticket: polls
// answer dequeued, reason cancelled, for the ticket's lifetime, as they
// would a ticket the core ended.
func (ts *tickets) cancelled(id string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if t, ok := ts.byID[id]; ok && t.final == nil {
		t.final = &sdk.TicketUpdate{Ticket: id, Denial: &sdk.Denial{Reason: "cancelled", Message: "cancelled by the client"}}
		t.finished = ts.now()
	}
}

// sweep cancels tickets nobody polled within the lifetime (their client
// went away) and forgets finished tickets older than the lifetime. A grant
// nobody collects is not released here: it has no refreshes, so the core
// reclaims it when its lifetime runs out.
func (ts *tickets) sweep(ctx context.Context, seats sdk.Seats) {
	now := ts.now()
	var abandoned []string
	ts.mu.Lock()
	for id, t := range ts.byID {
		switch {
		case t.final != nil && now.Sub(t.finished) >= ts.lifetime:
			delete(ts.byID, id)
		case t.final == nil && now.Sub(t.polled) >= ts.lifetime:
			delete(ts.byID, id)
			abandoned = append(abandoned, id)
		}
	}
	ts.mu.Unlock()
	for _, id := range abandoned {
		_ = seats.Cancel(ctx, id) // ErrUnknownTicket: it was decided meanwhile
	}
}

// cancelAll cancels every waiting ticket: when the plugin stops, nobody is
// left to answer their polls.
func (ts *tickets) cancelAll(ctx context.Context, seats sdk.Seats) {
	ts.mu.Lock()
	var waiting []string
	for id, t := range ts.byID {
		if t.final == nil {
			waiting = append(waiting, id)
		}
	}
	ts.byID = map[string]*ticket{}
	ts.mu.Unlock()
	for _, id := range waiting {
		_ = seats.Cancel(ctx, id)
	}
}
