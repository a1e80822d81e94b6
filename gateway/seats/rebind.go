package seats

// rebind moves the bound lease l, which a keyed checkout asked again for
// (from c's connection, maybe through another node of a cluster), to that
// connection: the client gave up the old one (it broke, or its node froze
// or died) and holds the lease through the new one now. Without this, the
// end of the old connection, the old plugin's exit or the old node's
// departure would release the lease under the client (reason disconnect).
//
// The binding is soft state, like the expiry a heartbeat moves: no event
// says so (the event kinds are fixed by the contract). A snapshot carries
// it, and the ledger takes one right after a rebind; a node that takes
// over from events alone (the leader died within that moment) knows the
// lease's first connection, and the client's next keyed ask (a
// FlexLM-style client asks again after every reconnection) binds it again.
func (e *Engine) rebind(l *lease, c *Client) {
	if !l.Bound {
		return
	}
	// Only where the connection is held: the address stays the first
	// ask's, since policies (INTERNET) matched it when the seat was counted.
	l.Client.Node, l.Client.Plugin = c.Node, c.Plugin
}
