package node

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/seats"
	"github.com/licensegw/licensegw/gateway/ui"
)

// UIHandler serves the web dashboard (admin API, /ui/).
func (n *Node) UIHandler() http.Handler { return ui.Handler(uiSource{n}, n.log.Named("ui")) }

// uiSource is the dashboard's view of the node.
type uiSource struct{ n *Node }

// liveBuffer is how many messages a slow dashboard may fall behind before
// its stream is closed (the page reconnects and reloads the status).
const liveBuffer = 4096

// Subscribe relays the journal's subjects as they are published.
func (s uiSource) Subscribe(ctx context.Context) (<-chan ui.Message, error) {
	prefix := s.n.journal.Prefix()
	// A connection of its own: the journal's is redialled when it fails,
	// and a slow page must not hold up the gateway's publishes.
	nc, err := s.n.dial(nats.Name("licensegw ui"))
	if err != nil {
		return nil, fmt.Errorf("live events: %w", err)
	}
	out := make(chan ui.Message, liveBuffer)
	ctx, cancel := context.WithCancel(ctx)
	var subs []*nats.Subscription
	handle := func(m *nats.Msg) {
		select {
		case out <- ui.Message{Subject: m.Subject, Data: m.Data}:
		default:
			cancel() // too slow: end the stream rather than show a wrong page
		}
	}
	for _, subj := range append(events.StreamSubjects(prefix), events.LifecycleSubjects(prefix)...) {
		sub, err := nc.Subscribe(subj, handle)
		if err != nil {
			cancel()
			nc.Close()
			return nil, fmt.Errorf("subscribe %s: %w", subj, err)
		}
		subs = append(subs, sub)
	}
	if err := nc.Flush(); err != nil {
		cancel()
		nc.Close()
		return nil, err
	}
	live := make(chan ui.Message)
	go func() {
		defer close(live)
		defer nc.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case m := <-out:
				select {
				case live <- m:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return live, nil
}

// Usage replays the journal for feature's seats in use (all vendors and
// versions of that name) over [since, until) in n buckets.
func (s uiSource) Usage(ctx context.Context, feature string, since, until time.Time, n int) ([]int, int, error) {
	if n <= 0 || !until.After(since) {
		return nil, 0, errors.New("empty range")
	}
	width := until.Sub(since) / time.Duration(n)
	peaks := make([]int, n)
	levels := map[seats.PoolKey]int{}
	level, last := 0, -1 // last: the bucket the level was last carried into
	seen := false
	carry := func(to int) {
		for b := max(last+1, 0); b <= min(to, n-1); b++ {
			peaks[b] = max(peaks[b], level)
		}
		last = max(last, min(to, n-1))
	}
	_, err := s.n.journal.Scan(ctx, 0, func(ev *events.Event) error {
		if ev.Feature != feature || ev.Time.After(until) {
			return nil
		}
		seen = true
		b := -1
		if !ev.Time.Before(since) {
			b = min(int(ev.Time.Sub(since)/width), n-1)
		}
		carry(b - 1)
		k := seats.PoolKey{Vendor: ev.Vendor, Name: ev.Feature, Version: ev.Version}
		level += ev.InUse - levels[k]
		levels[k] = ev.InUse
		if b >= 0 {
			carry(b)
			peaks[b] = max(peaks[b], level)
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	carry(n - 1)
	total := 0
	pools := s.n.ledger.StatusOf(func(k seats.PoolKey) bool { return k.Name == feature }, false)
	for _, ps := range pools {
		total += ps.Feature.Seats
	}
	if len(pools) == 0 && !seen {
		return nil, 0, fmt.Errorf("%w: %s", ui.ErrNoFeature, feature)
	}
	return peaks, total, nil
}
