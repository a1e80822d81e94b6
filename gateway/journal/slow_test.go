package journal_test

import (
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/journal"
	"github.com/licensegw/licensegw/gateway/natsd/natstest"
)

// TestSlowAnswersAreWaitedFor: a loaded server answers a burst's publishes
// slowly but steadily. The journal used to give a burst up 2 s after
// sending it, however steadily its answers came, and sent everything in
// flight again; the server, busier still, answered later still: under
// load, TestLargeAppend's 5,000 events were re-sent until its deadline.
// Here the server's answers reach the journal at about 12 KB/s, so one
// burst's answers take longer than the ack timeout to arrive; the journal
// must wait for them and send every event once.
func TestSlowAnswersAreWaitedFor(t *testing.T) {
	s := natstest.Start(t)
	slow := &slowReads{ns: s.NATS()}
	nc, err := s.Connect(nats.InProcessServer(slow))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	logs := &lockedBuffer{}
	j, err := journal.Open(waitCtx(t), journal.Config{Conn: nc, Gateway: "gw1",
		Log: hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Warn})})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = j.Close(waitCtx(t)) })

	in := make([]events.Event, 400) // one burst, about 40 KB of answers
	for i := range in {
		in[i] = ev(i)
	}
	slow.on.Store(true)
	start := time.Now()
	if err := j.Append(in).Wait(waitCtx(t)); err != nil {
		t.Fatalf("append: %v\njournal log:\n%s", err, logs)
	}
	took := time.Since(start)
	slow.on.Store(false)
	// The premise: the answers took longer than the ack timeout (2 s), so
	// a journal that times bursts from their sending gives this one up.
	if took < 2*time.Second {
		t.Fatalf("the answers took %v: too fast to test the ack timeout", took)
	}
	if strings.Contains(logs.String(), "publishing events failed") {
		t.Errorf("the journal gave a burst up while its answers came (took %v):\n%s", took, logs)
	}
	if got := len(stored(t, s)); got != len(in) {
		t.Errorf("stream holds %d events, want %d", got, len(in))
	}
}

// slowReads hands out in-process connections whose reads, while on is
// set, take at most 128 bytes every 10 ms: a server answering slowly.
type slowReads struct {
	ns *server.Server
	on atomic.Bool
}

func (p *slowReads) InProcessConn() (net.Conn, error) {
	c, err := p.ns.InProcessConn()
	if err != nil {
		return nil, err
	}
	return slowConn{Conn: c, on: &p.on}, nil
}

type slowConn struct {
	net.Conn
	on *atomic.Bool
}

func (c slowConn) Read(b []byte) (int, error) {
	if c.on.Load() {
		time.Sleep(10 * time.Millisecond)
		b = b[:min(len(b), 128)]
	}
	return c.Conn.Read(b)
}
