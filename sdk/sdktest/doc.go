// Package sdktest helps a plugin author test a licensegw protocol plugin
// without a gateway.
//
//   - NewSeats is an in-memory sdk.Seats: real seat counting, FIFO queues,
//     lazy TTL expiry on an injectable clock, Ed25519 signing. It is correct
//     but deliberately simple; the real accounting engine lives in the
//     gateway.
//   - Run binds a plugin's listeners on 127.0.0.1 random ports, runs its
//     Serve with a Seats of the test's choosing and cancels it on cleanup.
//   - Conformance checks the contract every plugin must keep: a valid Info,
//     a Serve that returns promptly on cancellation and closes its sockets,
//     and no crash when the gateway is unavailable.
package sdktest
