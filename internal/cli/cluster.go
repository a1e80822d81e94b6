package cli

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/licensegw/licensegw/gateway/admin"
)

// writeCluster prints a clustered gateway's place in its cluster.
func writeCluster(w io.Writer, c *admin.ClusterStatus) {
	role := "following (forwarding to the leader)"
	if c.Leading {
		role = "leading"
	}
	leader := c.Leader
	if leader == "" {
		leader = "none"
	}
	fmt.Fprintf(w, "Cluster %s: node %s %s; leader %s, term %d", c.Name, c.Node, role, leader, c.Term)
	if !c.Quorum {
		fmt.Fprint(w, "; NO QUORUM (nothing can be journaled; no grants)")
	}
	fmt.Fprintln(w)
	if c.ConfigMismatch {
		fmt.Fprintf(w, "CONFIGURATION MISMATCH: this node's features and policies (%s) differ from the leader's (%s); the leader's decide while it leads\n",
			c.ConfigHash, c.LeaderConfigHash)
	}
	if c.Unavailable != "" {
		fmt.Fprintf(w, "UNAVAILABLE: clients are answered \"unavailable, retry\": %s\n", c.Unavailable)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tSTATE\tLAST SEEN\t")
	for _, n := range c.Nodes {
		seen := fmt.Sprintf("%.1fs ago", n.LastSeen)
		if n.Name == c.Node {
			seen = "(this node)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t\n", n.Name, n.State, seen)
	}
	tw.Flush()
	fmt.Fprintln(w)
}
