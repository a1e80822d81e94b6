// Package metrics is the gateway's Prometheus instrumentation, served on the
// admin listener at /metrics.
//
// Two kinds of figures, gathered two ways:
//
//   - What happened (checkouts, denials by reason, hold times, queue waits,
//     journal append latency) is counted as it happens: the ledger hands
//     every batch of events it commits to Metrics.Committed and every
//     journal acknowledgement to Metrics.Acknowledged. Counting is done
//     with the ledger's lock held, so it is a few atomic additions per
//     event and never I/O.
//   - What is (seats per pool, in use, queued, reserved, borrowed, seconds
//     until expiry, plugin up and restarts, and each plugin's own counters
//     reported over the plugin protocol) is read at scrape time from the
//     ledger's and the plugin host's status, so a scrape always agrees with
//     `licensegw status`.
//
// Names follow the Prometheus conventions: the licensegw_ prefix, base units
// (seconds), _total for counters. docs/metrics.md lists every one.
package metrics
