// Package cli is the licensegw command: the daemon (serve) and the
// administration and client sub-commands. cmd/licensegw's main only calls
// Main, so the commands are testable in-process and as the built binary.
package cli
