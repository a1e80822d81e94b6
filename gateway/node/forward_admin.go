package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/licensegw/licensegw/gateway/admin"
	"github.com/licensegw/licensegw/gateway/forward"
	"github.com/licensegw/licensegw/internal/version"
)

// followerAsk bounds a follower's admin call to the leader: a status page
// or a readiness probe should not hang for a whole failover.
const followerAsk = 3 * time.Second

// follower is the admin API's backend while a clustered node does not
// lead: it serves its plugins' ports and forwards to the leader, so its
// status shows the leader's features and leases (with this node's plugins
// and its view of the cluster), and changes go to the leader.
type follower struct{ n *Node }

var _ admin.Backend = follower{}

func (f follower) Status(ctx context.Context) admin.Status {
	n := f.n
	st := admin.Status{
		Gateway: n.cfg.Gateway.Name, Version: version.Version, Started: n.started.UTC(),
		Features: []admin.Feature{}, Plugins: n.pluginStatus(), Cluster: n.clusterStatus(),
	}
	if n.ns != nil && !st.Cluster.Quorum {
		// Cut off from the cluster: no leader could answer; say so
		// at once rather than wait followerAsk for nobody.
		st.Cluster.Unavailable = "no quorum: the NATS cluster has no meta leader"
		return st
	}
	ctx, cancel := context.WithTimeout(ctx, followerAsk)
	defer cancel()
	var leader admin.Status
	if err := n.member.fwd.AdminStatus(ctx, &leader); err != nil {
		st.Cluster.Unavailable = f.unavailable(err)
		return st
	}
	st.Features = leader.Features
	if leader.Cluster != nil && leader.Cluster.Leading {
		st.Cluster.Leader, st.Cluster.Term = leader.Cluster.Node, leader.Cluster.Term
	}
	if !st.Cluster.Quorum {
		st.Cluster.Unavailable = "no quorum: the NATS cluster has no meta leader"
	}
	return st
}

// unavailable says why the leader did not answer.
func (f follower) unavailable(err error) string {
	cl := f.n.clusterStatus()
	switch {
	case !cl.Quorum:
		return "no quorum: the NATS cluster has no meta leader"
	case cl.Leader == "":
		return "no node leads (an election is under way)"
	}
	return fmt.Sprintf("the leader (%s) does not answer: %v", cl.Leader, err)
}

func (f follower) RemoveLease(ctx context.Context, id, by string) error {
	err := f.n.member.fwd.RemoveLease(ctx, id, by)
	if errors.Is(err, forward.ErrNotFound) {
		return fmt.Errorf("lease %s: %w", id, admin.ErrNotFound)
	}
	return err
}

func (f follower) Reload(ctx context.Context) error { return f.n.member.fwd.Reload(ctx) }

// Ready: a follower is ready when its cluster has a quorum and a leader
// answers its forwarded calls.
func (f follower) Ready(ctx context.Context) error {
	if f.n.ns != nil {
		if leader, _ := f.n.ns.ClusterHealth(); leader == "" {
			return errors.New("no quorum: the NATS cluster has no meta leader")
		}
	}
	ctx, cancel := context.WithTimeout(ctx, followerAsk)
	defer cancel()
	if _, err := f.n.member.fwd.Ping(ctx); err != nil {
		return errors.New(f.unavailable(err))
	}
	return nil
}

// pluginStatus is this node's plugins for a status.
func (n *Node) pluginStatus() []admin.Plugin {
	out := []admin.Plugin{}
	if n.plugins == nil {
		return out
	}
	for _, p := range n.plugins.Status() {
		out = append(out, admin.Plugin{
			Name: p.Name, Protocol: p.Protocol, Version: p.Version, State: p.State, PID: p.PID,
			Restarts: p.Restarts, Listeners: p.Listeners, Since: p.Since, LastError: p.LastError,
		})
	}
	return out
}
