package node

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/oklog/ulid/v2"

	"github.com/licensegw/licensegw/gateway/admin"
	"github.com/licensegw/licensegw/gateway/events"
)

// Cluster lifecycle messages (docs/events.md, "Cluster lifecycle") go to
// the lifecycle stream like the gateway's and the plugins' own:
//
//   - cluster.node.joined: a node joined the cluster (published by the
//     node itself once it sees a leader, with its configuration hash and
//     whether it differs from the leader's), or the leader saw a node's
//     NATS server come back (reason "reachable");
//   - cluster.node.left: a node stopped cleanly (by itself), or the
//     leader saw its NATS server go offline (reason "unreachable");
//   - cluster.leader.elected: this node leads from term on;
//   - cluster.leader.stepped_down: the leader handed over (step-down or
//     stop), with the next leader when it was seen in time.

// peerWatchEvery is how often the leader compares the NATS servers it sees.
const peerWatchEvery = time.Second

// clusterSubject is <prefix>.cluster.<what>.
func clusterSubject(prefix, what string) string { return events.ClusterSubject(prefix, what) }

// publishLifecycle publishes a lifecycle message. A clustered node uses
// its election connection, which lives as long as the node, so that what
// it says while it stands by, or after its journal closed at a hand-over,
// is published too; a single node uses its journal's.
func (n *Node) publishLifecycle(ctx context.Context, subject string, payload any) error {
	if n.lead == nil {
		if n.journal == nil {
			return fmt.Errorf("no journal")
		}
		return n.journal.PublishLifecycle(ctx, subject, payload)
	}
	data, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("encode %s: %w", subject, err)
	}
	msg := &nats.Msg{Subject: subject, Data: data,
		Header: nats.Header{jetstream.MsgIDHeader: []string{ulid.Make().String()}}}
	_, err = n.lead.js.PublishMsg(ctx, msg)
	return err
}

// announceJoined publishes cluster.node.joined for this node once a leader
// is known (so the lifecycle stream exists), in the background: standing
// by must not wait for it.
func (n *Node) announceJoined(self, leader string, hash, leaderHash string) {
	info := map[string]any{"node": self, "config_hash": hash, "leader": leader, "leader_config_hash": leaderHash,
		"config_mismatch": hash != leaderHash}
	go func() {
		// At a cluster's first start the lifecycle stream exists only
		// once the first leader has opened its journal: try again.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		subject := clusterSubject(n.cfg.NATS.Prefix, events.ClusterNodeJoined)
		payload := map[string]any{"schema": events.Schema, "gateway": n.cfg.Gateway.Name}
		for k, v := range info {
			payload[k] = v
		}
		for {
			payload["time"] = time.Now().UTC().Format(events.TimeLayout)
			pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
			err := n.publishLifecycle(pctx, subject, payload)
			pcancel()
			if err == nil {
				return
			}
			select {
			case <-ctx.Done():
				n.log.Warn("lifecycle event not published", "subject", subject, "error", err)
				return
			case <-time.After(500 * time.Millisecond):
			}
		}
	}()
}

// watchPeers runs while this node leads: it publishes cluster.node.left
// when a node's NATS server goes offline and cluster.node.joined when it
// is back, as this node's NATS server sees them. Nodes already offline
// when it starts are not reported.
func (n *Node) watchPeers(ctx context.Context) {
	if n.ns == nil {
		return // an external NATS: its servers are not the gateways
	}
	_, nodes := nodeHealth(n.ns)
	offline := map[string]bool{}
	for _, nd := range nodes {
		offline[nd.Name] = nd.State == "offline"
	}
	tick := time.NewTicker(peerWatchEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		_, nodes := nodeHealth(n.ns)
		for _, nd := range nodes {
			was, known := offline[nd.Name]
			now := nd.State == "offline"
			offline[nd.Name] = now
			switch {
			case now && (!known || !was):
				n.log.Warn("cluster node unreachable", "node", nd.Name, "last_seen", nd.LastSeen)
				n.peerEvent(ctx, events.ClusterNodeLeft, nd, "unreachable")
			case !now && known && was:
				n.log.Info("cluster node reachable again", "node", nd.Name)
				n.peerEvent(ctx, events.ClusterNodeJoined, nd, "reachable")
			}
		}
	}
}

func (n *Node) peerEvent(ctx context.Context, what string, nd admin.ClusterNode, reason string) {
	n.lifecycle(ctx, clusterSubject(n.cfg.NATS.Prefix, what), map[string]any{
		"node": nd.Name, "reason": reason, "seen_by": n.cfg.Gateway.Name, "last_seen_seconds": nd.LastSeen,
	})
}
