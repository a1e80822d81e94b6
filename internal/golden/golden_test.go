package golden

import (
	"path/filepath"
	"testing"
)

func TestCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "x.golden")
	Check(t, path, []byte("one\n"), true) // creates it
	Check(t, path, []byte("one\n"), false)

	var inner testing.T
	done := make(chan struct{})
	go func() { // Check calls Errorf, not FailNow, on a difference
		defer close(done)
		Check(&inner, path, []byte("two\n"), false)
	}()
	<-done
	if !inner.Failed() {
		t.Fatal("a difference did not fail the test")
	}
}
