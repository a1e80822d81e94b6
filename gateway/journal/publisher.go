package journal

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const (
	// maxBurst bounds how many events one burst carries, and maxInflight
	// how many bursts await their acks at once.
	maxBurst    = 1024
	maxInflight = 4
	// ackTimeout fails a burst whose answers do not all come (server gone
	// without the connection noticing, answers lost on a reconnect), so
	// that the publisher retries instead of waiting forever.
	ackTimeout = 2 * time.Second
	// Backoff between retries of a failed burst.
	minBackoff = 20 * time.Millisecond
	maxBackoff = 2 * time.Second
)

// pending is one queued event: the commit it belongs to and its index there.
// msg is built on the first attempt and sent unchanged on every retry, with
// the same Nats-Msg-Id.
type pending struct {
	commit *Commit
	index  int
	msg    *nats.Msg

	unencodable bool // msg could not be built; see encode
}

// publish is the publisher goroutine: it sends bursts of queued events and
// completes their commits, in queue order, until Close.
//
// Up to maxInflight bursts are on the wire at once, so that the server
// stores one burst while the commits of the previous one complete and the
// next one gathers. The stream's order is kept by chaining: every event
// sent while others are unacknowledged carries Nats-Expected-Last-Msg-Id,
// the id of the event sent before it, so the stream stores it only right
// after that one. When a publish fails, every later event is rejected too
// (or was stored in order anyway, and comes back as a duplicate), and the
// publisher sends them all again from the failed one, in order.
func (j *Journal) publish() {
	defer close(j.stopped)
	defer func() { j.link.Load().close() }()
	var (
		inflight []*burst  // sent, oldest first
		retry    []pending // to send again, before anything queued
		lastSent string    // id of the last event sent
		backoff  = minBackoff
		timer    = time.NewTimer(time.Hour)
	)
	defer timer.Stop()
	for {
		if len(inflight) < maxInflight {
			if items := j.next(&retry); len(items) > 0 {
				prev := lastSent
				if len(inflight) == 0 {
					prev = "" // everything sent before is acknowledged
				}
				b, last := j.send(items, prev)
				lastSent = last
				inflight = append(inflight, b)
				continue
			}
		}

		if len(inflight) == 0 {
			if j.link.Load().nc.IsClosed() && !j.redial() {
				// Nothing to publish, but Ready says "not ready"
				// until the connection is back.
				if !j.sleep(timer, &backoff) {
					j.abandon(nil, nil)
					return
				}
				continue
			}
			select {
			case <-j.wake:
			case <-j.abort:
				j.abandon(nil, nil)
				return
			case <-j.drain:
				if j.queueEmpty() {
					return // closing is set: nothing more comes
				}
			}
			continue
		}

		head := inflight[0]
		var more <-chan struct{}
		if len(inflight) < maxInflight {
			more = j.wake // room for another burst: take new events
		}
		timer.Reset(time.Until(head.deadline))
		select {
		case <-head.done:
		case <-timer.C:
		case <-more:
			continue
		case <-j.abort:
			j.abandon(unsent(inflight, nil), nil)
			return
		}

		failed, err := j.complete(head)
		inflight = inflight[1:]
		if err == nil {
			backoff = minBackoff
			j.recovered()
			continue
		}
		// Everything from the failure on goes again, in order, and the
		// first of it unconditionally: nothing before it is pending.
		for _, b := range inflight {
			b.acks.forget(b)
		}
		retry = unsent(inflight, head.items[failed:])
		inflight = nil
		if errors.Is(err, ErrClosed) {
			j.abandon(retry, nil)
			return
		}
		if isWrongLastMsgID(err) {
			// Another writer's message came between two of ours:
			// no reason to wait.
			continue
		}
		j.failing()
		for i := range retry {
			retry[i].commit.failedAttempt(err)
		}
		j.cfg.Log.Warn("publishing events failed; retrying", "events", len(retry), "backoff", backoff, "error", err)
		if !j.sleep(timer, &backoff) || !j.redialUntilAbort(timer, &backoff) {
			j.abandon(retry, err)
			return
		}
	}
}

// sleep waits for the backoff and doubles it; false if Close gave up first.
func (j *Journal) sleep(timer *time.Timer, backoff *time.Duration) bool {
	timer.Reset(*backoff)
	select {
	case <-timer.C:
		*backoff = min(2**backoff, maxBackoff)
		return true
	case <-j.abort:
		return false
	}
}

// redialUntilAbort reopens a connection closed for good, retrying with
// backoff; false if Close gave up first. A connection that is only
// reconnecting by itself is left to do so.
func (j *Journal) redialUntilAbort(timer *time.Timer, backoff *time.Duration) bool {
	for !j.redial() {
		if !j.sleep(timer, backoff) {
			return false
		}
	}
	return true
}

// unsent gathers first and the items of bursts, in order.
func unsent(bursts []*burst, first []pending) []pending {
	items := slices.Clone(first)
	for _, b := range bursts {
		items = append(items, b.items...)
	}
	return items
}

