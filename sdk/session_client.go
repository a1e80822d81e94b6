package sdk

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	pb "github.com/licensegw/licensegw/sdk/proto"
	"google.golang.org/protobuf/proto"
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
// sdk.Seats whose calls are multiplexed by request id and sent in batches,
// while one reader goroutine dispatches responses and ticket updates.
//
// On the data plane the callers write the frames themselves (flat
// combining): a caller that finds nobody writing encodes every pending
// request into one frame and writes it, then does so again for the
// requests that arrived meanwhile. So a request costs no goroutine
// hand-off on its way out, and a burst still leaves in one write. On a
// gRPC stream, whose Send must not run under the lock, one writer
// goroutine sends the batches instead.
type sessionClient struct {
	stream clientStream
	fw     frameWriter   // the data plane's writer; nil on a gRPC stream
	wake   chan struct{} // cap 1: the writer goroutine has work (gRPC)
	done   chan struct{} // closed when the session is over
	free   sync.Pool     // *call, for reuse (data plane only)

	mu        sync.Mutex
	nextID    uint64
	calls     map[uint64]*call
	abandoned map[uint64]bool // checkouts whose caller gave up: undo what they got
	tickets   map[string]chan TicketUpdate
	out       []*pb.Request
	abandon   []uint64
	writing   bool           // a caller is writing frames (data plane)
	frame     pb.PluginFrame // the frame being encoded, reused (data plane)
	names     names          // strings answers repeat, interned (data plane)
	scratch   answer         // an abandoned checkout's answer, decoded (data plane)
	err       error          // why the session ended
}

// clientStream is the plugin's side of one session: a gRPC Session stream
// or a connection on the data plane (frames.go).
type clientStream interface {
	Send(*pb.PluginFrame) error
	Recv() (*pb.GatewayFrame, error)
}

// frameWriter is a stream whose frames are encoded and written in two
// steps: encode runs under the session's lock, so a request's message is
// read only while the lock is held and may be reused as soon as its
// response arrives; send writes the encoded frame, outside the lock, by
// one caller at a time.
type frameWriter interface {
	encode(*pb.PluginFrame) ([]byte, error)
	send([]byte) error
}

// errNotSent marks a call refused because its session had already ended:
// nothing reached the gateway, so the call may go on the next session.
var errNotSent = errors.New("not sent")

type call struct {
	done    chan struct{}     // cap 1: ans is filled, sent once under mu
	ans     answer            // the response, filled by the reader under mu
	updates chan TicketUpdate // a queued checkout's updates, set before done is sent

	// The request, and the messages of the frequent operations, kept with
	// the call so that a reused call costs no allocation.
	req      pb.Request
	ref      pb.LeaseRef
	checkout pb.CheckoutRequest
	client   pb.Client
	opCO     pb.Request_Checkout
	opHB     pb.Request_Heartbeat
	opCI     pb.Request_Checkin
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
	c.fw, _ = stream.(frameWriter)
	if c.fw == nil {
		go c.writeLoop()
	}
	go c.readLoop(onEnd)
	return c
}

// newCall returns a call with an empty request, reused when it can be.
func (c *sessionClient) newCall() *call {
	if cl, ok := c.free.Get().(*call); ok {
		return cl
	}
	return newUndoCall()
}

func newUndoCall() *call { return &call{done: make(chan struct{}, 1)} }

// recycle keeps cl for a later call. Only a call whose response arrived
// is recycled, and only on the data plane: its request was encoded under
// the lock before it was sent, so nothing reads it any more. (A gRPC
// stream's writer marshals outside the lock, and an abandoned call's
// request may not have been sent yet: those are left to the collector.)
func (c *sessionClient) recycle(cl *call) {
	if c.fw == nil {
		return
	}
	cl.updates = nil
	cl.ans.reset()
	cl.req.Reset()
	cl.ref.Reset()
	cl.checkout.Reset()
	cl.client.Reset()
	cl.opCO.Checkout, cl.opHB.Heartbeat, cl.opCI.Checkin = nil, nil, nil
	c.free.Put(cl)
}

// close ends the session from the plugin's side: calls fail from now on.
// Closing the connection under the stream is the caller's business (a
// CloseSend here could race the writer's Send).
func (c *sessionClient) close() {
	c.fail(fmt.Errorf("%w: session closed", ErrUnavailable))
}

