// Package loadgen measures a keygen-relay node API server under load: N
// clients, each its own node, loop claim (PUT, expecting 201) -> release
// (DELETE, expecting 204) over keep-alive HTTP for a fixed time while every
// request's latency is recorded. Echo is a trivial net/http handler that
// answers the same routes with bodies of the same size and no accounting;
// Compare runs the same clients against it and then against the server,
// so the ratio of the two survives a noisy machine. `make bench` runs it
// against a real gateway (internal/e2e/vendors, TestRelayBench). Every run
// ends by itself after Options.Duration.
package loadgen
