package journal

import (
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const (
	// maxBurst bounds how many events go out before the publisher waits
	// for their acks.
	maxBurst = 4096
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
func (j *Journal) publish() {
	defer close(j.stopped)
	defer j.acks.close()
	var retry []pending // the unacknowledged tail of the last burst
	backoff := minBackoff
	for {
		burst := retry
		j.mu.Lock()
		if n := min(maxBurst-len(burst), len(j.queue)); n > 0 {
			burst = append(burst, j.queue[:n]...)
			j.queue = j.queue[n:]
			if len(j.queue) == 0 {
				j.queue = nil // let the old backing array go
			}
		}
		empty := len(burst) == 0
		j.mu.Unlock()

		if empty {
			select {
			case <-j.wake:
			case <-j.abort:
				j.abandon(nil, nil)
				return
			case <-j.drain:
				j.mu.Lock()
				done := len(j.queue) == 0 // closing is set: nothing more comes
				j.mu.Unlock()
				if done {
					return
				}
			}
			continue
		}

		failed, err := j.send(burst)
		if errors.Is(err, ErrClosed) {
			j.abandon(burst[failed:], nil)
			return
		}
		if err == nil {
			retry, backoff = nil, minBackoff
			continue
		}
		retry = burst[failed:]
		if isWrongLastMsgID(err) {
			// Another writer's message came between two of ours:
			// the first unstored event starts the next burst, with
			// no expectation, at once.
			continue
		}
		for i := range retry {
			retry[i].commit.failedAttempt(err)
		}
		j.cfg.Log.Warn("publishing events failed; retrying", "events", len(retry), "backoff", backoff, "error", err)
		select {
		case <-time.After(backoff):
			backoff = min(2*backoff, maxBackoff)
		case <-j.abort:
			j.abandon(retry, err)
			return
		}
	}
}

// send publishes burst, pipelined, and waits for every answer. The events
// before index failed are acknowledged and their commits advanced; from
// failed on nothing is, and err says why. Events after the first failure may
// have been stored all the same: they are sent again with their ids, and the
// stream drops the duplicates.
func (j *Journal) send(burst []pending) (failed int, err error) {
	reply := j.acks.begin(len(burst))
	sent, published := len(burst), 0
	prevID := "" // the first event of a burst follows acknowledged ones
	for i := range burst {
		p := &burst[i]
		if p.msg == nil && !p.unencodable {
			j.encode(p)
		}
		if p.unencodable {
			continue
		}
		// Every event but the first of the burst is stored only right
		// after its predecessor: if one fails, those after it fail too,
		// and the retry sends them again in order. Without this, one
		// rejected publish (no responders during a leader change or a
		// restart) would let the next ones be stored ahead of it.
		if prevID != "" {
			p.msg.Header[jetstream.ExpectedLastMsgIDHeader] = []string{prevID}
		} else {
			delete(p.msg.Header, jetstream.ExpectedLastMsgIDHeader)
		}
		prevID = p.commit.events[p.index].ID
		p.msg.Reply = reply(i)
		if perr := j.cfg.Conn.PublishMsg(p.msg); perr != nil {
			sent, err = i, fmt.Errorf("journal: publish: %w", perr)
			break
		}
		published++
	}
	done := j.acks.arm(published)

	timer := time.NewTimer(ackTimeout)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
	case <-j.abort:
	}
	results := j.acks.result()
	if sent < len(burst) {
		failed = sent // err is the publish error
	} else {
		failed = len(burst)
	}
	seqs := make([]uint64, failed)
	for i, r := range results[:failed] {
		if burst[i].unencodable {
			continue
		}
		if r.err == nil && r.seq > 0 {
			seqs[i] = r.seq
			continue
		}
		failed, err = i, ErrAckTimeout
		if r.err != nil {
			err = fmt.Errorf("journal: publish: %w", r.err)
		}
		select {
		case <-j.abort:
			err = ErrClosed
		default:
		}
		break
	}
	j.acknowledge(burst[:failed], seqs[:failed])
	return failed, err
}

// acknowledge advances the commits of events the stream has acknowledged
// (and of unencodable events, which count as done with an error).
func (j *Journal) acknowledge(done []pending, seqs []uint64) {
	for i, p := range done {
		if seqs[i] > j.lastSeq.Load() {
			j.lastSeq.Store(seqs[i]) // only the publisher stores
		}
		c := p.commit
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
	data, err := encodeEvent(ev)
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
