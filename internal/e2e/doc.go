// Package e2e holds the end-to-end tests of licensegw: they build the real
// binaries (the licensegw daemon and CLI, the concurrent-lm plugin), start
// gateways as subprocesses on free ports, and drive them the way users and
// administrators do: CLM/1 lines over real TCP and UDP sockets, the admin
// API, the CLI, signals, SIGKILL of the plugin and of the gateway, and the
// JetStream event stream read with nats.go.
//
// The package has no non-test code. Run it with
//
//	go test -count=1 ./internal/e2e/
//
// TestMain builds the two binaries once from the module root. To test
// binaries built elsewhere (say, `make build` of a clean checkout while
// others edit the tree), name their directory in LICENSEGW_E2E_BIN:
//
//	LICENSEGW_E2E_BIN=$PWD/bin go test -count=1 ./internal/e2e/
//
// The harness is internal/e2etest (building, the daemon's process, the
// admin API, the event stream, the CLI); this package adds the gateway
// configured by feature blocks with the concurrent-lm plugin, and raw
// CLM/1 clients that write exactly the lines a test gives.
//
// Each gateway runs in its own process group in a t.TempDir(), with the
// admin API, NATS and the plugin on ports picked free at start, so tests
// run in parallel and beside other gateways on the default ports. A failed
// test prints the gateway's log.
package e2e
