package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/licensegw/licensegw/gateway/admin"
	"github.com/licensegw/licensegw/gateway/cluster"
	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/natsd"
)

// ErrSteppedDown is the Err of a node that handed its cluster leadership
// over on request (`licensegw leader step-down`): `licensegw serve` then
// starts it again, as a node that stands by like the others.
var ErrSteppedDown = errors.New("stepped down from the cluster leadership")

const (
	// placementEvery is how often the leader checks that the raft
	// leaders of the streams it depends on sit on other servers.
	placementEvery = 30 * time.Second
	// moveWait bounds how long the placement loop waits for stream
	// leaders to move off this node's server.
	moveWait = 3 * time.Second
	// handOverMoveWait bounds the same wait in a hand-over, which then
	// releases the lease anyway: a move takes 5-200 ms, and one not seen
	// in time costs the next leader at most a stream election.
	handOverMoveWait = time.Second
	// finalSnapshotWait bounds the final snapshot of a hand-over (the
	// ledger's Close): it normally takes milliseconds, but waits for the
	// snapshot store's stream when that is electing a raft leader (5 s
	// seen). Without it the next leader replays more of the stream from
	// an older snapshot, which costs far less.
	finalSnapshotWait = time.Second
	// nextLeaderWait bounds how long a hand-over waits to see the next
	// leader, for its report (the hand-over itself ends when the lease
	// is released).
	nextLeaderWait = 3 * time.Second
	// successorWait bounds how long a hand-over waits, still serving,
	// for another node to stand by (its election running: it takes the
	// lease within its next try once this one is released). A node just
	// (re)started opens the lease bucket after the NATS cluster has
	// caught it up, which can take seconds; a lease released before then
	// is taken by nobody (but this node, after its hold-off).
	successorWait = 5 * time.Second
	// leavingWrite bounds writing "leaving" into this node's presence
	// before a stop's hand-over.
	leavingWrite = 500 * time.Millisecond
)

var _ admin.StepDowner = (*Node)(nil)

// handOverStop is the hand-over reason of a node that stops (Shutdown).
const handOverStop = "shutdown"

// StepDown hands this node's cluster leadership over to another node (see
// handOver) and ends the node with ErrSteppedDown. It refuses, changing
// nothing, when this node does not lead or when no other node's NATS
// server is current (nobody could take over).
func (n *Node) StepDown(ctx context.Context) (admin.StepDownResult, error) {
	if n.lead == nil {
		return admin.StepDownResult{}, fmt.Errorf("%w: this gateway is not in a cluster", admin.ErrNotLeader)
	}
	if leading, _ := n.lead.el.Leading(); !leading {
		cur := n.lead.el.Current()
		if cur.Node == "" {
			return admin.StepDownResult{}, fmt.Errorf("%w: no node leads now", admin.ErrNotLeader)
		}
		return admin.StepDownResult{}, fmt.Errorf("%w: %s leads (term %d)", admin.ErrNotLeader, cur.Node, cur.Term)
	}
	if n.ns != nil {
		if quorum, nodes := nodeHealth(n.ns); !quorum || !anyOtherOK(nodes, n.cfg.Gateway.Name) {
			return admin.StepDownResult{}, fmt.Errorf("%w: no other node's NATS server is current (see `licensegw status`)", admin.ErrNoSuccessor)
		}
	}
	waited := time.Now()
	if !n.waitSuccessor(ctx) {
		return admin.StepDownResult{}, fmt.Errorf("%w: no other node stands by to take the lease over within %v (each is starting or leaving; see the ROLE of each node in `licensegw status -json`); try again", admin.ErrNoSuccessor, successorWait)
	}
	n.log.Info("stepping down from the cluster leadership", "actor", events.Actor(ctx),
		"waited_for_a_standby", time.Since(waited).Round(time.Millisecond))
	res, err := n.handOver(ctx, "step-down", events.Actor(ctx))
	// Whatever happened, this node decides nothing more: its ledger is
	// closed. It starts again as a follower.
	n.fail(ErrSteppedDown)
	return res, err
}

// waitSuccessor waits, up to successorWait, until another node stands by
// to take the lease over (successorReady); it reports whether one does.
func (n *Node) waitSuccessor(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, successorWait)
	defer cancel()
	for !n.successorReady() {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(50 * time.Millisecond):
		}
	}
	return true
}

