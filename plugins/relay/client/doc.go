// Package client is a Go client of keygen-relay's node API, as licensegw's
// relay plugin and keygen-relay itself serve it: Claim (PUT, also the
// heartbeat), Release (DELETE) and Health, with the Relay-Pool header and,
// when a signing secret is shared, verification of every answer's
// Relay-Signature.
//
//	c := client.New("http://licenses:6349", client.Options{Pool: "cad"})
//	cl, err := c.Claim(ctx, fingerprint) // cl.Created: new lease; cl.LicenseFile: the .lic text
//	...
//	err = c.Release(ctx, fingerprint)
package client
