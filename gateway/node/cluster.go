package node

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/licensegw/licensegw/gateway/admin"
	"github.com/licensegw/licensegw/gateway/cluster"
	"github.com/licensegw/licensegw/gateway/config"
	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/journal"
	"github.com/licensegw/licensegw/gateway/natsd"
	"github.com/licensegw/licensegw/gateway/signing"
)

// ErrSigningKeyMismatch is why a node refuses to join a cluster whose
// leader signs grants with another key: clients verify grants with one
// public key, whichever node answers.
var ErrSigningKeyMismatch = errors.New("this node's grant-signing key differs from the cluster leader's")

// ErrLostLeadership is the Err of a clustered node that stopped leading
// against its will: its lease was lost (no renewal in time: the NATS
// cluster's lease bucket was unreachable, or this process was frozen) or
// the journal's fence deposed it (another writer appended). It has
// stopped deciding; `licensegw serve` starts it again in-process as a
// node that stands by, keeping its NATS server and plugins (Detach, WithKept), and it tries
// for the lease again after a hold-off (WithHoldOff).
var ErrLostLeadership = errors.New("lost the cluster leadership")

// HoldOff is how long a node that lost the leadership waits before it
// tries for the lease again: the other nodes try first.
const HoldOff = time.Second

// standbyReport is how often a standby node says who leads.
const standbyReport = 10 * time.Second

// standbyAdminGrace is how long a node just elected lets its standby admin
// API finish requests in flight before it closes them.
const standbyAdminGrace = 200 * time.Millisecond

// beginTimeout bounds how long a new leader waits for its term event to
// be stored: past it, the node stops (and another is elected) rather than
// lead without fencing its predecessor.
const beginTimeout = 30 * time.Second

// leadership is a clustered node's place in the election.
type leadership struct {
	el     *cluster.Elector
	nc     *nats.Conn // the election's; also publishes cluster lifecycle messages
	js     jetstream.JetStream
	self   cluster.Lease
	cancel context.CancelFunc // stops campaigning/leading; a leader hands over
	done   chan struct{}      // closed when the elector has returned

	// While leading: the watchers keeping stream leaders elsewhere and
	// reporting peers (stepdown.go, clusterevents.go).
	leadCancel context.CancelFunc
	leadWG     sync.WaitGroup

	// The hand-over (stepdown.go) runs once.
	handOnce   sync.Once
	handing    atomic.Bool
	leaving    atomic.Bool // handing over to stop: its presence says so
	keepNATS   atomic.Bool // Detach: Shutdown leaves the server running
	keepMember atomic.Bool // Detach: Shutdown leaves the plugins and forwarder running
	handRes    admin.StepDownResult
	handErr    error
}

// stopPlacement stops the leader's watchers and waits for them.
func (l *leadership) stopPlacement() {
	if l.leadCancel != nil {
		l.leadCancel()
	}
	l.leadWG.Wait()
}

// natsCluster is the embedded server's cluster settings.
func natsCluster(c *config.NATSCluster) *natsd.Cluster {
	if c == nil {
		return nil
	}
	nc := &natsd.Cluster{Name: c.Name, Listen: c.Listen, Routes: c.Routes, Advertise: c.Advertise}
	if c.Password != "" {
		nc.Username, nc.Password = config.RouteUser, c.Password
	}
	return nc
}

