// Package natstest starts throw-away embedded NATS servers for tests of the
// packages that publish or consume events.
package natstest
