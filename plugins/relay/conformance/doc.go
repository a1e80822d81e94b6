// Package conformance is keygen-relay's node API as documented (README,
// v1.3), written as a test suite that runs against any server speaking it:
// licensegw's relay plugin behind a real gateway (internal/e2e/vendors), or
// keygen-relay itself.
//
//	func TestRelay(t *testing.T) {
//		conformance.Run(t, conformance.Target{URL: "http://127.0.0.1:6349", Seats: 3, TTL: time.Minute, Files: true})
//	}
//
// Every route and status is exercised: GET /v1/health (200); PUT
// /v1/nodes/{fingerprint} as a new claim (201 with license_file,
// license_key, expires_at, expires_in), as the heartbeat (202, the same
// file), with no seat free (410 "no licenses available"), concurrently for
// one node (one seat); DELETE (204 without a body, 404 for a node holding
// nothing); the Relay-Pool header (400 for a pool not served, 409/404
// across pools); Relay-Signature over every body; and a lease lost after
// its TTL. Errors must be JSON {"error": "..."}.
//
// The target's pool must be empty when the suite starts and used by
// nothing else while it runs: cases count free seats.
package conformance
