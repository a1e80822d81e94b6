// Package golden compares what a test produced with a file kept under
// testdata, and rewrites the file when the test runs with -update (each
// test package declares its own -update flag and passes its value, so this
// package keeps no state).
package golden
