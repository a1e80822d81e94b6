package sdk

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	pb "github.com/licensegw/licensegw/sdk/proto"
)

// maxBatch bounds the requests or responses in one frame, keeping frames
// well under gRPC's default 4 MiB message limit.
const maxBatch = 512

// ticketBuffer is the capacity of a queued checkout's Updates channel. One
// slot is kept for the final update: position updates are dropped when the
// reader is behind, the final update never is, and the session's reader
// never blocks on a slow plugin.
const ticketBuffer = 16

// sessionClient is the plugin's side of the Seats Session stream: an
// sdk.Seats whose calls are multiplexed by request id and batched by one
// writer goroutine, while one reader goroutine dispatches responses and
// ticket updates.
type sessionClient struct {
	stream clientStream
	wake   chan struct{} // cap 1: the writer has work
	done   chan struct{} // closed when the session is over

	mu        sync.Mutex
	nextID    uint64
	calls     map[uint64]*call
	abandoned map[uint64]bool // checkouts whose caller gave up: undo what they got
	tickets   map[string]chan TicketUpdate
	out       []*pb.Request
	abandon   []uint64
	err       error // why the session ended
}

// clientStream is the plugin's side of one session: a gRPC Session stream
// or a connection on the data plane (frames.go).
type clientStream interface {
	Send(*pb.PluginFrame) error
	Recv() (*pb.GatewayFrame, error)
}

// errNotSent marks a call refused because its session had already ended:
// nothing reached the gateway, so the call may go on the next session.
var errNotSent = errors.New("not sent")

type call struct {
	resp    chan *pb.Response // cap 1, filled once under mu
	updates chan TicketUpdate // a queued checkout's updates, set before resp is filled
}

var _ Seats = (*sessionClient)(nil)

// newSessionClient starts the reader and writer of stream. tickets, if not
// nil, are the waiting queue tickets of a previous session of the same
// plugin, whose updates now come on this one. onEnd, if not nil, is called
// once with the reason when the session breaks; it may take the session's
// waiting tickets (takeTickets) for the next session, and those it leaves
// get a final "unavailable" denial.
func newSessionClient(stream clientStream, tickets map[string]chan TicketUpdate, onEnd func(*sessionClient, error)) *sessionClient {
	if tickets == nil {
		tickets = map[string]chan TicketUpdate{}
	}
	c := &sessionClient{
		stream:    stream,
		wake:      make(chan struct{}, 1),
		done:      make(chan struct{}),
		calls:     map[uint64]*call{},
		abandoned: map[uint64]bool{},
		tickets:   tickets,
	}
	go c.writeLoop()
	go c.readLoop(onEnd)
	return c
}

// close ends the session from the plugin's side: calls fail from now on.
// Closing the connection under the stream is the caller's business (a
// CloseSend here could race the writer's Send).
func (c *sessionClient) close() {
	c.fail(fmt.Errorf("%w: session closed", ErrUnavailable))
}

func (c *sessionClient) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *sessionClient) writeLoop() {
	for {
		select {
		case <-c.done:
			return
		case <-c.wake:
		}
		// Let the callers that are runnable enqueue too: one frame then
		// carries them all (batching is what makes the stream cheaper
		// than a call per request).
		runtime.Gosched()
		for {
			c.mu.Lock()
			n := min(len(c.out), maxBatch)
			f := &pb.PluginFrame{Requests: c.out[:n:n], Abandon: c.abandon}
			c.out, c.abandon = c.out[n:], nil
			if len(c.out) == 0 {
				c.out = nil // let the backing array go
			}
			c.mu.Unlock()
			if len(f.Requests) == 0 && len(f.Abandon) == 0 {
				break
			}
			if err := c.stream.Send(f); err != nil {
				// The stream is over; the reader sees it end and hands
				// the waiting tickets on.
				c.end(fmt.Errorf("%w: session send: %v", ErrUnavailable, err))
				return
			}
		}
	}
}

func (c *sessionClient) readLoop(onEnd func(*sessionClient, error)) {
	for {
		f, err := c.stream.Recv()
		if err != nil {
			c.end(fmt.Errorf("%w: session: %v", ErrUnavailable, err))
			if onEnd != nil {
				onEnd(c, err)
			}
			c.fail(c.err)
			return
		}
		for _, r := range f.GetResponses() {
			c.dispatch(r)
		}
		for _, u := range f.GetUpdates() {
			c.update(ticketUpdateFromPB(u))
		}
	}
}

