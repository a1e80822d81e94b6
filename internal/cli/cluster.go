package cli

import (
	"fmt"
	"io"
	"strings"
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
	var differ []string
	for _, n := range c.Nodes {
		if n.ConfigMismatch && n.Name != c.Node {
			differ = append(differ, n.Name)
		}
	}
	if len(differ) > 0 {
		fmt.Fprintf(w, "CONFIGURATION MISMATCH: the features and policies of %s differ from the leader's (%s)\n",
			strings.Join(differ, ", "), c.LeaderConfigHash)
	}
	if c.Unavailable != "" {
		fmt.Fprintf(w, "UNAVAILABLE: clients are answered \"unavailable, retry\": %s\n", c.Unavailable)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tSTATE\tLAST SEEN\tVERSION\tCONFIG\tROLE\t")
	for _, n := range c.Nodes {
		seen := fmt.Sprintf("%.1fs ago", n.LastSeen)
		switch {
		case n.Name == c.Node:
			seen = "(this node)"
		case n.State == "present":
			seen = "-" // known from the presence bucket only
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", n.Name, n.State, seen, orDash(n.Version), nodeConfig(c, &n), orDash(n.Role))
	}
	tw.Flush()
	fmt.Fprintln(w)
}

// nodeConfig is a node's configuration hash, marked when it is the
// leader's or differs from it.
func nodeConfig(c *admin.ClusterStatus, n *admin.ClusterNode) string {
	switch {
	case n.ConfigHash == "":
		return "-"
	case n.ConfigMismatch:
		return n.ConfigHash + " MISMATCH (differs from the leader's)"
	case n.Name == c.Leader:
		return n.ConfigHash + " (leader)"
	}
	return n.ConfigHash
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
