// Package retry is the one reconnection and retransmission policy of
// licensegw's client libraries (concurrent-lm, FlexLM-style,
// Sentinel-style): exponential backoff with full jitter, on
// github.com/cenkalti/backoff's schedule and retry loop.
//
// Full jitter (each pause uniform in [0, min(Max, Initial×2ⁿ)]) is what
// keeps the clients of a restarted gateway from reconnecting in the same
// instant: with a fixed schedule, or a jitter of a few percent, every
// client that lost its connection at the same moment comes back at the
// same moment, again and again.
package retry
