// Package client is a Go client of the concurrent-lm (CLM/1) protocol for
// applications that take floating licences from a licensegw gateway.
//
//	c, err := client.Dial(ctx, "licenses.example.com:1648", client.Options{PublicKey: pinned})
//	lease, err := c.Checkout(ctx, client.CheckoutOptions{Feature: "cad_pro"})
//	defer lease.Checkin(context.Background())
//	<-lease.Done() // closed if the seat is lost
//
// A Lease heartbeats itself every TTL/3 for as long as it is held. The
// Client reconnects by itself: a lease is not bound to a connection, so the
// heartbeat loop simply carries on over the new one. With Options.PublicKey
// set, every grant must carry a valid Ed25519 signature over the client's
// own random nonce, which tells the real gateway from an impostor.
package client
