package node

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/licensegw/licensegw/gateway/admin"
	"github.com/licensegw/licensegw/gateway/cluster"
	"github.com/licensegw/licensegw/internal/version"
)

// Node presence: every clustered node keeps a key in a KV bucket whose
// entries live presenceTTL after their last write, and rewrites it every
// presenceEvery. The leader ends the leases bound to connections of a node
// whose key is gone (reason disconnect): the node died, and its
// connections with it.
const (
	presenceBucket = "LICENSEGW_NODES"
	presenceTTL    = 5 * time.Second
	presenceEvery  = time.Second
)

// presence is this node's key in the presence bucket, and what it has
// seen of the other nodes' keys.
type presence struct {
	node string

	mu    sync.Mutex
	kv    jetstream.KeyValue // nil until the bucket exists
	peers map[string]seenPresence

	changed chan struct{} // a send writes this node's value now (its role changed)
}

// nodePresence is a presence key's value.
type nodePresence struct {
	Node    string    `json:"node"`
	Started time.Time `json:"started"`
	Version string    `json:"version"`
	// ConfigHash identifies the features and policies the node serves
	// now (configHash; a reload changes it).
	ConfigHash string `json:"config_hash,omitempty"`
	// Role is the node's part in the election (electionRole): a leader
	// steps down only when another node stands by.
	Role string `json:"role,omitempty"`
}

// A node's part in the election, in its presence value (admin.ClusterNode
// says what each means).
const (
	roleLeader   = "leader"
	roleStandby  = "standby"
	roleStarting = "starting"
	roleLeaving  = "leaving"
)

// seenPresence is a node's presence value and when this node saw it
// written.
type seenPresence struct {
	nodePresence
	at time.Time
}

// startPresence creates (or opens) the bucket and keeps this node's key
// until ctx ends.
func (n *Node) startPresence(ctx context.Context, nc *nats.Conn) *presence {
	p := &presence{node: n.cfg.Gateway.Name, peers: map[string]seenPresence{}, changed: make(chan struct{}, 1)}
	m := n.member // its owner is the node that serves now
	replicas := n.cfg.NATS.Replicas
	n.member.wg.Go(func() {
		js, err := jetstream.New(nc)
		if err != nil {
			n.log.Error("node presence off", "error", err)
			return
		}
		var kv jetstream.KeyValue
		err = cluster.Retry(ctx, n.log.Named("presence"), "node presence bucket", func(ctx context.Context) (err error) {
			kv, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
				Bucket: presenceBucket, Description: "licensegw: which gateways run",
				TTL: presenceTTL, History: 1, Replicas: max(replicas, 1), Storage: jetstream.MemoryStorage,
			})
			return err
		})
		if err != nil {
			return // ctx ended
		}
		p.mu.Lock()
		p.kv = kv
		p.mu.Unlock()
		n.member.wg.Go(func() { p.watch(ctx, kv, n.log.Named("presence")) })
		t := time.NewTicker(presenceEvery)
		defer t.Stop()
		for {
			c, cancel := context.WithTimeout(ctx, presenceEvery)
			if err := m.owner.Load().writePresence(c, p); err != nil && ctx.Err() == nil {
				n.log.Debug("presence not renewed", "error", err)
			}
			cancel()
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			case <-p.changed:
			}
		}
	})
	return p
}

// writePresence writes this node's presence value into p's bucket.
func (n *Node) writePresence(ctx context.Context, p *presence) error {
	kv := p.bucket()
	if kv == nil {
		return errors.New("the presence bucket is not open yet")
	}
	val, err := json.Marshal(nodePresence{Node: p.node, Started: n.started.UTC(), Version: version.Version,
		ConfigHash: n.configHashNow(), Role: n.electionRole()})
	if err != nil {
		return err
	}
	_, err = kv.Put(ctx, p.node, val)
	return err
}

// roleChanged has this node's presence value written again now.
func (p *presence) roleChanged() {
	if p == nil {
		return
	}
	select {
	case p.changed <- struct{}{}:
	default:
	}
}

// electionRole is this node's part in the election now.
func (n *Node) electionRole() string {
	l := n.leadShared.Load()
	switch {
	case l == nil:
		return roleStarting
	case l.leaving.Load():
		return roleLeaving
	}
	if leading, _ := l.el.Leading(); leading {
		return roleLeader
	}
	if l.el.Current().Node != "" {
		// Its elector has read the lease: it campaigns, and creates
		// the lease within its next try once the leader releases it.
		return roleStandby
	}
	return roleStarting
}

// configHashNow is configHash of the configuration served now.
func (n *Node) configHashNow() string {
	n.cfgMu.Lock()
	defer n.cfgMu.Unlock()
	return configHash(n.cfg)
}

