package seats

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
)

func queueConfig() Config {
	return Config{Features: []Feature{{
		Name: "cad", Seats: 2, Queue: true, MaxQueue: 3, MaxWait: 10 * time.Minute,
		Reserve: []Reservation{{Seats: 1, Who: Subject{Kind: User, Name: "vip"}}},
	}}}
}

func waitReq(user string, count int, wait time.Duration) CheckoutRequest {
	return CheckoutRequest{Feature: "cad", Count: count, Client: who(user, "h"), Wait: wait}
}

func TestQueueFIFO(t *testing.T) {
	e := newEngine(t, queueConfig())
	held := mustGrant(t, e, t0, waitReq("a", 1, 0)) // the unreserved seat
	var tickets []string
	for i, u := range []string{"b", "c", "d"} {
		res, evs := e.Checkout(t0, waitReq(u, 1, time.Hour), nil)
		if res.Outcome != Queued || res.Position != i+1 || res.Ticket == "" {
			t.Fatalf("%s: %+v, want queued at %d", u, res, i+1)
		}
		ev := evs[0]
		if ev.Kind != events.Queued || ev.Ticket != res.Ticket || ev.Queued != i+1 || ev.Expires == nil || !ev.Expires.Equal(at(10*time.Minute)) {
			t.Errorf("queued event %+v (deadline capped by MaxWait)", ev)
		}
		tickets = append(tickets, res.Ticket)
	}
	if res, evs := e.Checkout(t0, waitReq("e", 1, time.Hour), nil); res.Reason != QueueFull || evs[0].Kind != events.Denied {
		t.Fatalf("fourth waiter: %+v, want queue-full", res)
	}
	if res, _ := e.Checkout(t0, waitReq("e", 1, 0), nil); res.Reason != NoSeats {
		t.Fatalf("non-waiting request with a queue: %+v, want no-seats", res)
	}
	// vip's own reservation serves it ahead of the queue.
	mustGrant(t, e, t0, waitReq("vip", 1, 0))

	if ti, ok := e.TicketInfo(tickets[1]); !ok || ti.Position != 2 || ti.Client.User != "c" {
		t.Errorf("TicketInfo = %+v, %v", ti, ok)
	}
	evs, err := e.Cancel(at(time.Second), tickets[1], "", nil)
	if err != nil || len(evs) != 1 || evs[0].Kind != events.Dequeued || evs[0].Reason != string(Cancelled) || evs[0].Queued != 2 {
		t.Fatalf("cancel: %v %+v", err, evs)
	}
	if _, err := e.Cancel(at(time.Second), tickets[1], "", nil); !errors.Is(err, ErrUnknownTicket) {
		t.Fatalf("second cancel: %v, want ErrUnknownTicket", err)
	}
	evs, err = e.Checkin(at(2*time.Second), held.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := kinds(evs); !slices.Equal(got, []events.Kind{events.Checkin, events.Checkout}) {
		t.Fatalf("checkin events %v", got)
	}
	if g := evs[1]; g.Ticket != tickets[0] || g.User != "b" || g.InUse != 2 || g.Queued != 1 {
		t.Errorf("grant from queue %+v", g)
	}
	if ti, ok := e.TicketInfo(tickets[2]); !ok || ti.Position != 1 {
		t.Errorf("d now at %d, want head", ti.Position)
	}
	// The ticket of the granted lease is gone; the lease records it.
	if _, ok := e.TicketInfo(tickets[0]); ok {
		t.Error("granted ticket still waiting")
	}
}

func TestQueueHeadBlocks(t *testing.T) {
	e := newEngine(t, Config{Features: []Feature{{Name: "cad", Seats: 3, Queue: true}}})
	a := mustGrant(t, e, t0, waitReq("a", 2, 0))
	b := mustGrant(t, e, t0, waitReq("b", 1, 0))
	big, _ := e.Checkout(t0, waitReq("big", 3, time.Hour), nil)
	small, _ := e.Checkout(t0, waitReq("small", 1, time.Hour), nil)
	if big.Outcome != Queued || small.Outcome != Queued {
		t.Fatalf("big %v, small %v: the small one must queue behind the big one", big.Outcome, small.Outcome)
	}
	evs, _ := e.Checkin(t0, b.ID, nil)
	if len(evs) != 1 {
		t.Fatalf("one free seat granted past the head: %+v", evs)
	}
	evs, _ = e.Checkin(t0, a.ID, nil)
	if got := kinds(evs); !slices.Equal(got, []events.Kind{events.Checkin, events.Checkout}) || evs[1].Ticket != big.Ticket {
		t.Fatalf("events %+v", evs)
	}
	// Cancelling nothing else: small still waits (no seat left).
	if _, ok := e.TicketInfo(small.Ticket); !ok {
		t.Fatal("small gone")
	}
}

func TestQueueTimeoutAndCancelGrants(t *testing.T) {
	e := newEngine(t, Config{Features: []Feature{{Name: "cad", Seats: 2, Queue: true}}})
	mustGrant(t, e, t0, waitReq("a", 1, 0))
	mustGrant(t, e, t0, waitReq("b", 1, 0))
	t1, _ := e.Checkout(t0, waitReq("c", 2, 30*time.Second), nil)
	t2, _ := e.Checkout(t0, waitReq("d", 1, time.Hour), nil)
	if got := e.NextDeadline(); !got.Equal(at(30 * time.Second)) {
		t.Fatalf("NextDeadline %s, want the first ticket's deadline", got)
	}
	if evs := e.Tick(at(29*time.Second), nil); len(evs) != 0 {
		t.Fatalf("early tick: %+v", evs)
	}
	evs := e.Tick(at(30*time.Second), nil)
	if len(evs) != 1 || evs[0].Kind != events.Dequeued || evs[0].Reason != string(Timeout) || evs[0].Ticket != t1.Ticket {
		t.Fatalf("timeout events %+v", evs)
	}
	if ti, _ := e.TicketInfo(t2.Ticket); ti.Position != 1 {
		t.Fatalf("d at %d", ti.Position)
	}
	// d waits behind nobody but no seat is free; a checkin serves it.
	evs, _ = e.Checkin(at(31*time.Second), "L2", nil)
	if len(evs) != 2 || evs[1].Ticket != t2.Ticket {
		t.Fatalf("events %+v", evs)
	}
	// Cancel of a blocking head lets the next one through.
	e2 := newEngine(t, Config{Features: []Feature{{Name: "cad", Seats: 2, Queue: true}}})
	mustGrant(t, e2, t0, waitReq("a", 1, 0))
	big, _ := e2.Checkout(t0, waitReq("big", 2, time.Hour), nil)
	small, _ := e2.Checkout(t0, waitReq("small", 1, time.Hour), nil)
	evs, _ = e2.Cancel(t0, big.Ticket, Disconnected, nil)
	if len(evs) != 2 || evs[0].Reason != string(Disconnected) || evs[1].Kind != events.Checkout || evs[1].Ticket != small.Ticket {
		t.Fatalf("cancel events %+v", evs)
	}
}

func TestQueueNotOffered(t *testing.T) {
	cfg := Config{Features: []Feature{{Name: "noq", Seats: 1}, {Name: "cad", Seats: 1, Queue: true, Borrow: true}}}
	e := newEngine(t, cfg)
	mustGrant(t, e, t0, req("noq", alice()))
	mustGrant(t, e, t0, req("cad", alice()))
	for _, r := range []CheckoutRequest{
		{Feature: "noq", Client: alice(), Wait: time.Minute},                    // the feature does not queue
		{Feature: "cad", Client: alice()},                                       // no wait
		{Feature: "cad", Client: alice(), Wait: time.Minute, Borrow: time.Hour}, // borrows do not queue
	} {
		if res, _ := e.Checkout(t0, r, nil); res.Outcome != Denied || res.Reason != NoSeats {
			t.Errorf("%+v: %+v, want no-seats", r, res)
		}
	}
}
