package ledger

import (
	"context"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/seats"
	"github.com/licensegw/licensegw/sdk"
)

// SeatsFor is Seats for a plugin instance on cluster node node, whose
// requests the leader's forwarding service hands to the ledger: the
// leases it grants name node as the one holding the client's connection
// (events' conn_node), so that they end when node leaves. node "" or
// Options.Node is this node.
func (l *Ledger) SeatsFor(node, plugin, protocol string) sdk.Seats {
	if node == l.opts.Node {
		node = ""
	}
	return &pluginSeats{l: l, plugin: plugin, protocol: protocol, node: node}
}

// nodeOf is the node holding a lease's connection.
func (l *Ledger) nodeOf(c seats.Client) string {
	if c.Node == "" {
		return l.opts.Node
	}
	return c.Node
}

// ReleaseBoundOn checks in, with reason "disconnect", the leases granted
// before before and bound to connections that node held through plugin
// ("" for every plugin): the plugin process exited, or the node left the
// cluster or restarted. Leases granted since belong to connections of the
// plugin's or node's next life.
func (l *Ledger) ReleaseBoundOn(ctx context.Context, node, plugin string, before time.Time) error {
	return l.do(ctx, func(now time.Time, evs []events.Event) ([]events.Event, error) {
		return l.eng.ReleaseBoundWhere(now, func(ls seats.Lease) bool {
			return l.nodeOf(ls.Client) == node && (plugin == "" || ls.Client.Plugin == plugin) && ls.Granted.Before(before)
		}, evs), nil
	})
}

// BoundNodes reports the nodes holding connections that leases are bound
// to, with how many leases each.
func (l *Ledger) BoundNodes() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]int{}
	for node, n := range l.eng.BoundNodes() {
		out[l.nodeOfName(node)] += n
	}
	return out
}

func (l *Ledger) nodeOfName(node string) string {
	return l.nodeOf(seats.Client{Node: node})
}