// watch keeps p.peers up to date with every node's presence value until
// ctx ends. Keys expire without a delete marker, so a node counts as
// present while its value was written within presenceTTL (seen).
func (p *presence) watch(ctx context.Context, kv jetstream.KeyValue, log hclog.Logger) {
	for ctx.Err() == nil {
		w, err := kv.WatchAll(ctx)
		if err != nil {
			log.Debug("presence watch", "error", err)
			select {
			case <-ctx.Done():
			case <-time.After(presenceEvery):
			}
			continue
		}
		for e := range w.Updates() {
			if e == nil {
				continue // the initial values are all in
			}
			p.mu.Lock()
			if e.Operation() != jetstream.KeyValuePut {
				delete(p.peers, e.Key())
			} else {
				var v nodePresence
				if json.Unmarshal(e.Value(), &v) == nil {
					p.peers[e.Key()] = seenPresence{nodePresence: v, at: time.Now()} // this host's clock, not the writer's
				}
			}
			p.mu.Unlock()
		}
		_ = w.Stop()
	}
}

// seen is every node whose presence value was written within presenceTTL.
func (p *presence) seen() map[string]nodePresence {
	out := map[string]nodePresence{}
	if p == nil {
		return out
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, v := range p.peers {
		if time.Since(v.at) < presenceTTL {
			out[k] = v.nodePresence
		}
	}
	return out
}

// markNodes adds each node's version and configuration hash, from the
// presence bucket, to a cluster status, and marks those whose hash
// differs from the leader's (the leader's current one when its presence
// value is seen, else the one in its lease). Nodes present in the bucket
// that this node's NATS server does not list (an external NATS cluster)
// are added with state "present".
func (n *Node) markNodes(st *admin.ClusterStatus) {
	if n.member == nil {
		return
	}
	seen := n.member.presence.seen()
	if self, ok := seen[st.Node]; ok && self.ConfigHash != "" {
		st.ConfigHash = self.ConfigHash
	}
	if lead, ok := seen[st.Leader]; ok && lead.ConfigHash != "" {
		st.LeaderConfigHash = lead.ConfigHash
	}
	st.ConfigMismatch = st.Leader != "" && st.LeaderConfigHash != "" && st.ConfigHash != st.LeaderConfigHash
	listed := map[string]bool{}
	for i := range st.Nodes {
		listed[st.Nodes[i].Name] = true
	}
	for _, name := range slices.Sorted(maps.Keys(seen)) {
		if !listed[name] {
			st.Nodes = append(st.Nodes, admin.ClusterNode{Name: name, State: "present"})
		}
	}
	for i := range st.Nodes {
		nd := &st.Nodes[i]
		v, ok := seen[nd.Name]
		if !ok {
			continue
		}
		nd.Version, nd.ConfigHash, nd.Role = v.Version, v.ConfigHash, v.Role
		nd.ConfigMismatch = st.LeaderConfigHash != "" && v.ConfigHash != "" && v.ConfigHash != st.LeaderConfigHash
	}
}

// bucket is the presence bucket, nil until it exists.
func (p *presence) bucket() jetstream.KeyValue {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.kv
}

// leave deletes this node's key: a clean stop closes its connections.
func (p *presence) leave() {
	kv := p.bucket()
	if kv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = kv.Delete(ctx, p.node)
}

// present lists the nodes whose keys live.
func (p *presence) present(ctx context.Context) (map[string]bool, error) {
	kv := p.bucket()
	if kv == nil {
		return nil, nil
	}
	lister, err := kv.ListKeys(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for k := range lister.Keys() {
		out[k] = true
	}
	return out, nil
}

// watchPresence, on the leader, ends the leases bound to connections of
// nodes that left, until the member stops.
func (n *Node) watchPresence(m *member) {
	self := n.cfg.Gateway.Name
	t := time.NewTicker(presenceEvery)
	defer t.Stop()
	// A node counts as gone once its key has been missing for a whole
	// presenceTTL, while this node's own key is there: a bucket that
	// cannot be written for a while (its stream electing a leader)
	// expires nobody.
	absent := map[string]time.Time{}
	for {
		select {
		case <-n.done:
			return
		case <-t.C:
		}
		m.mu.Lock()
		leading := m.svc != nil
		m.mu.Unlock()
		if !leading {
			return
		}
		bound := n.ledger.BoundNodes()
		delete(bound, self)
		if len(bound) == 0 {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*presenceEvery)
		present, err := m.presence.present(ctx)
		cancel()
		if err != nil || !present[self] {
			clear(absent) // the bucket is not there or not readable now
			continue
		}
		now := time.Now()
		for node, leases := range bound {
			if present[node] {
				delete(absent, node)
				continue
			}
			if since, ok := absent[node]; !ok {
				absent[node] = now
				continue
			} else if now.Sub(since) < presenceTTL {
				continue
			}
			delete(absent, node)
			n.log.Warn("a node left the cluster: ending the leases bound to its connections", "node", node, "leases", leases)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := n.ledger.ReleaseBoundOn(ctx, node, "", time.Now()); err != nil {
				n.log.Error("leases bound to a departed node's connections not released", "node", node, "error", err)
			}
			cancel()
		}
	}
}
