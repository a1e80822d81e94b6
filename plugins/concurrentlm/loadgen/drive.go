package loadgen

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// A Cycler is one load client of some protocol (the FlexLM-style and
// Sentinel-style generators use Drive with their own).
type Cycler interface {
	// Cycle runs one round of requests, adding each answered request's
	// latency and any denial or bad answer to t. It returns an error only
	// when the client cannot go on (a broken connection, no answer).
	Cycle(t *Tally) error
	// Interrupt makes a Cycle in progress return soon (the run is over).
	Interrupt()
	Close() error
}

// Tally is what one client's cycles added up to.
type Tally struct {
	Lat    []time.Duration // the latency of every answered request
	Denied int64           // checkouts denied
	Errors int64           // error answers, unexpected answers, lost requests
	// Retransmits counts requests sent again for want of an answer
	// (datagram protocols).
	Retransmits int64
}

// Drive runs o.Clients clients made by dial, cycling for o.Duration (or
// o.Cycles cycles each), and reports the run as name. A client whose
// Cycle fails is counted as an error and dialled again.
func Drive(ctx context.Context, name string, o Options, dial func(n int) (Cycler, error)) (Report, error) {
	o.defaults()
	ctx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()
	clients := make([]Cycler, o.Clients)
	tallies := make([]Tally, o.Clients)
	for i := range clients {
		c, err := dial(i)
		if err != nil {
			for _, c := range clients[:i] {
				c.Close()
			}
			return Report{}, fmt.Errorf("loadgen: %s: %w", name, err)
		}
		clients[i] = c
		tallies[i].Lat = make([]time.Duration, 0, 1<<14)
	}
	var mu sync.Mutex // guards clients[i] replacement against Interrupt
	begin := time.Now()
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			t := &tallies[i]
			for n := 0; ctx.Err() == nil && (o.Cycles == 0 || n < o.Cycles); n++ {
				mu.Lock()
				c := clients[i]
				mu.Unlock()
				if err := c.Cycle(t); err != nil {
					if ctx.Err() != nil {
						break // the deadline broke the request off
					}
					t.Errors++
					c.Close()
					next, err := dial(i)
					if err != nil {
						time.Sleep(10 * time.Millisecond)
						continue
					}
					mu.Lock()
					clients[i] = next
					mu.Unlock()
				}
			}
		})
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-ctx.Done():
		mu.Lock()
		for _, c := range clients {
			c.Interrupt()
		}
		mu.Unlock()
	case <-finished:
	}
	wg.Wait()
	elapsed := time.Since(begin)
	for _, c := range clients {
		c.Close()
	}

	r := Report{Name: name, Clients: o.Clients, Elapsed: elapsed}
	var all []time.Duration
	for _, t := range tallies {
		all = append(all, t.Lat...)
		r.Denied += t.Denied
		r.Errors += t.Errors
		r.Retransmits += t.Retransmits
	}
	slices.Sort(all)
	r.setSamples(all)
	if r.Ops == 0 {
		return r, fmt.Errorf("loadgen: %s: no request was answered (%d errors)", name, r.Errors)
	}
	return r, nil
}
