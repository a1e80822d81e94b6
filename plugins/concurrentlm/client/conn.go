package client

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/licensegw/licensegw/plugins/concurrentlm/wire"
)

// call is one request waiting for its answer.
type call struct {
	id    string
	multi bool // STATUS: FEATURE lines until END
	lines []wire.Message
	ch    chan []wire.Message // buffered 1

	abandoned bool // the caller gave up waiting (session.mu)
}

// undoTimeout bounds giving back what an abandoned request took.
const undoTimeout = 10 * time.Second

// session is one TCP connection. Answers come in request order, so calls
// wait in a FIFO; ids are checked as a guard.
type session struct {
	nc   net.Conn
	idx  int    // the gateway's index in the Client's list
	addr string // and its address

	mu      sync.Mutex
	bw      *bufio.Writer
	queue   []*call
	tickets map[string]chan wire.Message // queued checkouts by ticket
	bound   map[string]struct{}          // bind=conn leases taken on this connection
	err     error                        // set once the connection is dead

	done chan struct{}

	undoID atomic.Uint64 // ids of the requests undo sends ("u1", "u2", ...)
	// undoPending counts abandoned requests whose answer has not been
	// given back yet (mu); close waits for them, bounded by undoTimeout,
	// so that closing right after giving up does not strand a seat.
	undoPending int
}

func newSession(nc net.Conn) *session {
	s := &session{
		nc:      nc,
		bw:      bufio.NewWriter(nc),
		tickets: make(map[string]chan wire.Message),
		bound:   make(map[string]struct{}),
		done:    make(chan struct{}),
	}
	go s.readLoop()
	return s
}

func (s *session) readLoop() {
	br := bufio.NewReaderSize(s.nc, wire.MaxLine+2)
	var err error
	for {
		var line string
		line, err = br.ReadString('\n')
		if err != nil {
			break
		}
		m, perr := wire.ParseMessage(line)
		if errors.Is(perr, wire.ErrEmptyLine) {
			continue
		}
		if perr != nil {
			err = fmt.Errorf("%w: %q: %v", ErrProtocol, line, perr)
			break
		}
		if m.Word == "EVENT" {
			s.event(m)
			continue
		}
		if err = s.answer(m); err != nil {
			break
		}
	}
	s.fail(err)
}

// answer hands m to the call at the head of the queue.
func (s *session) answer(m wire.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) == 0 {
		return fmt.Errorf("%w: unexpected %s", ErrProtocol, m.Word)
	}
	c := s.queue[0]
	if id, ok := m.Lookup("id"); ok && id != c.id {
		return fmt.Errorf("%w: answer for id %s while waiting for %s", ErrProtocol, id, c.id)
	}
	c.lines = append(c.lines, m)
	if c.multi && m.Word == "FEATURE" {
		return nil
	}
	if m.Word == "QUEUED" {
		// Registered before anything else is read, so the EVENT that
		// follows on the wire always finds its waiter.
		s.tickets[m.Get("ticket")] = make(chan wire.Message, 1)
	}
	s.queue = s.queue[1:]
	if c.abandoned {
		go s.runUndo(c.lines)
		return nil
	}
	c.ch <- c.lines
	return nil
}

// event hands a queue EVENT to its ticket's channel, which keeps it until
// the waiter (or undo) takes it: the EVENT may come before the waiter looks.
func (s *session) event(m wire.Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ch, ok := s.tickets[m.Get("ticket")]; ok {
		select {
		case ch <- m:
		default: // a ticket has one EVENT; a second one is a server's bug
		}
	}
}

// bind notes a bind=conn lease taken on this connection; unbind forgets it.
func (s *session) bind(lease string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bound[lease] = struct{}{}
}

func (s *session) unbind(lease string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.bound, lease)
}

// holds reports whether closing this connection would cost the client
// something: bind=conn leases or places in a queue.
func (s *session) holds() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.bound) > 0 || len(s.tickets) > 0
}

// ticket returns the channel on which the EVENT for t arrives.
func (s *session) ticket(t string) chan wire.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tickets[t]
}

// dropTicket forgets t once its waiter is done with it.
func (s *session) dropTicket(t string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tickets, t)
}

