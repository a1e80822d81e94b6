package admin

// ClusterStatus is a clustered gateway's place in its cluster: which node
// leads, in which term, and how each node's NATS server is doing as this
// node sees it.
type ClusterStatus struct {
	Name    string `json:"name"`    // the cluster's name
	Node    string `json:"node"`    // this node
	Leader  string `json:"leader"`  // the node that leads, "" while none does
	Term    uint64 `json:"term"`    // the leader's term (the lease's revision)
	Leading bool   `json:"leading"` // this node leads
	// Quorum is false while the NATS cluster has no meta leader: nothing
	// can be journaled, and no node answers clients.
	Quorum bool          `json:"quorum"`
	Nodes  []ClusterNode `json:"nodes"`
	// ConfigHash identifies this node's features and policies,
	// LeaderConfigHash the leader's; ConfigMismatch is true when they
	// differ (the leader's configuration decides while it leads).
	ConfigHash       string `json:"config_hash"`
	LeaderConfigHash string `json:"leader_config_hash,omitempty"`
	ConfigMismatch   bool   `json:"config_mismatch"`
	// Unavailable, when not empty, is why this node's plugins answer
	// clients "unavailable, retry" now (no leader, no quorum, the leader
	// does not answer); a follower's features are then not shown.
	Unavailable string `json:"unavailable,omitempty"`
}

// ClusterNode is one node's health and configuration.
type ClusterNode struct {
	Name string `json:"name"`
	// State is "ok" (seen recently, caught up), "lagging" or "offline".
	State    string  `json:"state"`
	LastSeen float64 `json:"last_seen_seconds"` // since this node heard from it; 0 for itself
	// Version and ConfigHash are what the node last wrote in the
	// presence bucket ("" when it has not); ConfigMismatch is true when
	// its features and policies differ from the leader's.
	Version        string `json:"version,omitempty"`
	ConfigHash     string `json:"config_hash,omitempty"`
	ConfigMismatch bool   `json:"config_mismatch,omitempty"`
	// Role is the node's part in the election, as it last wrote it in
	// the presence bucket: "leader"; "standby" (it takes the lease over
	// when the leader releases it); "starting" (its election has not
	// begun: the lease bucket is not open to it yet); "leaving" (it is
	// handing over to stop). "" when it has not said (older versions).
	Role string `json:"role,omitempty"`
}
