// Package client is the Go client library of the licensegw flexlm plugin.
//
// Dial asks the lmgrd port which port serves a vendor and connects there;
// Checkout returns a License that a background loop keeps alive with
// heartbeats until Checkin (or until the server says it is gone). The same
// Client answers lmutil's needs: ServerInfo, Status, Remove, Reread, Down.
//
//	c, err := client.Dial(ctx, "27000@gw-01", client.Options{Vendor: "acme"})
//	lic, err := c.Checkout(ctx, client.CheckoutRequest{Feature: "cad_pro", Wait: time.Minute})
//	defer lic.Checkin(ctx)
//
// # Server lists and failover
//
// Dial takes a licence search path as FlexLM's clients do: port@host, a
// redundant triad port@h1,port@h2,port@h3, licence files, several of those
// separated by ':' (';' on Windows); "" reads $VENDOR_LICENSE_FILE and
// $LM_LICENSE_FILE (ParseSearchPath, SearchPathFromEnv). The client uses
// one server at a time and moves to the next when the connection is
// refused or drops, when a CHECKOUT gets no answer within
// Options.RequestTimeout, when a CHECKOUT is answered "unavailable, retry"
// (ERROR -96, with Options.RetryUnavailable), and when heartbeats go
// unanswered for two thirds of a licence's TTL. Every ask of one Checkout,
// and every re-checkout after a reconnection, carries the checkout's
// request key, so that the gateway gives a lease it granted already
// again instead of more seats.
//
// # Reconnection
//
// As with FlexLM, licences belong to the vendor connection: the server
// gives them back when it closes, and the gateway when the plugin or the
// gateway restarts. So, like FlexLM's library, a Client survives a server
// restart or a network blip by itself. When the vendor connection drops it
// reconnects (to the next server of its list first), pausing
// Options.MinBackoff doubling to MaxBackoff (with full jitter) between
// attempts, and asks lmgrd for the vendor port again; then
// it checks out again, at once (no queueing), every licence it held: the
// same feature, minimum version and count for the same user, host and
// display. The License stays valid: Current reports its new handle and
// lease, and heartbeats go on. A re-checkout the server refuses (the seats
// were taken meanwhile) loses that License: Lost is closed and Err wraps
// ErrNotReacquired and the *DeniedError. A borrowed licence outlives
// connections on the server; it is only looked up again for its new
// handle.
//
// A Checkout interrupted by the drop (a queued wait included) asks again
// on the new connection: a queued wait queues again, at the back, for what
// is left of its Wait. Heartbeats pause while reconnecting.
//
// Reconnection ends, and the licences still held are lost with an error
// wrapping ErrClosed, when the client is closed, when the server stays
// unreachable for Options.GiveUpAfter (default five minutes), or when the
// vendor daemon says it was stopped by lmdown (ERROR -97). Set
// Options.NoReconnect to lose every licence as soon as the connection
// drops.
package client
