// Package node runs one gateway node: it loads the configuration, starts the
// embedded NATS server (or connects to the configured one), opens the
// journal, rebuilds the ledger, launches the protocol plugins and serves the
// admin API, and takes it all down again in the reverse order.
package node
