package node

import (
	"context"
	"fmt"

	"github.com/licensegw/licensegw/gateway/admin"
	"github.com/licensegw/licensegw/internal/version"
)

// standby is the admin API's backend while a clustered node stands by: its
// status has the cluster section only (who leads, the term, each node's
// health), and it is not ready; changes are the leader's to make.
type standby struct{ n *Node }

var _ admin.Backend = standby{}

func (s standby) Status(context.Context) admin.Status {
	n := s.n
	return admin.Status{
		Gateway: n.cfg.Gateway.Name, Version: version.Version, Started: n.started.UTC(),
		Features: []admin.Feature{}, Plugins: []admin.Plugin{}, Cluster: n.clusterStatus(),
	}
}

func (s standby) RemoveLease(context.Context, string, string) error { return s.notLeader() }
func (s standby) Reload(context.Context) error                      { return s.notLeader() }
func (s standby) Ready(context.Context) error                       { return s.notLeader() }

// notLeader says which node to ask instead.
func (s standby) notLeader() error {
	cur := s.n.lead.el.Current()
	switch {
	case cur.Node == "":
		return fmt.Errorf("standing by: no node leads yet")
	case cur.Admin != "":
		return fmt.Errorf("standing by: %s leads (admin API %s)", cur.Node, cur.Admin)
	}
	return fmt.Errorf("standing by: %s leads", cur.Node)
}

// StepDown is refused: a standby does not lead. The answer names the node
// that does.
func (s standby) StepDown(context.Context) (admin.StepDownResult, error) {
	return admin.StepDownResult{}, fmt.Errorf("%w (%w)", admin.ErrNotLeader, s.notLeader())
}