// next takes up to maxBurst events to send: retries first, then the queue.
func (j *Journal) next(retry *[]pending) []pending {
	n := min(maxBurst, len(*retry))
	items := (*retry)[:n:n]
	*retry = (*retry)[n:]
	j.mu.Lock()
	defer j.mu.Unlock()
	if k := min(maxBurst-len(items), len(j.queue)); k > 0 {
		// Copy out, so that the queue keeps its backing array and
		// Append (under the engine's lock) does not grow a new one.
		items = append(items, j.queue[:k]...)
		rest := copy(j.queue, j.queue[k:])
		clear(j.queue[rest:]) // drop references for the GC
		j.queue = j.queue[:rest]
	}
	return items
}

func (j *Journal) queueEmpty() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.queue) == 0
}

// send publishes items, chained after the event prev ("" for none), and
// returns their burst and the id of the last event sent. A publish the
// connection refuses ends the burst early: the burst then fails there once
// the publishes before it are answered.
func (j *Journal) send(items []pending, prev string) (*burst, string) {
	l := j.link.Load()
	b := l.acks.start(items)
	sent := 0
	for i := range items {
		p := &items[i]
		if p.msg == nil && !p.unencodable {
			j.encode(p)
		}
		if p.unencodable {
			continue
		}
		if prev != "" {
			p.msg.Header[jetstream.ExpectedLastMsgIDHeader] = []string{prev}
		} else {
			delete(p.msg.Header, jetstream.ExpectedLastMsgIDHeader)
		}
		p.msg.Reply = l.acks.reply(b, i)
		if err := l.nc.PublishMsg(p.msg); err != nil {
			if errors.Is(err, nats.ErrMaxPayload) {
				// The server's limit is below events.MaxBytes:
				// retrying cannot help, and must not hold up
				// everything after it.
				p.unencodable = true
				p.commit.permErr = fmt.Errorf("journal: event %s: %w", p.commit.events[p.index].ID, err)
				continue
			}
			l.acks.refused(b, i, err)
			break
		}
		prev = p.commit.events[p.index].ID
		sent++
	}
	l.acks.arm(b, sent)
	return b, prev
}

// complete advances the commits of head's acknowledged events, up to the
// first failure, and returns its index and cause.
func (j *Journal) complete(head *burst) (failed int, err error) {
	results := head.acks.results(head)
	seqs := make([]uint64, len(results))
	for i, r := range results {
		if head.items[i].unencodable {
			continue
		}
		if r.err == nil && r.seq > 0 {
			seqs[i] = r.seq
			continue
		}
		err = r.err
		if err == nil {
			err = ErrAckTimeout
		} else if !errors.Is(err, ErrNoStream) {
			err = fmt.Errorf("journal: publish: %w", err)
		}
		select {
		case <-j.abort:
			err = ErrClosed
		default:
		}
		j.acknowledge(head.items[:i], seqs[:i])
		return i, err
	}
	j.acknowledge(head.items, seqs)
	return len(results), nil
}

// acknowledge advances the commits of events the stream has acknowledged
// (and of unencodable events, which count as done with an error).
func (j *Journal) acknowledge(done []pending, seqs []uint64) {
	for i, p := range done {
		if seqs[i] > j.lastSeq.Load() {
			j.lastSeq.Store(seqs[i]) // only the publisher stores
		}
		c := p.commit
		c.seq = max(c.seq, seqs[i])
		c.remaining--
		if c.remaining == 0 {
			c.finish(c.permErr)
		}
	}
}

// encode builds p's message. An event that cannot be encoded (which the
// engine's events never are) fails its commit instead of the journal.
func (j *Journal) encode(p *pending) {
	msg, err := j.message(p)
	if err != nil {
		p.unencodable = true
		p.commit.permErr = fmt.Errorf("journal: encode event %s: %w", p.commit.events[p.index].ID, err)
		return
	}
	p.msg = msg
}

// message encodes one event as a NATS message.
func (j *Journal) message(p *pending) (*nats.Msg, error) {
	ev := &p.commit.events[p.index]
	data, err := encodeBounded(ev)
	if err != nil {
		return nil, err
	}
	return &nats.Msg{
		Subject: ev.Subject(j.cfg.Prefix),
		Data:    data,
		Header:  nats.Header{jetstream.MsgIDHeader: []string{ev.ID}},
	}, nil
}

// abandon fails the commits of retry and of everything still queued: Close
// gave up on them.
func (j *Journal) abandon(retry []pending, last error) {
	j.mu.Lock()
	rest := append(retry, j.queue...)
	j.queue = nil
	j.mu.Unlock()
	err := ErrClosed
	if last != nil && !errors.Is(last, ErrClosed) {
		err = fmt.Errorf("%w (last attempt: %w)", ErrClosed, last)
	}
	for _, p := range rest {
		c := p.commit
		if c.remaining > 0 {
			c.remaining = 0
			c.finish(err)
		}
	}
}

// errCodeWrongLastMsgID is JetStream's error code for a publish whose
// Nats-Expected-Last-Msg-Id is not the stream's last message id.
const errCodeWrongLastMsgID jetstream.ErrorCode = 10070

func isWrongLastMsgID(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == errCodeWrongLastMsgID
}
