package journal

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
	"unsafe"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/licensegw/licensegw/gateway/events"
)

const (
	// maxBurst bounds how many events one burst carries, and maxInflight
	// how many bursts await their acks at once.
	maxBurst    = 1024
	maxInflight = 4
	// ackTimeout fails a burst whose answers do not all come (server gone
	// without the connection noticing, answers lost on a reconnect), so
	// that the publisher retries instead of waiting forever. It counts
	// from the burst's last publish or the last answer heard, whichever
	// is later (acks.deadline).
	ackTimeout = 2 * time.Second
	// maxAckTimeout bounds how far the ack timeout grows: it doubles
	// with every burst given up on in a row, as a retransmission timeout
	// does, so that a server starved of CPU for longer than ackTimeout is
	// not sent everything again every ackTimeout (the re-sends load it
	// more); a burst answered in full sets it back to ackTimeout.
	maxAckTimeout = 16 * time.Second
	// nudgePatience is the ack timeout after a Nudge (the stream's leader
	// moved), until the bursts then in flight are answered: a publish
	// the old leader dropped is sent again after this much silence.
	nudgePatience = 250 * time.Millisecond
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
	msg    *outMsg
	expect uint64 // the fence: the stream's last sequence before this event

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
		nudged   bool      // Nudge: the stream's leader moved while these were out
		retry    []pending // to send again, before anything queued
		backoff  = minBackoff
		patience = ackTimeout // the ack timeout now
		timer    = time.NewTimer(time.Hour)
	)
	defer timer.Stop()
	for {
		if len(inflight) < maxInflight {
			if items := j.next(&retry); len(items) > 0 {
				if !j.mayWrite() {
					// Revoked: what was sent may still be
					// acknowledged, nothing more goes.
					j.depose(ErrRevoked)
					j.abandon(unsent(inflight, items), ErrRevoked)
					return
				}
				inflight = append(inflight, j.send(items))
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
		wait := patience
		if nudged {
			wait = min(wait, nudgePatience)
		}
		timer.Reset(time.Until(head.acks.deadline(head, wait)))
		select {
		case <-head.done:
		case <-timer.C:
			if time.Now().Before(head.acks.deadline(head, wait)) {
				continue // answers still come: the server is slow, not gone
			}
		case <-more:
			continue
		case <-j.nudge:
			nudged = true
			continue // wait again, with the shorter patience
		case <-j.abort:
			j.abandon(unsent(inflight, nil), nil)
			return
		}

		failed, err := j.complete(head)
		inflight = inflight[1:]
		if err == nil {
			backoff, patience = minBackoff, ackTimeout
			j.recovered()
			if len(inflight) == 0 {
				nudged = false
			}
			continue
		}
		if nudged && errors.Is(err, ErrAckTimeout) {
			// The stream's leader moved (Nudge) and the stream has
			// been silent since: what is unanswered goes again now,
			// not after the ack timeout, and nothing failed (no
			// backoff; Ready stays ready).
			nudged = false
			for _, b := range inflight {
				b.acks.forget(b)
			}
			retry = unsent(inflight, head.items[failed:])
			inflight = nil
			continue
		}
		if errors.Is(err, ErrAckTimeout) {
			patience = min(2*patience, maxAckTimeout)
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
		if errors.Is(err, errFence) {
			var ok bool
			if retry, ok, err = j.reconcileUntilAnswered(timer, &backoff, retry); !ok {
				j.abandon(retry, err)
				return
			}
			if err == nil {
				// The stream answered: what is left was not
				// stored, and goes now.
				j.recovered()
				continue
			}
		}
		if errors.Is(err, ErrDeposed) {
			// Another writer appended: this one stops writing and
			// answers nothing more (events v2, fencing).
			j.depose(err)
			j.abandon(retry, err)
			return
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

// reconcileUntilAnswered reconciles retry (see reconcile) and, while the
// stream's answers to the lookups are too slow, looks the rest up again
// after a backoff instead of sending it all again: a loaded server that
// answered slowly has most of it stored already, and every event sent again
// is one more refusal for it to answer. It returns the events still to
// send, false if Close gave up first, and the last lookup's error (nil
// once the stream answered).
func (j *Journal) reconcileUntilAnswered(timer *time.Timer, backoff *time.Duration, retry []pending) ([]pending, bool, error) {
	for {
		n, err := j.reconcile(retry)
		retry = retry[n:]
		if err == nil || !errors.Is(err, context.DeadlineExceeded) || !j.mayWrite() {
			return retry, true, err
		}
		j.failing()
		for i := range retry {
			retry[i].commit.failedAttempt(err)
		}
		j.cfg.Log.Warn("looking up events the stream may hold; retrying", "events", len(retry), "backoff", *backoff, "error", err)
		if !j.sleep(timer, backoff) {
			return retry, false, err
		}
	}
}

// errFence marks a publish refused by its fence (see reconcile).
var errFence = errors.New("journal: fence refused")

// reconcileTimeout bounds the lookups of one reconcile.
const reconcileTimeout = 5 * time.Second

// reconcile looks up, in order, where the fences of items say they belong:
// an item found there under its own id was stored by an earlier attempt
// and is acknowledged; the first found nowhere ends the walk (it and the
// rest are sent again with the same fences). Another message there means
// another writer appended: ErrDeposed. It returns how many leading items
// it acknowledged.
func (j *Journal) reconcile(items []pending) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), reconcileTimeout)
	defer cancel()
	st := j.link.Load().stream
	for k := 0; k < len(items); {
		p := &items[k]
		if p.unencodable {
			j.acknowledge(items[k:k+1], []uint64{0})
			k++
			continue
		}
		seq := p.expect + 1
		m, err := st.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return k, nil
		}
		if err != nil {
			return k, fmt.Errorf("journal: reconcile at %d: %w", seq, err)
		}
		if id := p.commit.events[p.index].ID; m.Header.Get(jetstream.MsgIDHeader) != id {
			if !j.strayOfOlderTerm(p, m.Data) {
				return k, fmt.Errorf("%w: sequence %d holds %q, not event %s", ErrDeposed, seq, m.Header.Get(jetstream.MsgIDHeader), id)
			}
			j.refence(items[k:]) // and look again, one sequence on
			continue
		}
		j.acknowledge(items[k:k+1], []uint64{seq})
		k++
	}
	return len(items), nil
}

// strayOfOlderTerm reports whether data, found where p belonged, is a stray
// the read rule ignores: an event of an older term stored after this
// writer's term event. A deposed writer's pipelined appends leave such
// strays when one of their fences happens to match the new writer's last
// sequence; they must not depose the new writer in turn. Before this
// writer's term event is stored (p is that event), an older term's event
// there is valid history this writer has not read: it is deposed.
func (j *Journal) strayOfOlderTerm(p *pending, data []byte) bool {
	if p.commit.events[p.index].Kind == events.TermKind {
		return false
	}
	var found struct {
		Term uint64 `json:"term"`
	}
	if err := json.Unmarshal(data, &found); err != nil {
		return false
	}
	return found.Term < j.term
}

// refence moves the fences of items, and of every event after them, one
// sequence on, past a stray: the stray is not counted, so their idx and
// prev hashes stay as they are and only where they are stored changes.
func (j *Journal) refence(items []pending) {
	for i := range items {
		p := &items[i]
		if p.unencodable {
			continue
		}
		p.expect++
		p.msg.setExpect(p.expect)
	}
	j.nextExpect++
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

// send publishes items and returns their burst. Every event is fenced:
// Nats-Expected-Last-Sequence is the sequence the event before it in this
// writer's history gets, so the stream stores it only right after that one,
// and a pipelined burst expects last+1, last+2, ... The fence and the
// message id are fixed on the first attempt and reused by every retry
// (JetStream checks the id first, so a retry of a stored event is a
// duplicate, not a fence failure). A publish the connection refuses ends
// the burst early: the burst then fails there once the publishes before it
// are answered.
func (j *Journal) send(items []pending) *burst {
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
		if err := l.acks.publish(l.nc, &p.msg.Msg, b, i); err != nil {
			l.acks.refused(b, i, err)
			break
		}
		sent++
	}
	l.acks.arm(b, sent)
	return b
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
			if r.seq != head.items[i].expect+1 {
				// Stored, but not right after our previous event:
				// the history is not ours alone any more.
				err = fmt.Errorf("%w: event stored at %d, expected %d", ErrDeposed, r.seq, head.items[i].expect+1)
				j.acknowledge(head.items[:i], seqs[:i])
				return i, err
			}
			seqs[i] = r.seq
			continue
		}
		err = r.err
		if isWrongLastSeq(err) {
			// The first unacknowledged event of this writer was
			// refused by the fence: an earlier attempt stored it
			// (a single server checks the fence before the
			// duplicate window), or another writer appended.
			err = fmt.Errorf("%w: %w", errFence, err)
		}
		if err == nil {
			err = ErrAckTimeout
		} else if !errors.Is(err, ErrNoStream) && !errors.Is(err, ErrDeposed) && !errors.Is(err, errFence) {
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
// (and of unencodable events, which count as done with an error). The
// stream storing an event ends a failing spell before any waiter hears of
// it, so a caller whose commit completed never sees Ready still failing.
func (j *Journal) acknowledge(done []pending, seqs []uint64) {
	if slices.ContainsFunc(seqs, func(seq uint64) bool { return seq > 0 }) {
		j.recovered()
	}
	for i, p := range done {
		if seqs[i] > j.lastSeq.Load() {
			j.lastSeq.Store(seqs[i]) // only the publisher stores
		}
		j.recycle(p.msg)
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

// message encodes one event as a NATS message, stamping its place in this
// writer's history: term, idx, node and the fence. Events are encoded once,
// in queue order, by the publisher, so idx and the fence count up without
// gaps.
func (j *Journal) message(p *pending) (*outMsg, error) {
	// A copy: callers may read the commit's events while it is pending;
	// the stream's copy alone carries term, idx, node (and any
	// shortening).
	copied := p.commit.events[p.index]
	ev := &copied
	if ev.Kind == events.TermKind {
		j.term = max(j.cfg.Term, j.maxTerm.Load()+1)
		j.nextIdx = 0
	}
	ev.Term, ev.Idx, ev.Node = j.term, j.nextIdx, j.cfg.Gateway
	var prev []byte
	if !j.cfg.Unchained {
		if ev.Kind == events.SealKind {
			ev.Prev = hexHash(j.head) // the seal's head is a string
		} else {
			prev = hex.AppendEncode(j.prevHex[:0], j.head[:])
		}
	}
	if ev.Kind == events.SealKind {
		signSeal(ev, j.count, j.cfg.Signer)
	}
	msg := j.recycledMsg()
	data, err := encodeBoundedTo(msg.Data, ev, prev)
	if err != nil {
		j.recycle(msg)
		return nil, err
	}
	if !j.cfg.Unchained {
		j.head = sha256.Sum256(data)
	}
	j.count++
	j.nextIdx++
	p.expect = j.nextExpect
	j.nextExpect++
	msg.Subject = j.subjects.get(ev, j.cfg.Prefix)
	msg.Data = data
	msg.Header[jetstream.MsgIDHeader][0] = ev.ID
	msg.setExpect(p.expect)
	return msg, nil
}

// maxRecycled bounds the messages kept for reuse: a few bursts' worth.
const maxRecycled = 2 * maxBurst

// recycledMsg is a message to fill: one an acknowledged event no longer
// needs (its header map, header values and payload buffer are reused), or
// a new one. Only the publisher calls it.
func (j *Journal) recycledMsg() *outMsg {
	if n := len(j.recycled); n > 0 {
		m := j.recycled[n-1]
		j.recycled[n-1] = nil
		j.recycled = j.recycled[:n-1]
		return m
	}
	return &outMsg{Msg: nats.Msg{
		Data: make([]byte, 0, 512),
		Header: nats.Header{
			jetstream.MsgIDHeader:           make([]string, 1),
			jetstream.ExpectedLastSeqHeader: make([]string, 1),
		},
	}}
}

// outMsg is an event's message, with the memory of its fence's header
// value (Nats-Expected-Last-Sequence): the value is a string sharing seq's
// memory (setExpect), so that fencing an event costs no allocation. Only
// the publisher goroutine touches an outMsg. seq is written only by
// setExpect, which replaces the header value with it, and the value is read
// only from m.Header, by the publisher itself: nats.go copies header
// values into its own buffer while PublishMsg runs. So no string that
// shares seq outlives the value it was set to.
type outMsg struct {
	nats.Msg
	seq [20]byte // the decimal digits of a uint64
}

// setExpect sets m's fence to seq.
func (m *outMsg) setExpect(seq uint64) {
	b := strconv.AppendUint(m.seq[:0], seq, 10)
	m.Header[jetstream.ExpectedLastSeqHeader][0] = unsafe.String(unsafe.SliceData(b), len(b))
}

// recycle keeps m, whose event the stream has acknowledged (nats.go copied
// it when it was published), for recycledMsg.
func (j *Journal) recycle(m *outMsg) {
	if m == nil || len(j.recycled) >= maxRecycled {
		return
	}
	m.Subject, m.Reply, m.Data = "", "", m.Data[:0]
	// The id shares its commit's memory (idInto): a kept message must
	// not keep the commit alive.
	m.Header[jetstream.MsgIDHeader][0] = ""
	j.recycled = append(j.recycled, m)
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

// errCodeWrongLastSeq is JetStream's error code for a publish whose
// Nats-Expected-Last-Sequence is not the stream's last sequence.
const errCodeWrongLastSeq jetstream.ErrorCode = 10071

func isWrongLastSeq(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == errCodeWrongLastSeq
}
