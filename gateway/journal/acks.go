package journal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ErrNoStream is the cause reported when no stream answered a publish: the
// stream is missing, or not ready yet after a restart or a leader change.
var ErrNoStream = errors.New("journal: no stream answered")

// errBadAck is the cause reported for an answer that is not a PubAck.
var errBadAck = errors.New("journal: malformed publish acknowledgement")

// acks collects the stream's answers to one burst of publishes. Every
// publish carries a reply subject <prefix><n>, n counting up across bursts,
// and one wildcard subscription receives all answers. This is what the
// jetstream client's PublishMsgAsync does, without a future, two channels, a
// map entry and a timer per message: the burst is the unit of waiting.
type acks struct {
	prefix string
	sub    *nats.Subscription

	mu        sync.Mutex
	base      uint64        // token of the burst's first publish
	results   []ackInfo     // one per publish of the current burst
	remaining int           // answers still due, once armed
	armed     bool          // the burst's publishes are all sent
	done      chan struct{} // closed when armed and remaining reaches 0
	next      uint64        // next token to hand out
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

// begin starts a burst of up to n publishes; the answers to any earlier
// burst are ignored from now on. It returns the reply subject of publish i.
// Once the publishes are sent, arm says how many, and done is closed when
// they are all answered.
func (a *acks) begin(n int) (reply func(i int) string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.base = a.next
	a.next += uint64(n)
	a.results = make([]ackInfo, n)
	a.remaining = 0
	a.armed = false
	a.done = make(chan struct{})
	base := a.base
	return func(i int) string { return a.prefix + strconv.FormatUint(base+uint64(i), 10) }
}

// arm says that sent publishes of the burst went out; the returned channel
// is closed when all are answered.
func (a *acks) arm(sent int) <-chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.remaining += sent
	a.armed = true
	if a.remaining == 0 {
		close(a.done)
	}
	return a.done
}

// result returns a copy of the answers of the current burst (answers may
// still arrive after a timeout); a zero ackInfo means no answer yet.
func (a *acks) result() []ackInfo {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.results)
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
	if n < a.base || n-a.base >= uint64(len(a.results)) {
		return // an earlier burst's, given up on
	}
	r := &a.results[n-a.base]
	if *r != (ackInfo{}) {
		return // answered twice: keep the first
	}
	*r = info
	a.remaining--
	if a.armed && a.remaining == 0 {
		close(a.done)
	}
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
