// Command mutate checks that the test suite can fail: it applies known bugs
// (mutations) one at a time to a temporary copy of the repository and
// requires the tests of the packages each bug touches to fail, then reports
// which tests caught it. A mutation no test catches, or one whose text is no
// longer in the source, fails the run.
//
// It is run by `make mutate` (go run ./internal/mutate); -only NAME runs one
// mutation, -list lists them. The copy is made from the files git knows
// (tracked and untracked, not ignored), so the working tree is never
// touched.
package main
