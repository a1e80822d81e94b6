package e2etest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Signal sends sig to the daemon alone (not its plugins): SIGSTOP and
// SIGCONT freeze and thaw it, embedded NATS server included.
func (g *Gateway) Signal(sig syscall.Signal) {
	g.t.Helper()
	g.mu.Lock()
	p := g.proc
	g.mu.Unlock()
	if p == nil {
		g.t.Fatalf("%s: not running", g.opts.Name)
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		g.t.Fatalf("%s: %v: %v", g.opts.Name, sig, err)
	}
}

// Exited waits up to timeout for the daemon to exit by itself and returns
// its exit error (nil for status 0); ok is false if it still runs.
func (g *Gateway) Exited(timeout time.Duration) (err error, ok bool) {
	g.t.Helper()
	g.mu.Lock()
	p := g.proc
	g.mu.Unlock()
	if p == nil {
		return nil, true
	}
	select {
	case <-p.done:
		g.mu.Lock()
		if g.proc == p {
			g.proc = nil
		}
		g.mu.Unlock()
		return p.err, true
	case <-time.After(timeout):
		return nil, false
	}
}

// Name is the gateway's name (its NATS server's too).
func (g *Gateway) Name() string { return g.opts.Name }

// StreamState is where a cluster's journal stream stands: the node whose
// server is its raft leader (-1: none) and whether every replica is
// current.
type StreamState struct {
	Leader  int
	Current bool
	Desc    string // for messages: leader and replicas as the server says
}

// Stream asks a running node (any that answers) how the journal stream's
// replicas stand.
func (c *Cluster) Stream(ctx context.Context) (StreamState, error) {
	var errs []error
	for i, g := range c.Nodes {
		if !g.running() {
			continue
		}
		st, err := c.streamFrom(ctx, g)
		if err == nil {
			return st, nil
		}
		errs = append(errs, fmt.Errorf("node %d: %w", i+1, err))
	}
	return StreamState{Leader: -1}, errors.Join(errs...)
}

func (c *Cluster) streamFrom(ctx context.Context, g *Gateway) (StreamState, error) {
	nc, err := nats.Connect(g.NATSURL(), nats.Name("licensegw e2etest"), nats.Timeout(2*time.Second), nats.NoReconnect(), g.AuditNATS())
	if err != nil {
		return StreamState{}, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return StreamState{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, StreamName)
	if err != nil {
		return StreamState{}, err
	}
	ci := st.CachedInfo().Cluster
	out := StreamState{Leader: -1}
	if ci == nil {
		return out, errors.New("the stream has no cluster information")
	}
	for i, n := range c.Nodes {
		if n.Name() == ci.Leader {
			out.Leader = i
		}
	}
	out.Current = ci.Leader != "" && len(ci.Replicas) == len(c.Nodes)-1
	desc := []string{"leader " + ci.Leader}
	for _, r := range ci.Replicas {
		out.Current = out.Current && r.Current && !r.Offline
		desc = append(desc, fmt.Sprintf("%s current=%v offline=%v lag=%d", r.Name, r.Current, r.Offline, r.Lag))
	}
	out.Desc = strings.Join(desc, ", ")
	return out, nil
}

// WaitStreamCurrent waits until the journal stream has a leader and every
// replica is current (a node restarted has caught up).
func (c *Cluster) WaitStreamCurrent(timeout time.Duration) StreamState {
	c.t.Helper()
	var st StreamState
	Eventually(c.t, timeout, "every replica of the journal stream current", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var err error
		if st, err = c.Stream(ctx); err != nil {
			return err
		}
		if !st.Current {
			return errors.New(st.Desc)
		}
		return nil
	})
	return st
}