// dispatch hands r to its caller. A queued checkout's ticket is registered
// before the caller sees it, so no update can overtake it.
func (c *sessionClient) dispatch(r *pb.Response) {
	c.mu.Lock()
	defer c.mu.Unlock()
	co := r.GetCheckout()
	if c.abandoned[r.GetId()] {
		delete(c.abandoned, r.GetId())
		// The caller gave up but the gateway went ahead: give back what
		// it got, or a seat would be held until its TTL.
		switch {
		case co.GetGrant() != nil:
			c.enqueueLocked(&pb.Request{Op: &pb.Request_Checkin{Checkin: &pb.LeaseRef{Lease: co.GetGrant().GetLease()}}})
		case co.GetTicket() != "":
			c.enqueueLocked(&pb.Request{Op: &pb.Request_Cancel{Cancel: &pb.TicketRef{Ticket: co.GetTicket()}}})
		}
		return
	}
	cl, ok := c.calls[r.GetId()]
	if !ok {
		return // an abandoned call other than a checkout, or an undo's answer
	}
	delete(c.calls, r.GetId())
	if co.GetOutcome() == pb.Outcome_OUTCOME_QUEUED {
		cl.updates = make(chan TicketUpdate, ticketBuffer)
		c.tickets[co.GetTicket()] = cl.updates
	}
	cl.resp <- r
}

func (c *sessionClient) update(u TicketUpdate) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch, ok := c.tickets[u.Ticket]
	if !ok {
		return
	}
	deliverUpdate(ch, u)
	if u.Final() {
		delete(c.tickets, u.Ticket)
	}
}

// deliverUpdate sends u on ch without blocking: a position update is
// dropped when only the final slot is left; a final update closes ch.
func deliverUpdate(ch chan TicketUpdate, u TicketUpdate) {
	if !u.Final() {
		if len(ch) < cap(ch)-1 {
			ch <- u
		}
		return
	}
	ch <- u
	close(ch)
}

// end ends the session once: pending and later calls return err. Waiting
// tickets stay, for takeTickets or fail.
func (c *sessionClient) end(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.endLocked(err)
}

func (c *sessionClient) endLocked(err error) {
	if c.err != nil {
		return
	}
	c.err = err
	close(c.done)
}

// fail ends the session: pending calls return err, waiting tickets get a
// final "unavailable" denial.
func (c *sessionClient) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.endLocked(err)
	for t, ch := range c.tickets {
		deliverUpdate(ch, TicketUpdate{Ticket: t, Denial: &Denial{Reason: "unavailable", Message: c.err.Error()}})
	}
	clear(c.tickets)
}

// takeTickets removes the waiting tickets of a session that ended, for
// the next session to deliver their updates.
func (c *sessionClient) takeTickets() map[string]chan TicketUpdate {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.tickets
	c.tickets = map[string]chan TicketUpdate{}
	return t
}

func (c *sessionClient) enqueueLocked(req *pb.Request) uint64 {
	c.nextID++
	req.Id = c.nextID
	c.calls[req.Id] = &call{resp: make(chan *pb.Response, 1)}
	c.out = append(c.out, req)
	c.signal()
	return req.Id
}

// do sends req and waits for its response. The error is the call's
// transport or gateway error, decoded.
func (c *sessionClient) do(ctx context.Context, req *pb.Request) (*pb.Response, error) {
	r, _, err := c.doCall(ctx, req)
	return r, err
}

// doCall is do that also returns the call, for a queued checkout's updates.
func (c *sessionClient) doCall(ctx context.Context, req *pb.Request) (*pb.Response, *call, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	if d, ok := ctx.Deadline(); ok {
		req.TimeoutNs = int64(max(time.Until(d), time.Millisecond))
	}
	c.mu.Lock()
	if c.err != nil {
		err := fmt.Errorf("%w (%w)", c.err, errNotSent)
		c.mu.Unlock()
		return nil, nil, err
	}
	id := c.enqueueLocked(req)
	cl := c.calls[id]
	c.mu.Unlock()

	var r *pb.Response
	select {
	case r = <-cl.resp:
	case <-ctx.Done():
		var err error
		if r, err = c.giveUp(id, cl, req, ctx.Err()); r == nil {
			return nil, nil, err
		}
	case <-c.done:
		c.mu.Lock()
		err := c.err
		c.mu.Unlock()
		select {
		case r = <-cl.resp: // answered just before the end
		default:
			return nil, nil, err
		}
	}
	if e := r.GetError(); e != nil {
		return nil, nil, errorFromPB(e)
	}
	return r, cl, nil
}

// giveUp abandons call id. If its response already arrived it is returned
// instead, so that a granted lease is never lost.
func (c *sessionClient) giveUp(id uint64, cl *call, req *pb.Request, cause error) (*pb.Response, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, pending := c.calls[id]; !pending {
		return <-cl.resp, nil // dispatch sent it under mu: it is there
	}
	delete(c.calls, id)
	if c.err == nil {
		if req.GetCheckout() != nil {
			c.abandoned[id] = true
		}
		c.abandon = append(c.abandon, id)
		c.signal()
	}
	return nil, cause
}

