// Package loadgen measures a concurrent-lm gateway under load: N TCP
// clients each loop CHECKOUT -> HEARTBEAT -> CHECKIN for a fixed time while
// every request's latency is recorded. Echo runs the same clients against
// an in-process line echo server with lines of the same sizes, which gives
// the floor that the network stack and the client loop alone impose;
// Compare runs both and reports the ratio. The lead's CLI exposes it as
// `licensegw bench`. Every run ends by itself after Options.Duration.
package loadgen
