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
package client