// successorReady reports whether another node could take the lease over
// at once: its NATS server is not offline (when this node has one to ask) and
// its presence says it stands by, or says nothing of its role (an older
// version; nor when the presence bucket is not readable: that alone is no
// reason to keep the leadership).
func (n *Node) successorReady() bool {
	if n.member == nil {
		return true
	}
	seen := n.member.presence.seen()
	if len(seen) == 0 {
		return true
	}
	ok := func(string) bool { return true }
	if n.ns != nil {
		_, nodes := nodeHealth(n.ns)
		ok = func(name string) bool {
			// Lagging is no bar: its elector's Create goes to the lease
			// stream's leader, wherever that is.
			return slices.ContainsFunc(nodes, func(nd admin.ClusterNode) bool { return nd.Name == name && nd.State != "offline" })
		}
	}
	for name, p := range seen {
		if name != n.cfg.Gateway.Name && (p.Role == roleStandby || p.Role == "") && ok(name) {
			return true
		}
	}
	return false
}

func anyOtherOK(nodes []admin.ClusterNode, self string) bool {
	for _, nd := range nodes {
		if nd.Name != self && nd.State == "ok" {
			return true
		}
	}
	return false
}

// handOver ends this node's leadership cleanly, for a step-down or a stop,
// in the order that keeps the pause short and loses nothing:
//
//  1. the ledger closes: requests from now on are answered "unavailable,
//     retry" (clients retry on another node), and its final snapshot
//     includes every acknowledged event;
//  2. the journal publishes what is queued and seals the chain;
//  3. the raft leaders of the journal stream, the lease bucket and the
//     snapshot store leave this node's NATS server if they sit there, so
//     that the next leader's first writes (and this host's shutdown) wait
//     for no stream election;
//  4. the lease is released: another node wins it within its next try
//     (100 ms), replays from the snapshot and serves.
//
// It runs once; later calls return the first one's result. It does
// nothing for a node that does not lead.
func (n *Node) handOver(ctx context.Context, reason, actor string) (admin.StepDownResult, error) {
	l := n.lead
	if l == nil {
		return admin.StepDownResult{}, nil
	}
	l.handOnce.Do(func() {
		if leading, _ := l.el.Leading(); !leading {
			l.handErr = admin.ErrNotLeader
			return
		}
		l.handing.Store(true)
		l.handRes, l.handErr = n.doHandOver(ctx, reason, actor)
	})
	return l.handRes, l.handErr
}

