package relay

import (
	"hash/maphash"
	"sync"
	"time"
)

// node is a fingerprint holding a lease. Its mutex serializes the requests
// of one node (a PUT racing its own retry or DELETE), so that each decides
// against the outcome of the one before; requests of different nodes never
// wait for each other.
type node struct {
	mu      sync.Mutex
	fp      string
	gone    bool // removed from the table; a request that locked it retries
	pool    string
	lease   string    // "" until a claim is granted
	lic     *licence  // nil in a pool of plain seats
	expires time.Time // the lease's expiry as the gateway last reported it
}

// nodeTable maps fingerprints to nodes, sharded so that concurrent nodes
// do not contend on one mutex.
type nodeTable struct {
	seed   maphash.Seed
	shards [64]nodeShard
}

type nodeShard struct {
	mu sync.Mutex
	m  map[string]*node
}

func newNodeTable() *nodeTable {
	t := &nodeTable{seed: maphash.MakeSeed()}
	for i := range t.shards {
		t.shards[i].m = map[string]*node{}
	}
	return t
}

func (t *nodeTable) shard(fp string) *nodeShard {
	return &t.shards[maphash.String(t.seed, fp)%uint64(len(t.shards))]
}

// lock returns fp's node locked, creating an empty one when create is set;
// nil when there is none and create is not set.
func (t *nodeTable) lock(fp string, create bool) *node {
	sh := t.shard(fp)
	for {
		sh.mu.Lock()
		n, ok := sh.m[fp]
		if !ok {
			if !create {
				sh.mu.Unlock()
				return nil
			}
			n = &node{fp: fp}
			sh.m[fp] = n
		}
		sh.mu.Unlock()
		n.mu.Lock()
		if !n.gone {
			return n
		}
		n.mu.Unlock() // removed while we waited: look again
	}
}

// drop removes n, which the caller holds locked, and unlocks it.
func (t *nodeTable) drop(n *node) {
	sh := t.shard(n.fp)
	sh.mu.Lock()
	if sh.m[n.fp] == n {
		delete(sh.m, n.fp)
	}
	sh.mu.Unlock()
	n.gone = true
	n.mu.Unlock()
}

// expired lists the fingerprints of nodes whose lease expired before t.
func (t *nodeTable) expired(before time.Time) []string {
	var out []string
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		nodes := make([]*node, 0, len(sh.m))
		for _, n := range sh.m {
			nodes = append(nodes, n)
		}
		sh.mu.Unlock()
		for _, n := range nodes {
			if n.mu.TryLock() { // a node busy with a request is not idle
				if !n.gone && n.lease != "" && n.expires.Before(before) {
					out = append(out, n.fp)
				}
				n.mu.Unlock()
			}
		}
	}
	return out
}

// count is the number of nodes in the table.
func (t *nodeTable) count() int {
	c := 0
	for i := range t.shards {
		t.shards[i].mu.Lock()
		c += len(t.shards[i].m)
		t.shards[i].mu.Unlock()
	}
	return c
}
