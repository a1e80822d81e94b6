// Package natsd runs the gateway's embedded NATS server: an in-process
// nats-server with JetStream storing its streams under the gateway's data
// directory (DESIGN decision 3).
//
// The gateway talks to it over an in-process connection (no TCP round trip on
// the commit path); audit consumers and dashboards reach the same server on
// its client port, 127.0.0.1:4222 by default. Server logs are routed into the
// gateway's hclog logger so that one log stream tells the whole story.
package natsd
