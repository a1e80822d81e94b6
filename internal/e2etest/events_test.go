package e2etest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/licensegw/licensegw/gateway/natsd/natstest"
)

func TestSubjectMatches(t *testing.T) {
	tests := []struct {
		filter, subject string
		want            bool
	}{
		{"licensegw.events.>", "licensegw.events.checkout.cad", true},
		{"licensegw.events.>", "licensegw.events", false},
		{"licensegw.events.>", "licensegw.plugin.started", false},
		{"licensegw.>", "licensegw.plugin.started", true},
		{"licensegw.events._journal.seal", "licensegw.events._journal.seal", true},
		{"licensegw.events._journal.seal", "licensegw.events._journal.term", false},
		{"licensegw.*.seal", "licensegw.x.seal", true},
		{"licensegw.*.seal", "licensegw.x.y.seal", false},
		{"licensegw.*", "licensegw", false},
	}
	for _, tt := range tests {
		if got := subjectMatches(tt.filter, tt.subject); got != tt.want {
			t.Errorf("subjectMatches(%q, %q) = %v, want %v", tt.filter, tt.subject, got, tt.want)
		}
	}
}

// TestReadStream reads a stream with direct gets (the journal allows
// them) and one without (message by message), with a filter.
func TestReadStream(t *testing.T) {
	s := natstest.Start(t)
	nc := natstest.Dial(t, s)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, direct := range []bool{true, false} {
		name := fmt.Sprintf("READ_%v", direct)
		if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{name + ".>"}, AllowDirect: direct}); err != nil {
			t.Fatal(err)
		}
		const n = 2500 // more than one batch
		for i := range n {
			subject := name + ".events.checkout"
			if i%3 == 0 {
				subject = name + ".plugins.started"
			}
			body := fmt.Sprintf(`{"id":"e%d","kind":"checkout"}`, i)
			if _, err := js.PublishAsync(subject, []byte(body), jetstream.WithMsgID(fmt.Sprint("m", i))); err != nil {
				t.Fatal(err)
			}
		}
		select {
		case <-js.PublishAsyncComplete():
		case <-ctx.Done():
			t.Fatal("publishing: ", ctx.Err())
		}
		evs, err := readStream(ctx, []source{{url: s.ClientURL(), opts: []nats.Option{natstest.FullAccess()}}}, name, name+".events.>")
		if err != nil {
			t.Fatalf("direct %v: %v", direct, err)
		}
		want := 0
		for i := range n {
			if i%3 == 0 {
				continue
			}
			if want >= len(evs) {
				t.Fatalf("direct %v: %d events, want %d", direct, len(evs), n-(n+2)/3)
			}
			e := evs[want]
			if e.Seq != uint64(i+1) || e.ID != fmt.Sprint("e", i) || e.MsgID != fmt.Sprint("m", i) || e.Raw["kind"] != "checkout" {
				t.Fatalf("direct %v: event %d is %+v, want seq %d", direct, want, e, i+1)
			}
			want++
		}
		if len(evs) != want {
			t.Fatalf("direct %v: %d events, want %d", direct, len(evs), want)
		}
	}
}

// TestReadStreamGivesUp: a server that accepts connections and never
// answers (a stopped process) fails the read when its context ends,
// saying what it tried, instead of hanging.
func TestReadStreamGivesUp(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	_, err = ReadEvents(ctx, "nats://"+ln.Addr().String())
	if err == nil {
		t.Fatal("read from a server that never answers: no error")
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("gave up after %v, its context ended after 3s", took)
	}
	if !strings.Contains(err.Error(), "gave up") || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %q: want it to say it gave up at the deadline", err)
	}
}
