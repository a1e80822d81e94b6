package journal

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/natsd/natstest"
	"github.com/nats-io/nats.go"
)

// TestPublishReply checks that acks.publish's reply subjects reach the
// server intact although their buffer is reused, that the message keeps no
// alias to the buffer, and that building one allocates nothing.
func TestPublishReply(t *testing.T) {
	ns := natstest.Start(t)
	nc := natstest.Connect(t, ns)
	a := &acks{prefix: "_INBOX.test."}
	// Whoever gets the publishes answers them on their reply subjects:
	// the subjects the subscriber below sees are what went on the wire.
	echo, err := nc.Subscribe("allocs.test", func(m *nats.Msg) { _ = nc.Publish(m.Reply, nil) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = echo.Unsubscribe() })
	got := make(chan string, 16)
	sub, err := nc.Subscribe(a.prefix+"*", func(m *nats.Msg) { got <- m.Subject })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}

	b := &burst{base: 1000}
	m := &nats.Msg{Subject: "allocs.test"}
	for i := range 3 {
		if err := a.publish(nc, m, b, i); err != nil {
			t.Fatal(err)
		}
		if m.Reply != "" {
			t.Fatalf("m.Reply = %q after publish: it would alias the reused buffer", m.Reply)
		}
	}
	for i := range 3 {
		want := a.prefix + strconv.Itoa(1000+i)
		select {
		case s := <-got:
			if s != want {
				t.Errorf("answer %d on %q, want %q", i, s, want)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("answer %d never came", i)
		}
	}

	// Counted on the builder alone: the in-process server's own
	// allocations, on its goroutines, would be counted with the publish.
	if n := testing.AllocsPerRun(1000, func() { _ = a.replyTo(b, 7) }); n != 0 {
		t.Errorf("acks.replyTo: %.2f allocations per reply subject, want none", n)
	}
}

func TestParseAck(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		status  string
		wantSeq uint64
		wantErr error
		wantAPI int
	}{
		{"stored", `{"stream":"LICENSEGW_EVENTS","seq":42}`, "", 42, nil, 0},
		{"duplicate", `{"stream":"LICENSEGW_EVENTS","seq":7,"duplicate": true}`, "", 7, nil, 0},
		{"spaced", `{"stream":"S", "seq": 9}`, "", 9, nil, 0},
		{"no responders", ``, "503", 0, ErrNoStream, 0},
		{"empty", ``, "", 0, errBadAck, 0},
		{"wrong last msg id", `{"error":{"code":400,"err_code":10071,"description":"wrong last msg ID: x"},"stream":"S","seq":0}`, "", 0, nil, 10071},
		{"garbage", `nonsense`, "", 0, errBadAck, 0},
		{"no seq", `{"stream":"S"}`, "", 0, errBadAck, 0},
		{"zero seq", `{"stream":"S","seq":0}`, "", 0, errBadAck, 0},
		{"error not JSON", `"error"`, "", 0, errBadAck, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &nats.Msg{Data: []byte(tt.data), Header: nats.Header{}}
			if tt.status != "" {
				m.Header.Set("Status", tt.status)
			}
			got := parseAck(m)
			if got.seq != tt.wantSeq {
				t.Errorf("seq = %d, want %d", got.seq, tt.wantSeq)
			}
			switch {
			case tt.wantAPI != 0:
				if !isWrongLastSeq(got.err) {
					t.Errorf("err = %v, want API error %d", got.err, tt.wantAPI)
				}
			case tt.wantErr != nil:
				if !errors.Is(got.err, tt.wantErr) {
					t.Errorf("err = %v, want %v", got.err, tt.wantErr)
				}
			case got.err != nil:
				t.Errorf("err = %v", got.err)
			}
		})
	}
}

func FuzzParseAck(f *testing.F) {
	f.Add([]byte(`{"stream":"S","seq":42}`))
	f.Add([]byte(`{"error":{"code":503,"err_code":10077,"description":"x"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got := parseAck(&nats.Msg{Data: data, Header: nats.Header{}})
		if (got.err == nil) == (got.seq == 0) {
			t.Fatalf("parseAck(%q) = %+v: want exactly one of a sequence and an error", data, got)
		}
	})
}
