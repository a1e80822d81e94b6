package node

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/licensegw/licensegw/gateway/admin"
	"github.com/licensegw/licensegw/gateway/forward"
	"github.com/licensegw/licensegw/gateway/natsd"
	"github.com/licensegw/licensegw/gateway/pluginhost"
	"github.com/licensegw/licensegw/gateway/seats"
	"github.com/licensegw/licensegw/gateway/signing"
	"github.com/licensegw/licensegw/internal/retry"
)

// member is a clustered node's serving part, leader or not: its plugins
// run from the start, and their seat calls go through the forwarder to
// whichever node leads; the leader also runs the forwarding service in
// front of its ledger, and its own plugins' calls go straight to the
// ledger (forward.Forwarder.Lead).
type member struct {
	nc      *nats.Conn // the forwarder's and the service's (in-process)
	fwd     *forward.Forwarder
	started time.Time // this process's start: older bound leases of this node are dead
	// owner is the node the member serves now: a node that stops leading
	// hands its member (plugins, forwarder, presence) over to the node
	// that starts in its place (Detach, WithKept), so the plugins' ports
	// and connections stay.
	owner   atomic.Pointer[Node]
	plugins *pluginhost.Host

	mu  sync.Mutex
	svc *forward.Service // while leading

	presence *presence
	ctx      context.Context // ends with stopMember
	stop     context.CancelFunc
	wg       sync.WaitGroup
	shutOnce sync.Once
}

// startMember starts a clustered node's forwarder and plugins, before it
// campaigns: every node serves its ports.
func (n *Node) startMember(ctx context.Context, dial func(...nats.Option) (*nats.Conn, error), specs []pluginhost.Spec) error {
	cfg := n.cfg
	nc, err := dial(nats.MaxReconnects(-1))
	if err != nil {
		return fmt.Errorf("forwarding: %w", err)
	}
	var signer ed25519.PrivateKey
	if cfg.Signing.Enabled {
		if signer, err = signing.LoadOrCreate(cfg.Signing.KeyFile); err != nil {
			nc.Close()
			return err
		}
	}
	m := &member{nc: nc, started: n.started}
	m.owner.Store(n)
	fwd, err := forward.New(forward.Config{
		Conn: nc, Prefix: cfg.NATS.Prefix, Node: cfg.Gateway.Name, Signer: signer,
		Term: func() uint64 { return m.owner.Load().leaderTerm() }, Log: n.log.Named("forward"),
	})
	if err != nil {
		nc.Close()
		return err
	}
	m.fwd = fwd
	m.ctx, m.stop = context.WithCancel(context.Background())
	mctx := m.ctx
	n.member = m
	// Leases bound to connections of this node's previous life are
	// dead: the leader ends them once one answers.
	m.wg.Go(func() { n.releaseOwnBound(mctx, "", m.started) })
	m.presence = n.startPresence(mctx, nc)

	n.plugins = pluginhost.New(pluginhost.Options{
		DataDir: cfg.Gateway.DataDir,
		Seats:   fwd.Seats,
		Lifecycle: func(ctx context.Context, plugin, what string, info map[string]any) {
			m.owner.Load().pluginLifecycle(ctx, plugin, what, info)
		},
		Log: n.log.Named("plugin"),
	})
	m.plugins = n.plugins
	if err := n.plugins.Start(ctx, specs); err != nil {
		return fmt.Errorf("plugins: %w", err)
	}
	if n.opts.following != nil {
		n.opts.following()
	}
	return nil
}

// adoptMember makes this node the owner of a member a node that stopped
// leading handed over (WithKept): its plugins keep serving, on the same
// ports and connections, and forward to whichever node leads.
func (n *Node) adoptMember(m *member) {
	m.owner.Store(n)
	n.member, n.plugins = m, m.plugins
	if n.opts.following != nil {
		n.opts.following()
	}
}

// Kept is what a clustered node that stops leading hands over to the node
// started in its place, in the same process: its embedded NATS server and
// its serving part (plugins, forwarder, presence). See Detach.
type Kept struct {
	ns     *natsd.Server
	member *member
}

// Detach hands this clustered node's embedded NATS server (if it has one)
// and its plugins, forwarder and presence over to the caller: Shutdown
// then leaves them running, for the next Start with WithKept. `licensegw
// serve` does so after a step-down, a lost lease or a deposition, so that
// the cluster keeps this NATS server (and the raft leaders it holds) and
// the plugins keep their ports and clients while the node starts again as
// a standby. It returns nil for a single node.
func (n *Node) Detach() *Kept {
	if n.lead == nil || n.member == nil {
		return nil
	}
	n.lead.keepNATS.Store(true)
	n.lead.keepMember.Store(true)
	return &Kept{ns: n.ns, member: n.member}
}

// Shutdown stops what k holds, when the node it was kept for did not
// start.
func (k *Kept) Shutdown(ctx context.Context) {
	if k == nil {
		return
	}
	_ = k.member.plugins.Stop(ctx)
	k.member.shutdown()
	if k.ns != nil {
		k.ns.Shutdown()
	}
}