// campaign makes a clustered node stand by until it is elected leader, and
// returns its term (the lease's revision). It fails at once, and the node
// refuses to join, if the leader signs with another key; a leader whose
// features differ is reported loudly (the leader's configuration decides).
func (n *Node) campaign(ctx context.Context, dial func(...nats.Option) (*nats.Conn, error)) (uint64, error) {
	cfg := n.cfg
	self, err := selfLease(cfg)
	if err != nil {
		return 0, err
	}
	nc, err := dial()
	if err != nil {
		return 0, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return 0, err
	}
	el := cluster.NewElector(cluster.ElectorConfig{
		JS: js, Replicas: cfg.NATS.Replicas, Self: self, HoldOff: n.opts.holdOff, Log: n.log.Named("election"),
	})
	ectx, cancel := context.WithCancel(context.Background())
	l := &leadership{el: el, nc: nc, js: js, self: self, cancel: cancel, done: make(chan struct{})}
	go func() { defer close(l.done); el.Run(ectx) }()
	n.lead = l
	n.leadShared.Store(l)

	if cfg.Admin.Enabled {
		// Until it leads, the admin API forwards to the node that does.
		if n.admin, err = n.listenAdmin(follower{n}); err != nil {
			return 0, err
		}
	}
	n.log.Info("standing by until elected leader", "cluster", cfg.NATS.Cluster.Name)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var seen cluster.Lease
	var reported time.Time
	joined := false
	for {
		select {
		case <-el.Won():
			_, term := el.Leading()
			if n.admin != nil {
				// The leader's admin API replaces the standby's. A
				// standby request in flight may wait seconds on a dead
				// leader (a forwarded status): it gets a short grace, then
				// its connection is closed (its client asks again), so the
				// takeover does not wait for it.
				sctx, cancel := context.WithTimeout(ctx, standbyAdminGrace)
				if n.admin.Shutdown(sctx) != nil {
					_ = n.admin.Close()
				}
				cancel()
				n.admin = nil
			}
			return term, nil
		case <-ctx.Done():
			return 0, fmt.Errorf("waiting to lead: %w", ctx.Err())
		case <-tick.C:
		}
		cur := el.Current()
		if cur.Node == "" {
			continue
		}
		if cur.PublicKey != self.PublicKey {
			return 0, fmt.Errorf("%w (leader %s): every node must have a copy of the same signing key file; refusing to join", ErrSigningKeyMismatch, cur.Node)
		}
		if !joined {
			n.announceJoined(self.Node, cur.Node, self.ConfigHash, cur.ConfigHash)
			joined = true
		}
		if cur.Term != seen.Term || time.Since(reported) > standbyReport {
			if cur.ConfigHash != self.ConfigHash {
				n.log.Error("THIS NODE'S FEATURES AND POLICIES DIFFER FROM THE LEADER'S: the leader's configuration decides while it leads, this one's if this node takes over; make the configurations equal",
					"leader", cur.Node, "leader_config", cur.ConfigHash, "this_config", self.ConfigHash)
			}
			n.log.Info("standing by", "leader", cur.Node, "term", cur.Term)
			seen, reported = cur, time.Now()
		}
	}
}

// selfLease is what this node writes into the leader key when it leads.
func selfLease(cfg *config.Config) (cluster.Lease, error) {
	l := cluster.Lease{Node: cfg.Gateway.Name, ConfigHash: configHash(cfg)}
	if cfg.Admin.Enabled {
		scheme := "http"
		if cfg.Admin.TLS.Enabled() {
			scheme = "https"
		}
		l.Admin = scheme + "://" + cfg.Admin.Listen
	}
	if cfg.Signing.Enabled {
		key, err := signing.LoadOrCreate(cfg.Signing.KeyFile)
		if err != nil {
			return l, err
		}
		l.PublicKey = signing.PublicText(key)
	}
	return l, nil
}

