// Package vendors holds end-to-end tests of licensegw's vendor-style
// plugins and tools: the real gateway daemon started by internal/e2etest
// with the flexlm, sentinel, concurrent-lm, relay and the example minimal
// plugin as real processes, driven by their client libraries and by the
// built lmutil, lsmon and licensegw commands. TestRelay runs the relay
// plugin's conformance suite (plugins/relay/conformance); TestRelayBench is
// `make bench`'s relay figure and runs only with RELAY_BENCH=1.
//
// The package has no non-test code; run it with
//
//	go test -count=1 ./internal/e2e/vendors/
//
// or, with binaries already built by `make build` (and
// examples/minimal-plugin built into the same directory):
//
//	LICENSEGW_E2E_BIN=$PWD/bin go test -count=1 ./internal/e2e/vendors/
//
// Tests that fail for a known, reported bug are skipped with the bug's
// description; LICENSEGW_E2E_KNOWN_BUGS=1 runs them to see whether it is
// fixed.
package vendors
