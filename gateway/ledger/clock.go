package ledger

import (
	"context"
	"time"
)

// maxSleep bounds how long the clock sleeps without looking at the engine.
const maxSleep = time.Minute

// clock runs the engine's timed work (lease expiry, borrow ends, queue
// timeouts) when the engine's next deadline comes.
func (l *Ledger) clock() {
	defer l.wg.Done()
	timer := time.NewTimer(maxSleep)
	defer timer.Stop()
	for {
		l.mu.Lock()
		now := l.now()
		next := l.eng.NextDeadline()
		if next.IsZero() || next.Sub(now) > maxSleep {
			next = now.Add(maxSleep)
		}
		if l.denials.pending() {
			// The summary of suppressed denials is due.
			if due := l.denials.window.Add(denialWindow); due.Before(next) {
				next = due
			}
		}
		l.scheduled = next
		l.mu.Unlock()

		timer.Reset(max(next.Sub(now), 0))
		select {
		case <-l.done:
			return
		case <-l.wake:
			if !timer.Stop() {
				<-timer.C
			}
			continue
		case <-timer.C:
		}
		l.tick()
	}
}

func (l *Ledger) tick() {
	l.mu.Lock()
	evs := l.eng.Tick(l.now(), l.scratch[:0])
	start := time.Now()
	c, deliveries := l.commitLocked(evs, nil)
	l.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), l.opts.Wait)
	defer cancel()
	if err := l.wait(ctx, c, deliveries, start); err != nil {
		l.log.Error("journal did not acknowledge timed events", "error", err)
	}
}
