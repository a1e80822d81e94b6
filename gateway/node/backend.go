package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/licensegw/licensegw/gateway/admin"
	"github.com/licensegw/licensegw/gateway/metrics"
	"github.com/licensegw/licensegw/gateway/seats"
	"github.com/licensegw/licensegw/internal/version"
)

// The node is the admin API's backend.
var _ admin.Backend = (*Node)(nil)

// Status reports the whole gateway.
func (n *Node) Status(context.Context) admin.Status {
	st := admin.Status{Gateway: n.cfg.Gateway.Name, Version: version.Version, Started: n.started.UTC(), Cluster: n.clusterStatus()}
	now, warn := time.Now(), n.expiryWarning()
	for _, ps := range n.ledger.Status() {
		f := adminFeature(&ps)
		f.Expiring = metrics.Expiring(ps.Feature.Expiry, now, warn)
		st.Features = append(st.Features, f)
	}
	st.Plugins = n.pluginStatus()
	if n.member != nil {
		fillBoundNodes(&st, n.cfg.Gateway.Name)
	}
	return st
}

func adminFeature(ps *seats.PoolStatus) admin.Feature {
	f := ps.Feature
	out := admin.Feature{
		Vendor: f.Vendor, Name: f.Name, Version: f.Version, Description: f.Description,
		Seats: f.Seats, InUse: ps.InUse, Queued: ps.Queued, Reserved: ps.Reserved,
		Start: optionalTime(f.Start), Expiry: optionalTime(f.Expiry), LeaseTTL: int(f.LeaseTTL / time.Second),
		Queue: f.Queue, Borrow: f.Borrow, Retired: ps.Retired,
		Leases: []admin.Lease{}, Tickets: []admin.Ticket{},
	}
	for _, l := range ps.Leases {
		out.Leases = append(out.Leases, admin.Lease{
			ID: l.ID, Vendor: f.Vendor, Feature: f.Name, Version: f.Version, Count: l.Count,
			User: l.Client.User, Host: l.Client.Host, Display: l.Client.Display,
			Protocol: l.Client.Protocol, Plugin: l.Client.Plugin, Client: l.Client.Addr,
			Granted: l.Granted.UTC(), Expires: l.Expires.UTC(), Borrowed: l.Borrowed, Reserved: l.Reserved,
			Bound: l.Bound, Node: l.Client.Node,
		})
	}
	for _, t := range ps.Tickets {
		out.Tickets = append(out.Tickets, admin.Ticket{
			ID: t.ID, Vendor: f.Vendor, Feature: f.Name, Version: f.Version, Count: t.Count,
			User: t.Client.User, Host: t.Client.Host, Position: t.Position,
			Queued: t.Queued.UTC(), Deadline: t.Deadline.UTC(),
		})
	}
	return out
}

func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// RemoveLease releases a lease as an administrator.
func (n *Node) RemoveLease(ctx context.Context, id, by string) error {
	if len(by) > 256 {
		by = by[:256] // an address: ASCII
	}
	err := n.ledger.Remove(ctx, id, by)
	if err == nil {
		n.log.Info("lease removed", "lease", id, "by", by)
	}
	var gone *seats.GoneError
	if errors.As(err, &gone) {
		return fmt.Errorf("lease %s: %w (%s)", id, admin.ErrNotFound, gone.Reason)
	}
	return err
}

// Ready reports whether the journal can append: connected to NATS, and its
// latest publishes acknowledged.
func (n *Node) Ready(context.Context) error {
	if n.journal == nil {
		return errors.New("journal not open")
	}
	if err := n.leaderReady(); err != nil {
		return err
	}
	return n.journal.Ready()
}