// undo gives back what an answer nobody waits for any more took, so that a
// caller giving up never leaves a seat behind: a GRANTED lease is checked
// in, a QUEUED ticket cancelled (and its lease checked in when the grant
// beat the cancel).
func (s *session) undo(lines []wire.Message) {
	ctx, cancel := context.WithTimeout(context.Background(), undoTimeout)
	defer cancel()
	m := lines[len(lines)-1]
	switch m.Word {
	case "GRANTED":
		_, _ = s.simple(ctx, wire.Checkin, wire.KeyLease, m.Get("lease"))
	case "QUEUED":
		t := m.Get("ticket")
		defer s.dropTicket(t)
		a, err := s.simple(ctx, wire.Cancel, wire.KeyTicket, t)
		if err != nil || a.Word != "GONE" {
			return
		}
		select { // too late to cancel: the grant is on its way
		case ev := <-s.ticket(t):
			if ev.Sub == "granted" {
				_, _ = s.simple(ctx, wire.Checkin, wire.KeyLease, ev.Get("lease"))
			}
		case <-ctx.Done():
		case <-s.done:
		}
	}
}

// simple sends a one-key request of the session's own and waits for its
// answer.
func (s *session) simple(ctx context.Context, verb wire.Verb, key wire.Key, value string) (wire.Message, error) {
	r := wire.Request{Verb: verb}
	r.Set(key, value)
	r.Set(wire.KeyID, "u"+strconv.FormatUint(s.undoID.Add(1), 36))
	c, err := s.send(&r, false)
	if err != nil {
		return wire.Message{}, err
	}
	lines, err := s.wait(ctx, c, 0)
	if err != nil {
		return wire.Message{}, err
	}
	return lines[0], nil
}

// fail ends the session: every waiter learns it. Abandoned requests will
// get no answer now, and the gateway gives back what a closed connection
// held or waited for itself.
func (s *session) fail(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = fmt.Errorf("%w: %v", ErrDisconnected, err)
		close(s.done)
		for _, c := range s.queue {
			if c.abandoned {
				s.undoPending--
			}
		}
		s.queue = nil
	}
	s.mu.Unlock()
	s.nc.Close()
}

// runUndo is undo for one abandoned request.
func (s *session) runUndo(lines []wire.Message) {
	defer func() {
		s.mu.Lock()
		s.undoPending--
		s.mu.Unlock()
	}()
	s.undo(lines)
}

// send writes r (with id set) and queues its call.
func (s *session) send(r *wire.Request, multi bool) (*call, error) {
	c := &call{id: r.ID(), multi: multi, ch: make(chan []wire.Message, 1)}
	line := append(wire.AppendRequest(make([]byte, 0, 128), r), '\n')
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	s.queue = append(s.queue, c)
	_, err := s.bw.Write(line)
	if err == nil {
		err = s.bw.Flush()
	}
	if err != nil {
		// The connection is broken: end it (its reader would notice
		// soon), so that the request is asked again on a new one.
		s.mu.Unlock()
		s.fail(err)
		s.mu.Lock()
		return nil, s.err
	}
	return c, nil
}

// errSilent: no answer came within the wait's bound.
var errSilent = errors.New("clm: no answer in time")

// wait waits for c's answer; at most silence when silence > 0, then it
// returns errSilent, and the caller ends the session (answers come in
// order, so a session with a lost answer cannot go on).
func (s *session) wait(ctx context.Context, c *call, silence time.Duration) ([]wire.Message, error) {
	var timeout <-chan time.Time
	if silence > 0 {
		t := time.NewTimer(silence)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case lines := <-c.ch:
		return lines, nil
	case <-timeout:
		select {
		case lines := <-c.ch: // it came just now
			return lines, nil
		default:
		}
		return nil, errSilent
	case <-s.done:
		// The answer may have landed just before the connection died.
		select {
		case lines := <-c.ch:
			return lines, nil
		default:
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		return nil, s.err
	case <-ctx.Done():
		// The answer will still come: whoever reads it gives back what
		// it took (answer, then undo).
		s.mu.Lock()
		c.abandoned = true
		s.undoPending++
		var lines []wire.Message
		select {
		case lines = <-c.ch: // it came just now
		default:
		}
		s.mu.Unlock()
		if lines != nil {
			go s.runUndo(lines)
		}
		return nil, ctx.Err()
	}
}

// close ends the session once what abandoned requests took is given back
// (or undoTimeout passed).
func (s *session) close() {
	for deadline := time.Now().Add(undoTimeout); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		s.mu.Lock()
		idle := s.undoPending <= 0 || s.err != nil
		s.mu.Unlock()
		if idle {
			break
		}
	}
	s.fail(ErrClosed)
}
