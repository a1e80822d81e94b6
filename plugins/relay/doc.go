// Package relay is licensegw's keygen-relay plugin: keygen-relay's node API
// over HTTP (port 6349 by default), so applications integrated with
// keygen-relay claim seats from licensegw unchanged (docs/relay.md).
//
//	PUT    /v1/nodes/{fingerprint}  claim: 201 new lease, 202 lease extended (the heartbeat), 410 none free
//	DELETE /v1/nodes/{fingerprint}  release: 204, 404 when the node holds nothing
//	GET    /v1/health               200
//
// The plugin translates; the gateway's accounting decides. A pool (the
// Relay-Pool header, or the configured default) is a feature; a claim is a
// Seats.Checkout whose user is the fingerprint and whose request key is
// derived from it, so a retried PUT finds the lease it was granted instead
// of taking a second seat; a repeated PUT is a Seats.Heartbeat, and a
// DELETE a Seats.Checkin. The lease TTL is the feature's lease_ttl.
//
// Seats may be plain or backed by Keygen licence files (package
// keygenfile): each file is verified with the vendor's Ed25519 key and
// decrypted with its licence key when the plugin starts (and the directory
// reread when it changes), files that cannot be served are logged by name, and every claim returns the file assigned
// to its lease, chosen fifo, lifo or rand. The checkout's display field
// carries the licence id, so the journal records which node got which file
// and a restarted plugin finds its nodes' files again from the gateway's
// leases. (The files are loaded by the plugin itself; when plugins gain
// the importer capability, the feature's seat count will come from them.)
//
// The plugin's own state is the table of nodes (fingerprint -> lease and
// file) and the free files of each pool. Requests of one node are
// serialized; different nodes never wait for each other.
//
// Sub-packages: keygenfile (licence files), client (Go client library),
// conformance (the node API's documented behaviour as a test suite),
// loadgen (make bench).
package relay
