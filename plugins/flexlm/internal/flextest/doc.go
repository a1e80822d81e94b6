// Package flextest runs the flexlm plugin on loopback ports for tests (on
// sdktest.Run), with the Seats of the test's choosing.
package flextest
