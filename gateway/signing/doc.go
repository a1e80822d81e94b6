// Package signing keeps the gateway's grant-signing key: an Ed25519 key made
// at first start and kept in the data directory, so that clients that pinned
// its public key keep trusting the gateway across restarts.
package signing