// Checkout implements Seats.
func (c *sessionClient) Checkout(ctx context.Context, req CheckoutRequest) (*Checkout, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	r, cl, err := c.doCall(ctx, &pb.Request{Op: &pb.Request_Checkout{Checkout: checkoutRequestToPB(req)}})
	if err != nil {
		return nil, err
	}
	co := checkoutFromPB(r.GetCheckout())
	if err := checkCheckout(co); err != nil {
		return nil, err
	}
	if co.Outcome == Queued {
		co.Updates = cl.updates
	}
	return co, nil
}

// Heartbeat implements Seats.
func (c *sessionClient) Heartbeat(ctx context.Context, lease string) (LeaseState, error) {
	if err := checkRequired(IdentLease, lease); err != nil {
		return LeaseState{}, err
	}
	r, err := c.do(ctx, &pb.Request{Op: &pb.Request_Heartbeat{Heartbeat: &pb.LeaseRef{Lease: lease}}})
	if err != nil {
		return LeaseState{}, err
	}
	s := r.GetLeaseState()
	return LeaseState{Lease: s.GetLease(), TTL: time.Duration(s.GetTtlNs()), Expires: fromUnixNanos(s.GetExpiresUnixNs())}, nil
}

// Checkin implements Seats.
func (c *sessionClient) Checkin(ctx context.Context, lease string) error {
	if err := checkRequired(IdentLease, lease); err != nil {
		return err
	}
	_, err := c.do(ctx, &pb.Request{Op: &pb.Request_Checkin{Checkin: &pb.LeaseRef{Lease: lease}}})
	return err
}

// Cancel implements Seats.
func (c *sessionClient) Cancel(ctx context.Context, ticket string) error {
	if err := checkRequired(IdentTicket, ticket); err != nil {
		return err
	}
	_, err := c.do(ctx, &pb.Request{Op: &pb.Request_Cancel{Cancel: &pb.TicketRef{Ticket: ticket}}})
	return err
}

// Remove implements Seats.
func (c *sessionClient) Remove(ctx context.Context, lease string, by Client) error {
	if err := checkRequired(IdentLease, lease); err != nil {
		return err
	}
	if err := by.Validate(); err != nil {
		return err
	}
	_, err := c.do(ctx, &pb.Request{Op: &pb.Request_Remove{Remove: &pb.LeaseRef{Lease: lease, By: clientToPB(by)}}})
	return err
}

// Status implements Seats.
func (c *sessionClient) Status(ctx context.Context, q StatusQuery) ([]FeatureStatus, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	r, err := c.do(ctx, &pb.Request{Op: &pb.Request_Status{Status: &pb.StatusQuery{Vendor: q.Vendor, Feature: q.Feature, CountsOnly: q.CountsOnly}}})
	if err != nil {
		return nil, err
	}
	return statusFromPB(r.GetStatus()), nil
}

// Reload implements Seats.
func (c *sessionClient) Reload(ctx context.Context) error {
	_, err := c.do(ctx, &pb.Request{Op: &pb.Request_Reload{Reload: &pb.Empty{}}})
	return err
}

// PublicKey implements Seats.
func (c *sessionClient) PublicKey(ctx context.Context) ([]byte, error) {
	r, err := c.do(ctx, &pb.Request{Op: &pb.Request_PublicKey{PublicKey: &pb.Empty{}}})
	if err != nil {
		return nil, err
	}
	if k := r.GetBytes().GetData(); len(k) > 0 {
		return k, nil
	}
	return nil, nil
}

// Sign implements Seats.
func (c *sessionClient) Sign(ctx context.Context, data []byte) ([]byte, error) {
	r, err := c.do(ctx, &pb.Request{Op: &pb.Request_Sign{Sign: &pb.Bytes{Data: data}}})
	if err != nil {
		return nil, err
	}
	return r.GetBytes().GetData(), nil
}

// checkCheckout rejects an answer a plugin could not act on (a grant
// without a lease, ...), so that plugins may trust the fields the
// outcome promises.
func checkCheckout(c *Checkout) error {
	var bad string
	switch c.Outcome {
	case Granted:
		if c.Grant == nil || c.Grant.Lease == "" {
			bad = "granted without a lease"
		}
	case Denied:
		if c.Denial == nil {
			bad = "denied without a reason"
		}
	case Queued:
		if c.Ticket == "" {
			bad = "queued without a ticket"
		}
	default:
		bad = fmt.Sprintf("unknown outcome %d", c.Outcome)
	}
	if bad != "" {
		return &RemoteError{Message: "malformed checkout answer: " + bad}
	}
	return nil
}
