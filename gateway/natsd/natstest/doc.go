// Package natstest starts throw-away embedded NATS servers for tests of the
// packages that publish or consume events.
//
// The servers authenticate like the gateway's: Server.Connect is the
// gateway's privileged in-process connection, and the network listener
// accepts only two test identities, FullAccess (a privileged connection
// over TCP, standing for a compromised broker or an operator's tool) and
// ReadOnly (the audit identity's permissions). Their seeds are constants of
// this package: public, for tests only.
package natstest