// signal has the queued requests written, for a caller that does not
// write them itself (the reader's undo of an abandoned checkout, a call
// given up); c.mu held.
func (c *sessionClient) signal() {
	if c.fw != nil {
		if !c.writing {
			go func() {
				c.mu.Lock()
				c.flushLocked()
				c.mu.Unlock()
			}()
		}
		return
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// flushLocked writes the queued requests and abandons on the data plane,
// frame after frame until none is left, unless another caller is already
// doing so (it will take these too). c.mu is held on entry and on return,
// and released while a frame is written.
func (c *sessionClient) flushLocked() {
	if c.writing {
		return
	}
	c.writing = true
	defer func() { c.writing = false }()
	// When other calls are in flight, let the callers that are runnable
	// queue theirs first: one frame then carries them all, which saves the
	// gateway a read and a wake-up per request. A lone call goes at once.
	if len(c.calls) > 1 {
		c.mu.Unlock()
		runtime.Gosched()
		c.mu.Lock()
	}
	for c.err == nil && (len(c.out) > 0 || len(c.abandon) > 0) {
		n := min(len(c.out), maxBatch)
		c.frame.Requests, c.frame.Abandon = c.out[:n], c.abandon
		b, err := c.fw.encode(&c.frame)
		c.frame.Requests, c.frame.Abandon = nil, nil
		// Encoded: the queue's arrays are reused for what comes next.
		rest := copy(c.out, c.out[n:])
		clear(c.out[rest:])
		c.out, c.abandon = c.out[:rest], c.abandon[:0]
		if err == nil {
			c.mu.Unlock()
			err = c.fw.send(b)
			c.mu.Lock()
		}
		if err != nil {
			// The connection is closed (send closes it on failure), so
			// the reader sees the stream end and hands the tickets on.
			c.endLocked(fmt.Errorf("%w: session send: %v", ErrUnavailable, err))
			return
		}
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

// rawFrames is a stream whose gateway frames the session decodes itself
// (the data plane's, frames_decode.go): recvRaw returns a frame's bytes,
// valid until the next call.
type rawFrames interface {
	recvRaw() ([]byte, error)
}

func (c *sessionClient) readLoop(onEnd func(*sessionClient, error)) {
	if rf, ok := c.stream.(rawFrames); ok {
		c.readRaw(rf, onEnd)
		return
	}
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

// readRaw is readLoop on the data plane: responses are decoded by hand
// into their calls' answers.
func (c *sessionClient) readRaw(rf rawFrames, onEnd func(*sessionClient, error)) {
	c.names = names{}
	resp, update := c.dispatchRaw, c.updateRaw
	for {
		b, err := rf.recvRaw()
		if err == nil {
			err = splitGatewayFrame(b, resp, update)
		}
		if err != nil {
			c.end(fmt.Errorf("%w: session: %v", ErrUnavailable, err))
			if onEnd != nil {
				onEnd(c, err)
			}
			c.fail(c.err)
			return
		}
	}
}

// dispatchRaw decodes the Response b into its call's answer and hands it
// over; see dispatch.
func (c *sessionClient) dispatchRaw(b []byte) error {
	id, err := responseID(b)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.abandoned[id] {
		a := &c.scratch
		a.reset()
		if err := decodeResponse(b, a, hints{}, c.names); err != nil {
			return err
		}
		c.undoLocked(a)
		a.reset()
		return nil
	}
	cl, ok := c.calls[id]
	if !ok {
		return nil // an abandoned call other than a checkout, or an undo's answer
	}
	h := hints{lease: cl.ref.Lease, vendor: cl.checkout.Vendor, feature: cl.checkout.Feature, version: cl.checkout.Version}
	if err := decodeResponse(b, &cl.ans, h, c.names); err != nil {
		return err
	}
	c.deliverLocked(cl)
	return nil
}

// updateRaw decodes and delivers the TicketUpdate b.
func (c *sessionClient) updateRaw(b []byte) error {
	var u pb.TicketUpdate
	if err := proto.Unmarshal(b, &u); err != nil {
		return err
	}
	c.update(ticketUpdateFromPB(&u))
	return nil
}

// dispatch hands r to its caller. A queued checkout's ticket is registered
// before the caller sees it, so no update can overtake it.
func (c *sessionClient) dispatch(r *pb.Response) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.abandoned[r.GetId()] {
		var a answer
		answerFromPB(r, &a)
		c.undoLocked(&a)
		return
	}
	cl, ok := c.calls[r.GetId()]
	if !ok {
		return // an abandoned call other than a checkout, or an undo's answer
	}
	answerFromPB(r, &cl.ans)
	c.deliverLocked(cl)
}

// undoLocked gives back what an abandoned checkout got: its caller gave
// up but the gateway went ahead, and a seat would be held until its TTL.
// c.mu held.
func (c *sessionClient) undoLocked(a *answer) {
	delete(c.abandoned, a.id)
	if a.result != resultCheckout {
		return
	}
	switch {
	case a.co.hasGrant:
		cl := newUndoCall()
		cl.req.Op = &pb.Request_Checkin{Checkin: &pb.LeaseRef{Lease: a.co.grant.Lease}}
		c.enqueueUndoLocked(cl)
	case a.co.ticket != "":
		cl := newUndoCall()
		cl.req.Op = &pb.Request_Cancel{Cancel: &pb.TicketRef{Ticket: a.co.ticket}}
		c.enqueueUndoLocked(cl)
	}
}

// deliverLocked hands cl its answer. A queued checkout's ticket is
// registered before the caller sees it, so no update can overtake it.
// c.mu held.
func (c *sessionClient) deliverLocked(cl *call) {
	delete(c.calls, cl.ans.id)
	if cl.ans.result == resultCheckout && cl.ans.co.outcome == pb.Outcome_OUTCOME_QUEUED {
		cl.updates = make(chan TicketUpdate, ticketBuffer)
		c.tickets[cl.ans.co.ticket] = cl.updates
	}
	cl.done <- struct{}{}
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

// enqueueLocked queues cl's request under a new id; c.mu held.
func (c *sessionClient) enqueueLocked(cl *call) uint64 {
	c.nextID++
	cl.req.Id = c.nextID
	c.calls[cl.req.Id] = cl
	c.out = append(c.out, &cl.req)
	return cl.req.Id
}

// enqueueUndoLocked queues a request nobody waits for (the undo of an
// abandoned checkout); c.mu held.
func (c *sessionClient) enqueueUndoLocked(cl *call) {
	c.enqueueLocked(cl)
	c.signal()
}

// do sends cl's request and waits for its answer. The error is the
// call's transport or gateway error, decoded. cl must not be used after.
func (c *sessionClient) do(ctx context.Context, cl *call) (answer, error) {
	a, _, err := c.doCall(ctx, cl)
	return a, err
}

// doCall is do that also returns a queued checkout's updates.
func (c *sessionClient) doCall(ctx context.Context, cl *call) (answer, chan TicketUpdate, error) {
	if err := ctx.Err(); err != nil {
		return answer{}, nil, err
	}
	if d, ok := ctx.Deadline(); ok {
		cl.req.TimeoutNs = int64(max(time.Until(d), time.Millisecond))
	}
	c.mu.Lock()
	if c.err != nil {
		err := fmt.Errorf("%w (%w)", c.err, errNotSent)
		c.mu.Unlock()
		return answer{}, nil, err
	}
	id := c.enqueueLocked(cl)
	if c.fw != nil {
		c.flushLocked()
	} else {
		c.signal()
	}
	c.mu.Unlock()

	select {
	case <-cl.done:
	case <-ctx.Done():
		if err := c.giveUp(id, cl, ctx.Err()); err != nil {
			return answer{}, nil, err
		}
	case <-c.done:
		c.mu.Lock()
		err := c.err
		c.mu.Unlock()
		select {
		case <-cl.done: // answered just before the end
		default:
			return answer{}, nil, err
		}
	}
	a, updates := cl.ans, cl.updates
	c.recycle(cl)
	if a.err != nil {
		return answer{}, nil, errorFromPB(a.err)
	}
	return a, updates, nil
}

// giveUp abandons call id, unless its answer already arrived: then it
// returns nil, and the answer is the caller's, so that a granted lease is
// never lost.
func (c *sessionClient) giveUp(id uint64, cl *call, cause error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, pending := c.calls[id]; !pending {
		<-cl.done // dispatch sent it under mu: it is there
		return nil
	}
	delete(c.calls, id)
	if c.err == nil {
		if cl.req.GetCheckout() != nil {
			c.abandoned[id] = true
		}
		c.abandon = append(c.abandon, id)
		c.signal()
	}
	return cause
}

// leaseCall is a call whose operation takes a lease.
func (c *sessionClient) leaseCall(lease string) *call {
	cl := c.newCall()
	cl.ref.Lease = lease
	return cl
}

// Checkout implements Seats.
func (c *sessionClient) Checkout(ctx context.Context, req CheckoutRequest) (*Checkout, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	cl := c.newCall()
	checkoutRequestInto(&cl.checkout, &cl.client, req)
	cl.opCO.Checkout = &cl.checkout
	cl.req.Op = &cl.opCO
	a, updates, err := c.doCall(ctx, cl)
	if err != nil {
		return nil, err
	}
	co := a.co.checkout()
	if err := checkCheckout(co); err != nil {
		return nil, err
	}
	if co.Outcome == Queued {
		co.Updates = updates
	}
	return co, nil
}

// Heartbeat implements Seats.
func (c *sessionClient) Heartbeat(ctx context.Context, lease string) (LeaseState, error) {
	if err := checkRequired(IdentLease, lease); err != nil {
		return LeaseState{}, err
	}
	cl := c.leaseCall(lease)
	cl.opHB.Heartbeat = &cl.ref
	cl.req.Op = &cl.opHB
	a, err := c.do(ctx, cl)
	if err != nil {
		return LeaseState{}, err
	}
	return LeaseState{Lease: a.ls.lease, TTL: time.Duration(a.ls.ttl), Expires: fromUnixNanos(a.ls.expiresNs)}, nil
}

// Checkin implements Seats.
func (c *sessionClient) Checkin(ctx context.Context, lease string) error {
	if err := checkRequired(IdentLease, lease); err != nil {
		return err
	}
	cl := c.leaseCall(lease)
	cl.opCI.Checkin = &cl.ref
	cl.req.Op = &cl.opCI
	_, err := c.do(ctx, cl)
	return err
}

// Cancel implements Seats.
func (c *sessionClient) Cancel(ctx context.Context, ticket string) error {
	if err := checkRequired(IdentTicket, ticket); err != nil {
		return err
	}
	cl := c.newCall()
	cl.req.Op = &pb.Request_Cancel{Cancel: &pb.TicketRef{Ticket: ticket}}
	_, err := c.do(ctx, cl)
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
	cl := c.newCall()
	cl.req.Op = &pb.Request_Remove{Remove: &pb.LeaseRef{Lease: lease, By: clientToPB(by)}}
	_, err := c.do(ctx, cl)
	return err
}

// Status implements Seats.
func (c *sessionClient) Status(ctx context.Context, q StatusQuery) ([]FeatureStatus, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	cl := c.newCall()
	cl.req.Op = &pb.Request_Status{Status: &pb.StatusQuery{Vendor: q.Vendor, Feature: q.Feature, CountsOnly: q.CountsOnly}}
	a, err := c.do(ctx, cl)
	if err != nil {
		return nil, err
	}
	return statusFromPB(a.status), nil
}

// Reload implements Seats.
func (c *sessionClient) Reload(ctx context.Context) error {
	cl := c.newCall()
	cl.req.Op = &pb.Request_Reload{Reload: &pb.Empty{}}
	_, err := c.do(ctx, cl)
	return err
}

// PublicKey implements Seats.
func (c *sessionClient) PublicKey(ctx context.Context) ([]byte, error) {
	cl := c.newCall()
	cl.req.Op = &pb.Request_PublicKey{PublicKey: &pb.Empty{}}
	a, err := c.do(ctx, cl)
	if err != nil {
		return nil, err
	}
	if k := a.data; len(k) > 0 {
		return k, nil
	}
	return nil, nil
}

// Sign implements Seats.
func (c *sessionClient) Sign(ctx context.Context, data []byte) ([]byte, error) {
	cl := c.newCall()
	cl.req.Op = &pb.Request_Sign{Sign: &pb.Bytes{Data: data}}
	a, err := c.do(ctx, cl)
	if err != nil {
		return nil, err
	}
	return a.data, nil
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
