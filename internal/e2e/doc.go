// Package e2e holds the end-to-end tests of licensegw: they build the real
// binaries (the licensegw daemon and CLI, the concurrent-lm plugin), start
// gateways as subprocesses on free ports, and drive them the way users and
// administrators do: CLM/1 lines over real TCP and UDP sockets, the admin
// API, the CLI, and the JetStream event stream read with nats.go.
//
// The package has no non-test code; run it with
//
//	go test -count=1 ./internal/e2e/
package e2e
