package audit_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/licensegw/licensegw/examples/audit-consumer/audit"
	"github.com/licensegw/licensegw/gateway/journal"
	"github.com/licensegw/licensegw/gateway/natsd/natstest"
)

// TestStopsAtABrokenChain: the events' stream is rewritten with one event
// changed (what a compromised broker can do). The consumer finds out at the
// next event, which does not name the changed one's hash: it stops there,
// with an error naming the changed event's sequence (the file's last line)
// and nothing after it written.
func TestStopsAtABrokenChain(t *testing.T) {
	s := natstest.Start(t)
	p := newPublisher(t, s)
	p.publish(20) // sequence 1 is the term event, 2-21 the events

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	nc, err := s.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	st, err := js.Stream(ctx, audit.DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	type msg struct {
		subject string
		data    []byte
	}
	var msgs []msg
	for seq := uint64(1); seq <= 21; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		data := m.Data
		if seq == 10 {
			var f map[string]any
			_ = json.Unmarshal(data, &f)
			f["lease"] = "stolen"
			data, _ = json.Marshal(f)
		}
		msgs = append(msgs, msg{m.Subject, data})
	}
	cfg := st.CachedInfo().Config
	if err := js.DeleteStream(ctx, cfg.Name); err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if _, err := js.Publish(ctx, m.subject, m.data); err != nil {
			t.Fatal(err)
		}
	}

	out := filepath.Join(t.TempDir(), "audit.jsonl")
	err = audit.Run(ctx, audit.Config{URL: s.ClientURL(), Creds: natstest.ReadOnlyCreds(t), Out: out, Batch: 4, MaxWait: 100 * time.Millisecond})
	if !errors.Is(err, journal.ErrBroken) || !strings.Contains(err.Error(), "at stream sequence 10") {
		t.Fatalf("Run = %v, want the chain broken at sequence 10", err)
	}
	if got := fileIDs(t, out); len(got) != 9 || got[7] != p.ids[7] {
		t.Fatalf("file holds %d events, want the 8 before the changed one and it", len(got))
	}
}
