package node

import (
	"context"
	"time"

	"github.com/licensegw/licensegw/gateway/cluster"
	"github.com/licensegw/licensegw/gateway/ledger"
)

// snapshotStoreWait bounds how long a new leader waits for the snapshot
// store before it starts from its own snapshot instead.
const snapshotStoreWait = 10 * time.Second

// snapshotStream is the stream behind the cluster's snapshot store.
var snapshotStream = cluster.SnapshotStream(cluster.DefaultSnapshotBucket)

// snapshotStore is where a clustered node's ledger also keeps its
// snapshots and finds the latest one when it takes over: the cluster's
// object store (LICENSEGW_SNAPSHOTS, replicated like the journal). A
// single node keeps them on its disk only (nil).
func (n *Node) snapshotStore(ctx context.Context) ledger.SnapshotStore {
	if n.lead == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, snapshotStoreWait)
	defer cancel()
	s, err := cluster.OpenSnapshotStore(ctx, n.lead.js, cluster.DefaultSnapshotBucket, n.cfg.NATS.Replicas, n.log.Named("snapshots"))
	if err != nil {
		n.log.Warn("snapshot store unavailable; snapshots stay on this node's disk", "error", err)
		return nil
	}
	return s
}
