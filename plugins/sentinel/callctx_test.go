package sentinel

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A worker's call context ends each call at its deadline, starts the next
// one afresh, and ends with the server's context.
func TestCallContext(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := newCallContext(parent)
	defer c.release()

	// A call that outlives its deadline sees it pass.
	c.begin(20 * time.Millisecond)
	if d, ok := c.Deadline(); !ok || time.Until(d) > 20*time.Millisecond {
		t.Fatalf("deadline %v, %v", d, ok)
	}
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the deadline did not end the call")
	}
	if !errors.Is(c.Err(), context.DeadlineExceeded) {
		t.Fatalf("err %v after the deadline", c.Err())
	}
	c.end()

	// The next call starts open, and a quick one stays so.
	for range 100 {
		c.begin(time.Hour)
		if c.Err() != nil {
			t.Fatalf("a new call starts with %v", c.Err())
		}
		select {
		case <-c.Done():
			t.Fatal("a new call starts done")
		default:
		}
		c.end()
	}

	// The server's context ends the call in progress and every later one.
	c.begin(time.Hour)
	done := c.Done()
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the server's end did not end the call")
	}
	if !errors.Is(c.Err(), context.Canceled) {
		t.Fatalf("err %v after the server's end", c.Err())
	}
	c.end()
	c.begin(time.Hour)
	if !errors.Is(c.Err(), context.Canceled) {
		t.Fatalf("a call after the server's end: %v", c.Err())
	}
}
