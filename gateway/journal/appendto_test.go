package journal_test

import (
	"testing"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/journal"
	"github.com/licensegw/licensegw/gateway/natsd/natstest"
	"github.com/nats-io/nats.go/jetstream"
)

// TestAppendTo: events appended into the caller's commits are stored in
// order under the ids the commits hold, and a commit cannot be appended
// into twice.
func TestAppendTo(t *testing.T) {
	s := natstest.Start(t)
	j := open(t, s)
	ctx := waitCtx(t)

	one, two := new(journal.Commit), new(journal.Commit)
	j.AppendTo(one, []events.Event{ev(1)})
	j.AppendTo(two, []events.Event{ev(2), ev(3)})
	for _, c := range []*journal.Commit{one, two} {
		if err := c.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	want := append(one.Events(), two.Events()...)
	msgs := stored(t, s)
	if len(msgs) != len(want) {
		t.Fatalf("stream holds %d messages, want %d", len(msgs), len(want))
	}
	for i, m := range msgs {
		if id := m.Header.Get(jetstream.MsgIDHeader); id != want[i].ID || id == "" {
			t.Errorf("msg %d Nats-Msg-Id %q, want %q", i, id, want[i].ID)
		}
	}

	defer func() {
		if recover() == nil {
			t.Error("AppendTo into a used commit did not panic")
		}
	}()
	j.AppendTo(one, []events.Event{ev(4)})
}
