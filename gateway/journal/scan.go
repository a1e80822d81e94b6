package journal

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/licensegw/licensegw/gateway/events"
)

// Scan's batches: how many messages one direct get asks for and how many
// payload bytes it may carry. One batch is in flight at a time, so these
// bound the memory a scan holds.
const (
	defaultScanBatch = 8192
	scanMaxBytes     = 8 << 20
)

// directGetRequest is the JetStream direct get API's request (batched,
// payloads only).
type directGetRequest struct {
	Seq      uint64 `json:"seq"`
	Batch    int    `json:"batch"`
	MaxBytes int    `json:"max_bytes"`
	UpToSeq  uint64 `json:"up_to_seq"`
	NoHeader bool   `json:"no_hdr"`
}

// Scan calls fn for every event in the stream after sequence afterSeq, in
// stream order, up to the last message present when Scan was called; the
// events fn sees are those Replay would hand over (the read rule, no term
// or seal events), but unlike Replay it does not verify the hash chain (it
// reads payloads without their sequences). It is the bulk reader behind
// reports and charts: much cheaper per event than Replay, and it leaves no
// state on the server.
//
// fn gets a pointer to an event Scan reuses: it must not keep it. It
// returns the sequence reached, as Replay does. An error from fn stops the
// scan and is returned, wrapped.
//
// How: batched direct gets ($JS.API.DIRECT.GET, the stream allows them)
// with payloads only, Config.ScanBatch messages a request, each request sent when
// the previous batch's end-of-batch marker arrives. No consumer is made,
// nothing is acknowledged, and no per-message headers are built by the
// server or parsed here; the messages are decoded in the subscription's
// own goroutine while the connection's reader parses the next ones.
func (j *Journal) Scan(ctx context.Context, afterSeq uint64, fn func(ev *events.Event) error) (lastSeq uint64, err error) {
	l := j.link.Load()
	info, err := l.stream.Info(ctx)
	if err != nil {
		return afterSeq, fmt.Errorf("journal: scan: stream info: %w", err)
	}
	end := info.State.LastSeq
	if end <= afterSeq || info.State.Msgs == 0 {
		return afterSeq, nil
	}
	s := &scan{
		ctx: ctx, nc: l.nc, subject: "$JS.API.DIRECT.GET." + j.cfg.Stream, batch: cmp.Or(j.cfg.ScanBatch, defaultScanBatch),
		end: end, fn: fn, names: make(interner), done: make(chan struct{}),
	}
	s.touch()
	s.inbox = s.nc.NewInbox()
	sub, err := s.nc.Subscribe(s.inbox, s.handle)
	if err != nil {
		return afterSeq, fmt.Errorf("journal: scan: %w", err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := sub.SetPendingLimits(-1, -1); err != nil { // one batch is bounded by the request
		return afterSeq, fmt.Errorf("journal: scan: %w", err)
	}
	if err := s.request(afterSeq + 1); err != nil {
		return afterSeq, err
	}
	tick := time.NewTicker(replayPoll)
	defer tick.Stop()
	for {
		select {
		case <-s.done:
			s.mu.Lock() // a handler running fn has finished; later ones see stopped
			s.mu.Unlock()
			if s.err != nil {
				return s.reached, s.err
			}
			return end, nil
		case <-ctx.Done():
			s.stop(fmt.Errorf("journal: scan after %d: %w", s.reachedNow(), ctx.Err()))
		case <-tick.C:
			if time.Since(time.Unix(0, s.last.Load())) > replayStall {
				s.stop(fmt.Errorf("journal: scan after %d: no answer from the stream for %v", s.reachedNow(), replayStall))
			}
		}
	}
}

// scan is one Scan's state, shared by the caller's goroutine and the
// subscription's.
type scan struct {
	ctx            context.Context
	nc             *nats.Conn
	subject, inbox string
	batch          int
	end            uint64
	fn             func(*events.Event) error
	names          interner
	rule           readRule
	ev             events.Event

	last     atomic.Int64  // unix nanoseconds of the last message, for the stall check
	position atomic.Uint64 // the last sequence handled, for errors from the caller's goroutine

	// mu is held while a message is handled, so that Scan, once stopped,
	// can wait out a call of fn in progress before it returns.
	mu      sync.Mutex
	once    sync.Once
	done    chan struct{}
	err     error  // set before done closes
	reached uint64 // set before done closes
	stopped atomic.Bool
}

func (s *scan) touch()             { s.last.Store(time.Now().UnixNano()) }
func (s *scan) reachedNow() uint64 { return s.position.Load() }

// stop ends the scan with err (nil: complete).
func (s *scan) stop(err error) {
	s.once.Do(func() {
		s.err, s.reached = err, s.position.Load()
		s.stopped.Store(true)
		close(s.done)
	})
}

// request asks for the next batch from sequence from.
func (s *scan) request(from uint64) error {
	// No subject filter: the stream holds only events (StreamSubjects),
	// and matching a wildcard per message costs the server more than
	// the rest of the read.
	body, err := json.Marshal(directGetRequest{Seq: from, Batch: s.batch, MaxBytes: scanMaxBytes, UpToSeq: s.end, NoHeader: true})
	if err != nil {
		return fmt.Errorf("journal: scan: %w", err)
	}
	if err := s.nc.PublishRequest(s.subject, s.inbox, body); err != nil {
		return fmt.Errorf("journal: scan: direct get: %w", err)
	}
	return nil
}

// handle takes one message of a batch: an event's payload, or the
// batch's end marker (status 204, with the last sequence sent and the
// number still pending), or an error status.
func (s *scan) handle(m *nats.Msg) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped.Load() {
		return
	}
	if err := s.ctx.Err(); err != nil { // at once, not when the caller's goroutine runs
		s.stop(fmt.Errorf("journal: scan after %d: %w", s.position.Load(), err))
		return
	}
	s.touch()
	if m.Header == nil {
		s.event(m)
		return
	}
	switch status := m.Header.Get("Status"); status {
	case "204": // end of batch
		last, err1 := strconv.ParseUint(m.Header.Get("Nats-Last-Sequence"), 10, 64)
		pending, err2 := strconv.ParseUint(m.Header.Get("Nats-Num-Pending"), 10, 64)
		if err := errors.Join(err1, err2); err != nil {
			s.stop(fmt.Errorf("journal: scan: end of batch: %w", err))
			return
		}
		if last > 0 {
			s.position.Store(last)
		}
		if pending == 0 || last >= s.end {
			s.stop(nil)
			return
		}
		if err := s.request(last + 1); err != nil {
			s.stop(err)
		}
	case "404": // nothing (more) in range: the rest was removed meanwhile
		s.stop(nil)
	default:
		s.stop(fmt.Errorf("journal: scan: direct get answered %s %s", status, m.Header.Get("Description")))
	}
}

// event decodes one payload and hands it to fn when the read rule counts
// it.
func (s *scan) event(m *nats.Msg) {
	ev := &s.ev
	*ev = events.Event{}
	if err := decodeEvent(m.Data, ev, s.names); err != nil {
		s.stop(fmt.Errorf("journal: scan after %d: event on %s: %w", s.position.Load(), m.Subject, err))
		return
	}
	if !s.rule.counts(ev) || ev.Kind == events.TermKind || ev.Kind == events.SealKind {
		return
	}
	if err := s.fn(ev); err != nil {
		s.stop(fmt.Errorf("journal: scan after %d: %w", s.position.Load(), err))
	}
}
