package ledger

import (
	"fmt"
	"testing"

	"github.com/licensegw/licensegw/gateway/seats"
	"github.com/licensegw/licensegw/sdk"
)

// TestWaiterToSDK: a waiter switched to the SDK's form keeps what it had
// delivered in the ledger's form, in order, and goes on in the SDK's form;
// a final update closes the channel and nothing follows it.
func TestWaiterToSDK(t *testing.T) {
	p := &pluginSeats{l: &Ledger{}, plugin: "clm", protocol: "concurrent-lm"}
	lease := &seats.Lease{ID: "L1", Count: 1}
	for _, tc := range []struct {
		name          string
		before, after []Update // delivered before and after toSDK
		want          string
	}{
		{name: "switched first",
			after: []Update{{Ticket: "T", Position: 2}, {Ticket: "T", Position: 1}, {Ticket: "T", Lease: lease}},
			want:  "[T:2 T:1 T:granted L1] closed"},
		{name: "switched midway",
			before: []Update{{Ticket: "T", Position: 2}},
			after:  []Update{{Ticket: "T", Position: 1}, {Ticket: "T", Reason: seats.Cancelled}},
			want:   "[T:2 T:1 T:cancelled] closed"},
		{name: "switched after the end",
			before: []Update{{Ticket: "T", Position: 2}, {Ticket: "T", Lease: lease}},
			after:  []Update{{Ticket: "T", Position: 1}, {Ticket: "T", Reason: seats.Cancelled}},
			want:   "[T:2 T:granted L1] closed"},
		{name: "stale position dropped",
			before: []Update{{Ticket: "T", Position: 2}},
			after:  []Update{{Ticket: "T", Position: 2}, {Ticket: "T", Position: 3}, {Ticket: "T", Lease: lease}},
			want:   "[T:2 T:granted L1] closed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWaiter(3)
			deliverAll := func(us []Update) {
				for _, u := range us {
					w.deliver(u, u.Lease != nil || u.Reason != "")
				}
			}
			deliverAll(tc.before)
			ch := w.toSDK(p)
			deliverAll(tc.after)
			var got []string
			state := "open"
		read:
			for {
				select {
				case u, ok := <-ch:
					if !ok {
						state = "closed"
						break read
					}
					got = append(got, show(u))
				default:
					break read
				}
			}
			if s := fmt.Sprint(got) + " " + state; s != tc.want {
				t.Fatalf("got %s, want %s", s, tc.want)
			}
		})
	}
}

func show(u sdk.TicketUpdate) string {
	switch {
	case u.Grant != nil:
		return u.Ticket + ":granted " + u.Grant.Lease
	case u.Denial != nil:
		return u.Ticket + ":" + u.Denial.Reason
	}
	return fmt.Sprintf("%s:%d", u.Ticket, u.Position)
}
