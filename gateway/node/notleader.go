package node

import "fmt"

// notLeader says which node to ask instead, for changes a follower refuses.
func (n *Node) notLeader() error {
	cur := n.lead.el.Current()
	switch {
	case cur.Node == "":
		return fmt.Errorf("standing by: no node leads yet")
	case cur.Admin != "":
		return fmt.Errorf("standing by: %s leads (admin API %s)", cur.Node, cur.Admin)
	}
	return fmt.Errorf("standing by: %s leads", cur.Node)
}
