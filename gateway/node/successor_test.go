package node

import (
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/config"
)

// TestSuccessorReady: a leader hands over only when another node stands
// by (its presence says so), or says nothing of its role (an older
// version), or when presence is not known at all; never to nodes that are
// starting (their election has not begun: nobody would take the lease)
// or leaving, nor to itself.
func TestSuccessorReady(t *testing.T) {
	tests := []struct {
		name  string
		peers map[string]string // node -> role ("-": written too long ago)
		want  bool
	}{
		{"presence unknown", nil, true},
		{"a standby", map[string]string{"gw-1": roleLeader, "gw-2": roleStandby, "gw-3": roleStarting}, true},
		{"an older version", map[string]string{"gw-1": roleLeader, "gw-2": ""}, true},
		{"only starting", map[string]string{"gw-1": roleLeader, "gw-2": roleStarting, "gw-3": roleStarting}, false},
		{"only leaving", map[string]string{"gw-1": roleLeader, "gw-2": roleLeaving}, false},
		{"only itself", map[string]string{"gw-1": roleLeader}, false},
		{"a standby gone quiet", map[string]string{"gw-1": roleLeader, "gw-2": "-", "gw-3": roleStarting}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &presence{node: "gw-1", peers: map[string]seenPresence{}}
			for name, role := range tt.peers {
				at := time.Now()
				if role == "-" {
					role, at = roleStandby, at.Add(-2*presenceTTL)
				}
				p.peers[name] = seenPresence{nodePresence: nodePresence{Node: name, Role: role}, at: at}
			}
			n := &Node{cfg: &config.Config{Gateway: config.Gateway{Name: "gw-1"}}, member: &member{presence: p}}
			if got := n.successorReady(); got != tt.want {
				t.Errorf("successorReady = %v, want %v", got, tt.want)
			}
		})
	}
}
