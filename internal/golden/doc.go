// Package golden compares what a test produced with a file kept under
// testdata.
//
// A golden file cannot be regenerated blindly. Each test package declares
// two flags and passes their values (so this package keeps no state):
// -update alone shows, for every file that differs, the diff and refuses to
// write it, failing the test; -update -accept rewrites the files that
// differ and still fails, printing each diff, so that a run which rewrote a
// golden file never passes and the change is reviewed before it is
// committed. A golden test should also assert directly the few facts that
// matter (counts, totals), so that a wrong golden file accepted by mistake
// is still caught.
package golden
