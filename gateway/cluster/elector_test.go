package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/licensegw/licensegw/gateway/cluster"
	"github.com/licensegw/licensegw/gateway/natsd/natstest"
)

// TestElection runs three electors on a 3-node cluster, one per node: one
// leads; when it stops cleanly another leads at once with a higher term;
// when that one's NATS server dies, it stops leading and the third leads.
func TestElection(t *testing.T) {
	srvs := natstest.StartCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	els := make([]*cluster.Elector, 3)
	stops := make([]context.CancelFunc, 3)
	done := make([]chan struct{}, 3)
	for i, s := range srvs {
		nc, err := s.Connect()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		js, _ := jetstream.New(nc)
		els[i] = cluster.NewElector(cluster.ElectorConfig{
			JS: js, Replicas: 3, Self: cluster.Lease{Node: fmt.Sprintf("gw%d", i+1)},
			Log: hclog.New(&hclog.LoggerOptions{Name: fmt.Sprintf("gw%d", i+1), Output: testWriter{t}, Level: hclog.Info}),
		})
		var c context.Context
		c, stops[i] = context.WithCancel(ctx)
		done[i] = make(chan struct{})
		go func() { defer close(done[i]); els[i].Run(c) }()
	}
	t.Cleanup(func() {
		for i := range stops {
			stops[i]()
			<-done[i]
		}
	})

	first := waitLeader(ctx, t, els, -1)
	_, term1 := els[first].Leading()
	if !els[first].Holds() {
		t.Error("the leader does not hold its lease")
	}
	stops[first]()
	<-done[first]
	if els[first].Holds() {
		t.Error("a stopped leader still holds its lease")
	}
	select {
	case <-els[first].Lost():
		t.Errorf("a clean stop reported lost leadership: %v", els[first].Err())
	default:
	}
	t0 := time.Now()
	second := waitLeader(ctx, t, els, first)
	_, term2 := els[second].Leading()
	t.Logf("clean hand-over %d -> %d in %v (terms %d -> %d)", first, second, time.Since(t0), term1, term2)
	if term2 <= term1 {
		t.Errorf("term %d after term %d", term2, term1)
	}

	// The second leader's server dies: it stops leading, the last one leads.
	t0 = time.Now()
	srvs[second].Shutdown()
	select {
	case <-els[second].Lost():
		t.Logf("deposed leader stopped after %v: %v", time.Since(t0), els[second].Err())
		if els[second].Holds() {
			t.Error("a leader that lost its lease still holds it")
		}
	case <-ctx.Done():
		t.Fatal("a leader cut off from NATS kept leading")
	}
	third := waitLeader(ctx, t, els, first, second)
	_, term3 := els[third].Leading()
	t.Logf("fail-over to %d in %v (term %d)", third, time.Since(t0), term3)
	if term3 <= term2 {
		t.Errorf("term %d after term %d", term3, term2)
	}
	if cur := els[third].Current(); cur.Node != fmt.Sprintf("gw%d", third+1) || cur.Term != term3 {
		t.Errorf("Current() = %+v on the leader", cur)
	}
}