func (n *Node) doHandOver(ctx context.Context, reason, actor string) (admin.StepDownResult, error) {
	l := n.lead
	began := time.Now()
	phases := newPhases()
	if reason == handOverStop {
		// A stop: still serving, wait (briefly) for a node to stand by,
		// so that the lease is not released to nobody (a rolling
		// restart's previous node may still be starting), and say that
		// this node leaves, so that no one picks it as a successor.
		if !n.waitSuccessor(ctx) {
			n.log.Warn("no other node stands by to take the leadership over; handing over all the same", "waited", successorWait)
		}
		l.leaving.Store(true)
		if n.member != nil {
			wctx, cancel := context.WithTimeout(ctx, leavingWrite)
			if err := n.writePresence(wctx, n.member.presence); err != nil {
				n.log.Debug("presence not marked leaving", "error", err)
			}
			cancel()
		}
		phases.mark("successor_ready")
	}
	l.stopPlacement()
	n.stopEngine() // followers' calls wait for the next leader
	_, term := l.el.Leading()
	res := admin.StepDownResult{Node: n.cfg.Gateway.Name, Term: term}
	var errs []error
	if n.ledger != nil {
		sctx, cancel := context.WithTimeout(ctx, finalSnapshotWait)
		if err := n.ledger.Close(sctx); err != nil {
			n.log.Warn("final snapshot not stored; the next leader replays the stream from an older one", "error", err)
		}
		cancel()
	}
	phases.mark("ledger_closed")
	if n.journal != nil {
		jctx, cancel := context.WithTimeout(ctx, journalDrain)
		if err := n.journal.Close(jctx); err != nil {
			errs = append(errs, err)
		}
		cancel()
	}
	phases.mark("journal_closed")
	mctx, cancel := context.WithTimeout(ctx, handOverMoveWait)
	moves, err := n.moveRaftLeaders(mctx)
	cancel()
	phases.mark("raft_leaders_moved")
	if err != nil {
		// The hand-over goes on: the next leader then waits for the
		// stream's election (seconds), but nothing is lost.
		n.log.Warn("stream leadership not moved off this node before handing over", "error", err)
	}
	for _, m := range moves {
		res.Moved = append(res.Moved, admin.StreamMove{Stream: m.Stream, From: m.From, To: m.To, TookMS: m.Took.Milliseconds()})
	}
	switch err := l.el.StepDown(ctx); {
	case errors.Is(err, cluster.ErrNotLeading):
		// Lost meanwhile (watchLeadership says so): nothing to release.
		n.log.Warn("the leader lease was lost before it could be released")
	case err != nil:
		// The lease then expires after its TTL (2 s).
		errs = append(errs, err)
	}
	released := time.Now()
	res.ReleasedMS = released.Sub(began).Milliseconds()
	phases.mark("lease_released")
	n.log.Info("hand-over phases", phases.fields()...)

	wctx, cancel := context.WithTimeout(ctx, nextLeaderWait)
	next, err := n.waitNextLeader(wctx)
	cancel()
	if err == nil {
		res.Next, res.NextTerm = next.Node, next.Term
		res.ElectedMS = time.Since(began).Milliseconds()
	}
	info := map[string]any{"node": res.Node, "term": res.Term, "reason": reason, "released_ms": res.ReleasedMS}
	if actor != "" {
		info["actor"] = actor
	}
	if res.Next != "" {
		info["next"], info["next_term"] = res.Next, res.NextTerm
	}
	n.lifecycle(ctx, clusterSubject(n.cfg.NATS.Prefix, events.ClusterLeaderSteppedDown), info)
	n.log.Info("handed the cluster leadership over", "reason", reason, "term", res.Term,
		"released_after", time.Duration(res.ReleasedMS)*time.Millisecond, "next", res.Next, "next_term", res.NextTerm,
		"elected_after", time.Duration(res.ElectedMS)*time.Millisecond, "streams_moved", len(res.Moved))
	return res, errors.Join(errs...)
}

// WithHoldOff makes a clustered node wait d before its first try for the
// leader lease, while it serves as a follower: `licensegw serve` starts a
// node that lost the leadership again with HoldOff.
func WithHoldOff(d time.Duration) Option {
	return func(o *options) { o.holdOff = d }
}

// WithNATS makes Start use ns, an embedded NATS server started elsewhere
// (tests; WithKept carries one over a restart in place), instead of
// starting one. The configuration's nats block is then not read again.
func WithNATS(ns *natsd.Server) Option {
	return func(o *options) { o.nats = ns }
}

// DetachNATS hands this node's embedded NATS server (nil when there is
// none) over to the caller: Shutdown leaves it running. Detach hands the
// plugins over too.
func (n *Node) DetachNATS() *natsd.Server {
	if n.lead == nil || n.ns == nil {
		return nil
	}
	n.lead.keepNATS.Store(true)
	return n.ns
}

func (n *Node) natsDetached() bool { return n.lead != nil && n.lead.keepNATS.Load() }

// handedOver reports whether this node has handed its leadership over
// (or began to): it decides nothing more.
func (n *Node) handedOver() bool {
	return n.lead != nil && n.lead.handing.Load()
}

