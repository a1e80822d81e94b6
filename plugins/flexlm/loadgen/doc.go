// Package loadgen loads a FlexLM-style vendor daemon with CHECKOUT ->
// HEARTBEAT -> CHECKIN cycles of raw frames from many clients, and a raw
// TCP echo server with frames of the same sizes, for `licensegw bench`:
// the same closed loop as the concurrent-lm generator
// (plugins/concurrentlm/loadgen), whose Options and Report it shares.
//
// The clients speak the wire format directly rather than through
// plugins/flexlm/client, whose heartbeat goroutine per licence and reader
// goroutine per connection would be charged to the load generator's CPU;
// every answer is still decoded and checked.
package loadgen
