package journal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"
	"unsafe"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ErrNoStream is the cause reported when no stream answered a publish: the
// stream is missing, or not ready yet after a restart or a leader change.
var ErrNoStream = errors.New("journal: no stream answered")

// errBadAck is the cause reported for an answer that is not a PubAck.
var errBadAck = errors.New("journal: malformed publish acknowledgement")

// acks collects the stream's answers to the publisher's bursts. Every
// publish carries a reply subject <prefix><n>, n counting up across bursts,
// and one wildcard subscription receives all answers. This is what the
// jetstream client's PublishMsgAsync does, without a future, two channels, a
// map entry and a timer per message: the burst is the unit of waiting.
type acks struct {
	prefix string
	sub    *nats.Subscription

	// replyBuf holds the reply subject being published (see publish).
	// Only the publisher goroutine touches it.
	replyBuf []byte

	mu       sync.Mutex
	next     uint64    // next token to hand out
	inflight []*burst  // bursts whose answers are still of interest
	heard    time.Time // when the last answer came, to any burst
}

// burst is one group of events published together, awaiting answers.
type burst struct {
	acks  *acks // of the link the burst went out on
	items []pending
	base  uint64 // token of items[0]

	// Guarded by acks.mu.
	armedAt   time.Time // when its last publish went out
	results   []ackInfo // one per item; zero: no answer (yet)
	remaining int       // answers still due, once armed
	armed     bool      // every publish of the burst is sent
	done      chan struct{}
}

// ackInfo is one publish's answer: a stream sequence, or why not.
type ackInfo struct {
	seq uint64
	err error
}

func newAcks(nc *nats.Conn) (*acks, error) {
	a := &acks{prefix: nc.NewRespInbox() + "."}
	sub, err := nc.Subscribe(a.prefix+"*", a.handle)
	if err != nil {
		return nil, err
	}
	// A burst's answers arrive together; never drop them as a slow
	// consumer.
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		_ = sub.Unsubscribe()
		return nil, err
	}
	a.sub = sub
	return a, nil
}

// start registers a burst of items and hands out its tokens.
func (a *acks) start(items []pending) *burst {
	a.mu.Lock()
	defer a.mu.Unlock()
	b := &burst{acks: a, items: items, base: a.next, results: make([]ackInfo, len(items)), done: make(chan struct{})}
	a.next += uint64(len(items))
	a.inflight = append(a.inflight, b)
	return b
}

// publish sends m on nc with the reply subject of b.items[i]. Only the
// publisher goroutine calls it.
//
// The subject is built in a.replyBuf, reused from publish to publish, and
// m.Reply aliases it only during the call: nats.go's Conn.publish copies
// the reply subject into its outbound buffer (or the reconnect buffer)
// before PublishMsg returns, and nothing else reads m.Reply (recycle clears
// it anyway). So no string that outlives the call points into the buffer,
// and a publish costs no allocation for its reply subject
// (TestPublishReply).
func (a *acks) publish(nc *nats.Conn, m *nats.Msg, b *burst, i int) error {
	m.Reply = a.replyTo(b, i)
	err := nc.PublishMsg(m)
	m.Reply = ""
	return err
}

// replyTo builds the reply subject of b.items[i] in a.replyBuf and returns
// it as a string sharing the buffer's memory, valid until the next call:
// only publish may use it.
func (a *acks) replyTo(b *burst, i int) string {
	a.replyBuf = strconv.AppendUint(append(a.replyBuf[:0], a.prefix...), b.base+uint64(i), 10)
	return unsafe.String(unsafe.SliceData(a.replyBuf), len(a.replyBuf))
}

// arm says that sent publishes of b went out; b.done is closed once they are
// all answered.
func (a *acks) arm(b *burst, sent int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	b.remaining += sent
	b.armed = true
	b.armedAt = time.Now()
	if b.remaining == 0 {
		close(b.done)
	}
}

// deadline is when b's missing answers count as lost: timeout after it
// was armed or after the link last heard an answer, whichever is later. Silence, not the age of the burst, is what says answers are lost:
// a loaded server answers thousands of queued publishes in order, slowly,
// and a burst behind them is not lost while the answers before it still
// come. Timing out such a burst re-sent everything in flight, which loaded
// the server more: a retry storm that never finished under load.
func (a *acks) deadline(b *burst, timeout time.Duration) time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	from := b.armedAt
	if a.heard.After(from) {
		from = a.heard
	}
	return from.Add(timeout)
}

// refused records that the connection refused to send b.items[i].
func (a *acks) refused(b *burst, i int, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	b.results[i] = ackInfo{err: err}
}

// results returns a copy of b's answers (more may arrive after a timeout)
// and stops collecting them.
func (a *acks) results(b *burst) []ackInfo {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.inflight = slices.DeleteFunc(a.inflight, func(x *burst) bool { return x == b })
	return slices.Clone(b.results)
}

// forget stops collecting answers for b.
func (a *acks) forget(b *burst) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.inflight = slices.DeleteFunc(a.inflight, func(x *burst) bool { return x == b })
}

// handle records one answer. It runs on the subscription's goroutine.
func (a *acks) handle(m *nats.Msg) {
	n, err := strconv.ParseUint(m.Subject[len(a.prefix):], 10, 64)
	if err != nil {
		return
	}
	info := parseAck(m)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.heard = time.Now()
	for _, b := range a.inflight {
		if n < b.base || n-b.base >= uint64(len(b.results)) {
			continue
		}
		r := &b.results[n-b.base]
		if *r != (ackInfo{}) {
			return // answered twice: keep the first
		}
		*r = info
		b.remaining--
		if b.armed && b.remaining == 0 {
			close(b.done)
		}
		return
	}
	// An answer to a burst given up on: ignore it.
}

func (a *acks) close() { _ = a.sub.Unsubscribe() }

var (
	seqKey   = []byte(`"seq":`)
	errorKey = []byte(`"error"`)
)

// parseAck reads a JetStream publish answer: {"stream":..,"seq":N[,
// "duplicate":true]} in the common case, read without encoding/json.
func parseAck(m *nats.Msg) ackInfo {
	if len(m.Data) == 0 {
		if m.Header.Get("Status") == "503" {
			return ackInfo{err: ErrNoStream}
		}
		return ackInfo{err: errBadAck}
	}
	if bytes.Contains(m.Data, errorKey) {
		var resp struct {
			Error *jetstream.APIError `json:"error"`
		}
		if err := json.Unmarshal(m.Data, &resp); err != nil || resp.Error == nil {
			return ackInfo{err: fmt.Errorf("%w: %q", errBadAck, m.Data)}
		}
		return ackInfo{err: resp.Error}
	}
	i := bytes.Index(m.Data, seqKey)
	if i < 0 {
		return ackInfo{err: fmt.Errorf("%w: %q", errBadAck, m.Data)}
	}
	rest := bytes.TrimLeft(m.Data[i+len(seqKey):], " ")
	end := 0
	for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	seq, err := strconv.ParseUint(string(rest[:end]), 10, 64)
	if err != nil || seq == 0 {
		return ackInfo{err: fmt.Errorf("%w: %q", errBadAck, m.Data)}
	}
	return ackInfo{seq: seq}
}