// waitNextLeader waits until another node holds the lease.
func (n *Node) waitNextLeader(ctx context.Context) (cluster.Lease, error) {
	for {
		cur, err := n.lead.el.Lookup(ctx)
		if err == nil && cur.Node != "" && cur.Node != n.cfg.Gateway.Name {
			return cur, nil
		}
		select {
		case <-ctx.Done():
			return cluster.Lease{}, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// placedStreams are the streams whose raft leader should not sit on the
// gateway leader's NATS server: the journal, the lease bucket, the
// snapshot store and the lifecycle stream.
func (n *Node) placedStreams() []string {
	return []string{
		n.cfg.NATS.Stream, events.LifecycleStream(n.cfg.NATS.Stream),
		cluster.LeaseStream(cluster.DefaultBucket), snapshotStream,
	}
}

// metaStream names the JetStream meta group in the moves moveRaftLeaders
// reports.
const metaStream = "(JetStream meta group)"

// moveRaftLeaders moves the raft leaders of placedStreams, and of the
// JetStream meta group (with the embedded server: a new leader's replay
// creates a consumer, which waits for a meta leader), off this node's NATS
// server, concurrently.
func (n *Node) moveRaftLeaders(ctx context.Context) ([]cluster.Move, error) {
	l := n.lead
	var meta *cluster.Move
	var metaErr error
	var wg sync.WaitGroup
	if n.ns != nil {
		wg.Go(func() {
			began := time.Now()
			moved, err := n.ns.MoveMetaLeader(ctx, "")
			switch {
			case err != nil:
				metaErr = fmt.Errorf("%s: %w", metaStream, err)
			case moved:
				meta = &cluster.Move{Stream: metaStream, From: n.cfg.Gateway.Name, To: n.ns.MetaLeader(), Took: time.Since(began)}
			}
		})
	}
	// The lease bucket's leader moves right after a renewal, so that
	// its election cannot cost this node the lease (cluster.MoveLease).
	self, lease := l.nc.ConnectedServerName(), cluster.LeaseStream(cluster.DefaultBucket)
	var leaseMove *cluster.Move
	var leaseErr error
	avoid := n.leavingNodes()
	wg.Go(func() { leaseMove, leaseErr = l.el.MoveLease(ctx, self, avoid) })
	others := slices.DeleteFunc(n.placedStreams(), func(s string) bool { return s == lease })
	moves, err := cluster.MoveAwayAvoiding(ctx, l.nc, l.js, self, avoid, others...)
	wg.Wait()
	if leaseMove != nil {
		moves = append(moves, *leaseMove)
	}
	if meta != nil {
		moves = append(moves, *meta)
	}
	return moves, errors.Join(err, leaseErr, metaErr)
}

// leavingNodes are the nodes whose presence says they are handing over to
// stop: no stream leader is moved onto their servers.
func (n *Node) leavingNodes() []string {
	if n.member == nil {
		return nil
	}
	var out []string
	for name, p := range n.member.presence.seen() {
		if p.Role == roleLeaving {
			out = append(out, name)
		}
	}
	return out
}

// keepPlacement runs while this node leads: at once and then every
// placementEvery it moves the raft leaders of placedStreams off this
// node's server, so that losing this host costs one election (the
// lease's), not two (the lease's and a stream's, 4-9 s in nats-server).
func (n *Node) keepPlacement(ctx context.Context) {
	tick := time.NewTicker(placementEvery)
	defer tick.Stop()
	for {
		mctx, cancel := context.WithTimeout(ctx, 2*moveWait)
		moves, err := n.moveRaftLeaders(mctx)
		cancel()
		for _, m := range moves {
			n.log.Info("stream leadership moved off the gateway leader's NATS server", "stream", m.Stream, "to", m.To, "took", m.Took.Round(time.Millisecond))
			if m.Stream == n.cfg.NATS.Stream && n.journal != nil {
				// An event published during the change may have
				// been dropped: send it again now, not after the
				// journal's ack timeout (a hand-over's first
				// grants waited 2-3 s on it).
				n.journal.Nudge()
			}
		}
		if err != nil && ctx.Err() == nil {
			n.log.Warn("stream leadership not moved off the gateway leader's NATS server", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// StepDown is refused on a follower: it names the node that leads.
func (f follower) StepDown(context.Context) (admin.StepDownResult, error) {
	return admin.StepDownResult{}, fmt.Errorf("%w (%w)", admin.ErrNotLeader, f.n.notLeader())
}

// phases times the steps of a hand-over or a takeover, for their log
// line: where a slow one's time goes.
type phases struct {
	began, last time.Time
	steps       []any
}

func newPhases() *phases {
	now := time.Now()
	return &phases{began: now, last: now}
}

// mark ends the step named what.
func (p *phases) mark(what string) {
	now := time.Now()
	p.steps = append(p.steps, what, now.Sub(p.last).Round(time.Millisecond))
	p.last = now
}

// fields are the steps' durations and the total, as log fields.
func (p *phases) fields() []any {
	return append(p.steps, "total", time.Since(p.began).Round(time.Millisecond))
}
