package client

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/licensegw/licensegw/plugins/concurrentlm/wire"
)

// call is one request waiting for its answer.
type call struct {
	id    string
	multi bool // STATUS: FEATURE lines until END
	lines []wire.Message
	ch    chan []wire.Message // buffered 1
}

// session is one TCP connection. Answers come in request order, so calls
// wait in a FIFO; ids are checked as a guard.
type session struct {
	nc net.Conn

	mu      sync.Mutex
	bw      *bufio.Writer
	queue   []*call
	tickets map[string]chan wire.Message // queued checkouts by ticket
	err     error                        // set once the connection is dead

	done chan struct{}
}

func newSession(nc net.Conn) *session {
	s := &session{
		nc:      nc,
		bw:      bufio.NewWriter(nc),
		tickets: make(map[string]chan wire.Message),
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
	c.ch <- c.lines
	return nil
}

func (s *session) event(m wire.Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := m.Get("ticket")
	if ch, ok := s.tickets[t]; ok {
		delete(s.tickets, t)
		ch <- m
	}
}

// ticket returns the channel on which the EVENT for t arrives.
func (s *session) ticket(t string) chan wire.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tickets[t]
}

// fail ends the session: every waiter learns it.
func (s *session) fail(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = fmt.Errorf("%w: %v", ErrDisconnected, err)
		close(s.done)
	}
	s.mu.Unlock()
	s.nc.Close()
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
	if _, err := s.bw.Write(line); err != nil {
		return nil, err
	}
	if err := s.bw.Flush(); err != nil {
		return nil, err
	}
	return c, nil
}

// wait waits for c's answer.
func (s *session) wait(ctx context.Context, c *call) ([]wire.Message, error) {
	select {
	case lines := <-c.ch:
		return lines, nil
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
		return nil, ctx.Err()
	}
}

func (s *session) close() { s.fail(ErrClosed) }
