// Package forward carries a cluster follower's seat calls to the leader
// over NATS request/reply, so that every node's plugins serve clients while
// one node decides.
//
// The leader runs a Service: it subscribes to <prefix>.engine.<op> (only
// the leader does, on its in-process connection) and hands each request to
// its ledger. Every node's plugins call a Forwarder's sdk.Seats, which sends
// the request to whichever node leads and waits for its answer. While no
// node leads (an election after the leader died) a request meets "no
// responders" at once; the Forwarder retries with backoff for a bounded
// time (Config.Retry, 6 s by default) and then answers sdk.ErrUnavailable,
// which every plugin turns into its protocol's "unavailable, retry".
//
// Retries are safe. Every forwarded checkout carries a RequestKey (the
// client's own, or one the Forwarder makes), so a checkout retried across
// a failover finds the lease the old leader journaled instead of taking
// more seats; a checkin or remove retried after an attempt that may have
// been applied counts a lease the leader no longer knows as done.
//
// Queued checkouts: the follower registers a waiter before it asks, the
// leader sends each progress update of the ticket to
// <prefix>.nodes.<node>.tickets (request/reply, retried), and the waiter
// delivers it on the plugin's Updates channel. A ticket's waiter ends with
// reason "restart" when the leader that queued it is replaced: a new
// leader dequeues every ticket it replays.
//
// The leader's own plugins take a shortcut: while the node leads
// (Forwarder.Lead), their calls go straight to its ledger, asynchronous
// checkouts and checkins included, as on a single node. Whether it still
// leads is asked before every call. A call the ledger answers
// "unavailable" (it closed under the call at a step-down, or could not
// journal) goes on to the leader as a retry, with the same RequestKey, so
// no answer ever comes from a ledger that no longer leads.
package forward