// configHash identifies the features and policies a node serves.
func configHash(cfg *config.Config) string {
	b, err := json.Marshal(cfg.Engine())
	if err != nil {
		return "unknown"
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// watchLeadership ends the node when it stops leading: its lease is lost
// or the journal's fence deposed it. It must answer no client from then
// on: its journal sends nothing once the lease is not certainly its own
// (journal.Config.MayWrite), and the stream refuses its appends once the
// next leader's term event is stored.
func (n *Node) watchLeadership() {
	select {
	case <-n.lead.el.Lost():
		err := n.lead.el.Err()
		n.log.Error("lost the cluster leadership (lease not renewed in time); this node stops deciding and stands by", "error", err)
		n.fail(fmt.Errorf("%w: %w", ErrLostLeadership, err))
	case <-n.journal.Deposed():
		err := n.journal.Ready()
		n.log.Error("deposed by the journal's fence (another node appended); this node stops deciding, releases the lease and stands by", "error", err)
		n.fail(fmt.Errorf("%w: %w", ErrLostLeadership, err))
	case <-n.lead.done:
	}
}

// lostDuringStart reports whether a clustered node that failed to take
// over (with err) had lost its lease or been deposed meanwhile; it is then
// a node that lost the leadership, not one that cannot start.
func (n *Node) lostDuringStart(err error) bool {
	if n.lead == nil {
		return false
	}
	select {
	case <-n.lead.el.Lost():
		return true
	default:
	}
	return errors.Is(err, journal.ErrDeposed)
}

// leaseContext is ctx, also cancelled once the elector has lost the lease:
// a node taking over stops waiting (for the stream, its term event, the
// replay) as soon as it no longer leads.
func (n *Node) leaseContext(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	if n.lead == nil {
		return ctx, cancel
	}
	go func() {
		select {
		case <-n.lead.el.Lost():
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// releaseLost is a deposed leader's part of Shutdown: it stops answering
// forwarded calls and deletes its lease at once (its journal writes
// nothing more), so that another node need not wait for it to expire.
func (n *Node) releaseLost(ctx context.Context) {
	l := n.lead
	if l == nil {
		return
	}
	l.handing.Store(true)
	l.stopPlacement()
	n.stopEngine()
	switch err := l.el.StepDown(ctx); {
	case err == nil:
		n.log.Info("released the leader lease")
	case !errors.Is(err, cluster.ErrNotLeading):
		n.log.Warn("the leader lease was not released; it expires by itself", "error", err)
	}
}

// stopLeading hands the leadership over (a clean stop deletes the lease,
// so another node need not wait for it to expire) and says this node left.
func (n *Node) stopLeading() {
	if n.lead == nil {
		return
	}
	n.lead.stopPlacement()
	n.lead.cancel()
	<-n.lead.done
	if !n.restartsInPlace() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		n.lifecycle(ctx, clusterSubject(n.cfg.NATS.Prefix, events.ClusterNodeLeft), map[string]any{"node": n.cfg.Gateway.Name, "reason": "stopped"})
		cancel()
	}
	n.lead.nc.Close()
}

// restartsInPlace reports whether this node is being started again in
// its process (Detach): it neither stops nor leaves the cluster.
func (n *Node) restartsInPlace() bool {
	return n.lead != nil && n.lead.keepMember.Load()
}

// clusterStatus is the cluster part of the status, nil for a single node.
func (n *Node) clusterStatus() *admin.ClusterStatus {
	if n.lead == nil {
		return nil
	}
	leading, term := n.lead.el.Leading()
	cur := n.lead.el.Current()
	st := &admin.ClusterStatus{Name: n.cfg.NATS.Cluster.Name, Node: n.cfg.Gateway.Name, Leader: cur.Node, Term: term, Leading: leading,
		ConfigHash: n.lead.self.ConfigHash, LeaderConfigHash: cur.ConfigHash}
	if !leading {
		st.Term = cur.Term
	}
	st.ConfigMismatch = cur.Node != "" && cur.ConfigHash != st.ConfigHash
	if n.ns != nil {
		st.Quorum, st.Nodes = nodeHealth(n.ns)
	}
	n.markNodes(st) // presence.go
	return st
}

// startLeading publishes cluster.leader.elected (this node leads from
// term on) and starts what runs while it leads: keeping stream leaders
// off its NATS server, and reporting nodes that leave and come back.
func (n *Node) startLeading(ctx context.Context, term uint64) {
	l := n.lead
	if l == nil {
		return
	}
	n.lifecycle(ctx, clusterSubject(n.cfg.NATS.Prefix, events.ClusterLeaderElected),
		map[string]any{"node": n.cfg.Gateway.Name, "term": term, "config_hash": l.self.ConfigHash})
	wctx, cancel := context.WithCancel(context.Background())
	l.leadCancel = cancel
	l.leadWG.Go(func() { n.keepPlacement(wctx) })
	l.leadWG.Go(func() { n.watchPeers(wctx) })
}

// fail ends the node with err: Done is closed.
func (n *Node) fail(err error) {
	n.doneOnce.Do(func() {
		n.doneErr = err
		close(n.done)
	})
}

// Done is closed when the node stopped serving by itself (it lost the
// cluster leadership); Err says why. A stop by Shutdown does not close it.
func (n *Node) Done() <-chan struct{} { return n.done }

// Err is why Done was closed.
func (n *Node) Err() error {
	select {
	case <-n.done:
		return n.doneErr
	default:
		return nil
	}
}

// openJournal opens the journal; in a cluster it waits for the quorum the
// replicated stream needs.
func (n *Node) openJournal(ctx context.Context, cfg journal.Config) error {
	open := func(ctx context.Context) (err error) {
		n.journal, err = journal.Open(ctx, cfg)
		return err
	}
	if n.lead == nil {
		return open(ctx)
	}
	return cluster.Retry(ctx, n.log, "event stream", open)
}

// nodeHealth is each node's health as this node's NATS server sees it.
func nodeHealth(ns *natsd.Server) (quorum bool, nodes []admin.ClusterNode) {
	leader, peers := ns.ClusterHealth()
	for _, p := range peers {
		state := "ok"
		switch {
		case p.Offline:
			state = "offline"
		case !p.Current:
			state = "lagging"
		}
		nodes = append(nodes, admin.ClusterNode{Name: p.Name, State: state, LastSeen: p.Active.Seconds()})
	}
	return leader != "", nodes
}

// leaderReady is nil unless a clustered node has lost its leadership or
// its cluster's quorum.
func (n *Node) leaderReady() error {
	if n.lead == nil {
		return nil
	}
	if leading, _ := n.lead.el.Leading(); !leading {
		return errors.New("not the cluster leader")
	}
	if n.ns != nil {
		if leader, _ := n.ns.ClusterHealth(); leader == "" {
			return errors.New("no quorum: the NATS cluster has no meta leader")
		}
	}
	return nil
}
