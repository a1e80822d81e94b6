package sentinel

import (
	"context"
	"sync"
	"time"
)

// callContext is a worker's context for its calls to the gateway: the
// server's context with a deadline that moves on with every call, so that
// a request costs no context and no timer of its own (context.WithTimeout
// allocates both). One timer per worker is reset for each call.
//
// Done closes when the deadline of the call in progress passes or when the
// server's context ends; after a call whose deadline passed, the next call
// gets a new channel. A timer run that comes late (its call was over and
// the next one started) finds the current deadline ahead and does nothing.
type callContext struct {
	parent context.Context
	timer  *time.Timer
	stop   func() bool // unregisters the parent's AfterFunc

	mu       sync.Mutex
	deadline time.Time
	done     chan struct{}
	err      error // why done is closed
	ended    bool  // the parent is done: every channel from now is closed
}

func newCallContext(parent context.Context) *callContext {
	c := &callContext{parent: parent, done: make(chan struct{})}
	c.timer = time.AfterFunc(time.Hour, c.expire)
	c.timer.Stop()
	c.stop = context.AfterFunc(parent, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.ended = true
		c.closeLocked(context.Cause(parent))
	})
	return c
}

// begin arms the context for a call that may take d.
func (c *callContext) begin(d time.Duration) {
	c.mu.Lock()
	c.deadline = time.Now().Add(d)
	c.renewLocked() // a timer run that came after end closed it
	c.mu.Unlock()
	c.timer.Reset(d)
}

// end disarms it after the call.
func (c *callContext) end() {
	c.timer.Stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.renewLocked()
}

// renewLocked replaces a channel closed by a deadline for the next call.
func (c *callContext) renewLocked() {
	if c.err != nil && !c.ended {
		c.done, c.err = make(chan struct{}), nil
	}
}

// release stops the timer and the parent's AfterFunc for good.
func (c *callContext) release() {
	c.timer.Stop()
	c.stop()
}

func (c *callContext) expire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Now().Before(c.deadline) {
		return // a late run for a call that is over
	}
	c.closeLocked(context.DeadlineExceeded)
}

func (c *callContext) closeLocked(err error) {
	if c.err == nil {
		c.err = err
		close(c.done)
	}
}

func (c *callContext) Deadline() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.deadline, true
}

func (c *callContext) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.done
}

func (c *callContext) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *callContext) Value(key any) any { return c.parent.Value(key) }
