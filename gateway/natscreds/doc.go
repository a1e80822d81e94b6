// Package natscreds reads and writes the credentials NATS clients use to
// reach the gateway's NATS server: nkey seed files, the form both nats.go
// (nats.NkeyOptionFromSeed) and the nats CLI (--nkey) read, and which the
// embedded server checks by public key alone (a challenge signed with the
// seed; the secret never crosses the wire and the server stores nothing
// secret). JWT .creds files, for an existing NATS deployment run in
// operator mode, are recognised and handed to nats.go as they are.
//
// The gateway writes one seed file at first start, for the read-only audit
// identity, with mode 0600 in its data directory, as it does its admin
// token: the CLI and the example consumer run beside it find it there.
package natscreds