// WithKept makes Start take over what a node that stopped leading in this
// process handed over (Detach) instead of starting its own embedded NATS
// server and plugins.
func WithKept(k *Kept) Option {
	return func(o *options) {
		if k != nil {
			o.nats, o.member = k.ns, k.member
		}
	}
}

// WithFollowing makes Start call fn once a clustered node serves its ports
// as a follower, before it is elected (Start returns only when it leads):
// `licensegw serve` tells systemd it is ready then.
func WithFollowing(fn func()) Option {
	return func(o *options) { o.following = fn }
}

// releaseTry retries a release of this node's bound leases while no node
// leads (the first election of a cluster that starts takes a while).
var releaseTry = retry.Policy{Initial: 100 * time.Millisecond, Max: 2 * time.Second, GiveUpAfter: 5 * time.Minute}

// releaseOwnBound asks the leader to end the leases granted before before
// and bound to connections this node held through plugin ("" for all).
func (n *Node) releaseOwnBound(ctx context.Context, plugin string, before time.Time) {
	_, err := retry.Do(ctx, releaseTry, func() (struct{}, error) {
		return struct{}{}, n.member.fwd.ReleaseBound(ctx, plugin, before)
	})
	if err != nil && ctx.Err() == nil {
		n.log.Error("leases bound to this node's closed connections were not released; they end at their TTL",
			"plugin", plugin, "error", err)
	}
}

// leaderTerm is the current leader's term as the election last saw it, 0
// when unknown.
func (n *Node) leaderTerm() uint64 {
	l := n.leadShared.Load()
	if l == nil {
		return 0
	}
	if leading, term := l.el.Leading(); leading {
		return term
	}
	return l.el.Current().Term
}

// serveEngine starts the forwarding service in front of the ledger: this
// node leads from term on.
func (n *Node) serveEngine(term uint64) error {
	m := n.member
	svc, err := forward.Serve(forward.ServiceConfig{
		Conn: m.nc, Prefix: n.cfg.NATS.Prefix, Term: term,
		Engine: n.ledger, Admin: leaderAdmin{n}, Log: n.log.Named("forward"),
	})
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.svc = svc
	m.mu.Unlock()
	// This node's own plugins skip the round trip to themselves while it
	// leads: asked before every call, so a lost lease (or a hand-over
	// begun) sends them to the next leader at once.
	m.fwd.Lead(&forward.Local{Engine: n.ledger, Term: term, Leading: n.stillLeading})
	m.wg.Go(func() { n.watchPresence(m) })
	return nil
}

// stillLeading reports whether this node leads and has not begun to hand
// over.
func (n *Node) stillLeading() bool {
	if n.lead == nil || n.handedOver() {
		return false
	}
	leading, _ := n.lead.el.Leading()
	return leading
}

// stopMember stops the plugins' forwarding and the service; the plugins
// themselves are stopped by Shutdown first.
func (n *Node) stopMember() {
	m := n.member
	if m == nil {
		return
	}
	n.stopEngine()
	if n.lead != nil && n.lead.keepMember.Load() {
		return // handed over (Detach)
	}
	m.shutdown()
}

// shutdown stops the member's forwarding and presence, once.
func (m *member) shutdown() {
	m.shutOnce.Do(func() {
		m.stop()
		m.wg.Wait()
		m.presence.leave()
		m.fwd.Close()
		m.nc.Close()
	})
}

// stopEngine stops answering forwarded calls, after those in hand: a
// leader handing over does it before its ledger closes, so that the
// followers' retries meet "no responders" and then the next leader, not
// an old leader's "unavailable".
func (n *Node) stopEngine() {
	m := n.member
	if m == nil {
		return
	}
	m.fwd.Lead(nil)
	m.mu.Lock()
	svc := m.svc
	m.svc = nil
	m.mu.Unlock()
	if svc != nil {
		svc.Stop()
	}
}

// leaderAdmin is what the leader answers followers' admin calls with.
type leaderAdmin struct{ n *Node }

func (a leaderAdmin) AdminStatus(ctx context.Context) any { return a.n.Status(ctx) }

func (a leaderAdmin) RemoveLease(ctx context.Context, id, by string) error {
	err := a.n.RemoveLease(ctx, id, by)
	if errors.Is(err, admin.ErrNotFound) {
		return fmt.Errorf("%w: %w", forward.ErrNotFound, err)
	}
	return err
}

func (a leaderAdmin) Reload(ctx context.Context) error { return a.n.Reload(ctx) }

// keepBound is the ledger's rule at a leader's start in a cluster: a
// lease bound to a connection stays, since the node holding it may still
// run; the presence watch ends those of nodes that left, and every node
// ends its previous life's at its start.
func keepBound(seats.Lease) bool { return true }

// fillBoundNodes names the leader in its own bound leases of a status.
func fillBoundNodes(st *admin.Status, self string) {
	for i := range st.Features {
		for j := range st.Features[i].Leases {
			l := &st.Features[i].Leases[j]
			if l.Bound && l.Node == "" {
				l.Node = self
			}
		}
	}
}