// waitLeader waits until one elector not in skip leads, and returns it.
func waitLeader(ctx context.Context, t *testing.T, els []*cluster.Elector, skip ...int) int {
	t.Helper()
	for {
		for i, e := range els {
			if contains(skip, i) {
				continue
			}
			select {
			case <-e.Won():
				return i
			default:
			}
		}
		select {
		case <-ctx.Done():
			t.Fatal("no leader elected")
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func contains(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// TestHoldOff: a node that holds off does not try for the lease while
// another takes it, however long that takes.
func TestHoldOff(t *testing.T) {
	s := natstest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	els := make([]*cluster.Elector, 2)
	for i, hold := range []time.Duration{time.Hour, 0} {
		nc, err := s.Connect()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		js, _ := jetstream.New(nc)
		els[i] = cluster.NewElector(cluster.ElectorConfig{
			JS: js, Self: cluster.Lease{Node: fmt.Sprintf("gw%d", i+1)}, HoldOff: hold,
		})
		c, stop := context.WithCancel(ctx)
		ran := make(chan struct{})
		go func() { defer close(ran); els[i].Run(c) }()
		t.Cleanup(func() { stop(); <-ran })
	}
	if got := waitLeader(ctx, t, els); got != 1 {
		t.Fatalf("elector %d won while holding off", got)
	}
	if els[0].Holds() || !els[1].Holds() {
		t.Errorf("Holds: %v (holding off), %v (the leader)", els[0].Holds(), els[1].Holds())
	}
}

// TestStepDown: the leader steps down; another node leads with a higher
// term at once, the one that stepped down does not stand again, and its
// Lost stays open (a step-down is not a loss).
func TestStepDown(t *testing.T) {
	srvs := natstest.StartCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	els := make([]*cluster.Elector, 3)
	var wg sync.WaitGroup
	rctx, stop := context.WithCancel(ctx)
	t.Cleanup(func() { stop(); wg.Wait() })
	for i, s := range srvs {
		nc, err := s.Connect()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		js, _ := jetstream.New(nc)
		els[i] = cluster.NewElector(cluster.ElectorConfig{
			JS: js, Replicas: 3, Self: cluster.Lease{Node: fmt.Sprintf("gw%d", i+1)},
			Log: hclog.New(&hclog.LoggerOptions{Name: fmt.Sprintf("gw%d", i+1), Output: testWriter{t}, Level: hclog.Info}),
		})
		wg.Go(func() { els[i].Run(rctx) })
	}
	first := waitLeader(ctx, t, els, -1)
	_, term1 := els[first].Leading()
	for i, e := range els {
		if i != first {
			if err := e.StepDown(ctx); !errors.Is(err, cluster.ErrNotLeading) {
				t.Errorf("StepDown on a node not leading = %v, want ErrNotLeading", err)
			}
		}
	}
	t0 := time.Now()
	if err := els[first].StepDown(ctx); err != nil {
		t.Fatal(err)
	}
	released := time.Since(t0)
	second := waitLeader(ctx, t, els, first)
	_, term2 := els[second].Leading()
	t.Logf("step-down %d -> %d: lease released after %v, next leader after %v (terms %d -> %d)",
		first, second, released, time.Since(t0), term1, term2)
	if term2 <= term1 {
		t.Errorf("term %d after term %d", term2, term1)
	}
	select {
	case <-els[first].SteppedDown():
	default:
		t.Error("SteppedDown not closed after StepDown")
	}
	select {
	case <-els[first].Lost():
		t.Errorf("a step-down reported lost leadership: %v", els[first].Err())
	default:
	}
	if leading, _ := els[first].Leading(); leading {
		t.Error("the node that stepped down still leads")
	}
	if err := els[first].StepDown(ctx); !errors.Is(err, cluster.ErrNotLeading) {
		t.Errorf("a second StepDown = %v, want ErrNotLeading", err)
	}
}

// TestRenewalOutlivesADroppedRequest: nats-server does not answer a
// request that reaches a stream while its raft leader changes; the
// request is lost, not late. Here a relay between the elector and the
// server drops renewals at will. One dropped renewal (once, and once its
// answer only, after the server stored it) must not cost the lease: the
// renewal is asked again within the lease's window. A renewal that
// waited on its one request until StopAfter lost it.
func TestRenewalOutlivesADroppedRequest(t *testing.T) {
	s := natstest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	nc, err := s.Connect()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	relay := newDropRelay(t, nc)
	js, err := jetstream.NewWithAPIPrefix(nc, relay.prefix)
	if err != nil {
		t.Fatal(err)
	}
	el := cluster.NewElector(cluster.ElectorConfig{
		JS: js, Self: cluster.Lease{Node: "gw1"},
		Log: hclog.New(&hclog.LoggerOptions{Name: "gw1", Output: testWriter{t}, Level: hclog.Debug}),
	})
	rctx, stop := context.WithCancel(ctx)
	ran := make(chan struct{})
	go func() { defer close(ran); el.Run(rctx) }()
	t.Cleanup(func() { stop(); <-ran })
	select {
	case <-el.Won():
	case <-ctx.Done():
		t.Fatal("the only candidate was not elected")
	}
	for _, mode := range []dropMode{dropRequest, dropAnswer} {
		before := relay.dropped.Load()
		relay.mode.Store(int32(mode))
		deadline := time.Now().Add(10 * time.Second)
		for relay.dropped.Load() == before && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if relay.dropped.Load() == before {
			t.Fatalf("%v: no renewal went through the relay", mode)
		}
		// Past the window the dropped renewal had.
		select {
		case <-el.Lost():
			t.Fatalf("%v: one dropped renewal cost the lease: %v", mode, el.Err())
		case <-time.After(2 * cluster.DefaultStopAfter):
		}
		if !el.Holds() {
			t.Fatalf("%v: the elector no longer holds its lease", mode)
		}
		if _, err := el.Renew(ctx); err != nil {
			t.Fatalf("%v: Renew: %v", mode, err)
		}
	}
}

type dropMode int32

const (
	dropNone    dropMode = iota
	dropRequest          // the next renewal never reaches the server
	dropAnswer           // the next renewal is stored, its answer lost
)

func (m dropMode) String() string {
	return [...]string{"none", "request dropped", "answer dropped"}[m]
}

// dropRelay passes JetStream requests made with its API prefix on to the
// server, and drops the next renewal (a publish to the lease key) as its
// mode says.
type dropRelay struct {
	prefix  string
	mode    atomic.Int32
	dropped atomic.Int32
}

func newDropRelay(t *testing.T, nc *nats.Conn) *dropRelay {
	r := &dropRelay{prefix: "RELAY."}
	sub, err := nc.Subscribe(r.prefix+">", func(m *nats.Msg) {
		subject := strings.TrimPrefix(m.Subject, r.prefix)
		if !strings.HasPrefix(subject, "$KV.") {
			subject = "$JS.API." + subject
		}
		isRenewal := strings.HasPrefix(subject, "$KV.") && m.Header.Get(jetstream.ExpectedLastSubjSeqHeader) != ""
		mode := dropNone
		if isRenewal {
			mode = dropMode(r.mode.Swap(int32(dropNone)))
		}
		out := &nats.Msg{Subject: subject, Reply: m.Reply, Header: m.Header, Data: m.Data}
		switch mode {
		case dropRequest:
			r.dropped.Add(1)
			return
		case dropAnswer:
			out.Reply = nc.NewRespInbox() // nobody listens
			r.dropped.Add(1)
		}
		if err := nc.PublishMsg(out); err != nil {
			t.Errorf("relay: %v", err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	return r
}
