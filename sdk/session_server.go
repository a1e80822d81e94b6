package sdk

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	pb "github.com/licensegw/licensegw/sdk/proto"
	"google.golang.org/protobuf/proto"
)

// cancelGrace bounds how long the gateway side spends cancelling the queue
// tickets of a plugin whose session ended.
const cancelGrace = 5 * time.Second

// resumeGrace is how long the queue tickets of a session that ended wait
// for the plugin to open its next session before they are cancelled. A
// plugin whose session broke while the gateway lives opens a new one at
// once and keeps its clients' tickets; a plugin that is gone does not.
const resumeGrace = 3 * time.Second

// maxInflight bounds the requests of one session handled at once.
const maxInflight = 4096

// sessionServer is the gateway's side of the Seats service: it serves each
// Session stream by answering heartbeats, checkouts and checkins of a
// Seats that allows it without a goroutine per request (the rest each in a
// goroutine of its own), and batching the answers into frames.
//
// Whoever finds nobody writing writes the pending answers: the session's
// reader writes the answers it made itself (heartbeats) right after the
// frame that asked, with no hand-off; answers completed elsewhere (the
// journal's publisher, a request's goroutine) wake the writer goroutine,
// because those callers must not block on the connection.
type sessionServer struct {
	pb.UnimplementedSeatsServer
	seats Seats
	log   hclog.Logger

	// Queue tickets belong to the plugin, not to one session: their
	// updates go to the live session, and wait in parked while there is
	// none, for resumeGrace.
	mu      sync.Mutex
	live    *session
	tickets map[string]bool // queued tickets not yet final
	parked  []*pb.TicketUpdate
	orphan  *time.Timer // cancels the tickets when no session comes back
}

// NewSeatsServer returns the gRPC Seats service for seats, as the gateway
// serves it to a plugin over the go-plugin broker. Remote.Configure
// registers it; it is exported for hosts that build their own transport.
func NewSeatsServer(seats Seats, log hclog.Logger) pb.SeatsServer {
	return newSessionServer(seats, log)
}

func newSessionServer(seats Seats, log hclog.Logger) *sessionServer {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &sessionServer{seats: seats, log: log, tickets: map[string]bool{}}
}

// serverStream is the gateway's side of one session: a gRPC Session stream
// or a connection on the data plane (frames.go).
type serverStream interface {
	Send(*pb.GatewayFrame) error
	Recv() (*pb.PluginFrame, error)
	Context() context.Context
}

// session is one Session stream's state.
type session struct {
	srv    *sessionServer
	stream serverStream
	wake   chan struct{}

	mu        sync.Mutex
	responses []*pb.Response
	slots     []*answerSlot // slots[i] holds responses[i], or nil (see answerSlot)
	updates   []*pb.TicketUpdate
	inflight  map[uint64]context.CancelFunc
	ended     bool
	writing   bool  // the reader or the writer goroutine is sending frames
	sendErr   error // the stream failed to send: nothing more is sent

	// Answer slots (answerSlot), on a stream done with a frame when Send
	// returns (the data plane) only.
	recycles bool
	free     []*answerSlot   // guarded by mu
	shared   *answerSlot     // the slot of every request, if not recycles (reader only)
	frame    pb.GatewayFrame // the frame flushLocked sends, if recycles
}

// Session serves one gRPC Session stream.
func (s *sessionServer) Session(stream pb.Seats_SessionServer) error {
	return s.serve(stream)
}

// serve serves one session on either transport until it ends.
func (s *sessionServer) serve(stream serverStream) error {
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	_, recycles := stream.(interface{ doneWithFrameOnSend() })
	ss := &session{
		srv: s, stream: stream, wake: make(chan struct{}, 1),
		inflight: map[uint64]context.CancelFunc{}, recycles: recycles,
	}
	s.attach(ss)
	writeErr := make(chan error, 1)
	go func() { writeErr <- ss.writeLoop(ctx) }()

	// Heartbeats touch only the lease table: a Seats that says so has them
	// answered here, on the reader, with no goroutine or context each and
	// never behind a checkout that waits for the journal.
	inline, _ := s.seats.(InlineHeartbeater)
	// Checkouts and checkins of an AsyncSeats are started here too, and
	// answered by the Seats when their events are safe.
	async, _ := s.seats.(AsyncSeats)
	// The data plane's stream reuses the requests of a frame for the next.
	_, reused := stream.(interface{ reusesRequests() })
	var handlers sync.WaitGroup
	// A full semaphore stops reading: gRPC flow control then pushes back
	// on the plugin instead of the gateway growing goroutines without end.
	sem := make(chan struct{}, maxInflight)
	release := func() { <-sem; handlers.Done() } // an async call's end
	var err error
	for {
		var f *pb.PluginFrame
		if f, err = stream.Recv(); err != nil {
			break
		}
		ss.mu.Lock()
		for _, id := range f.GetAbandon() {
			if c, ok := ss.inflight[id]; ok {
				c()
			}
		}
		ss.mu.Unlock()
		for _, req := range f.GetRequests() {
			if hb := req.GetHeartbeat(); hb != nil && inline != nil {
				ss.heartbeatNow(inline, req.GetId(), hb.GetLease(), ss.takeSlot(release))
				continue
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
			}
			if ctx.Err() != nil {
				break
			}
			if async != nil {
				handlers.Add(1)
				slot := ss.takeSlot(release)
				if ss.startAsync(async, req, slot) {
					continue
				}
				ss.mu.Lock()
				ss.putSlotLocked(slot)
				ss.mu.Unlock()
				handlers.Done()
			}
			if reused {
				// Read on before it is done: it needs a copy of its own.
				req = proto.CloneOf(req)
			}
			rctx, rcancel := requestContext(ctx, req)
			ss.mu.Lock()
			ss.inflight[req.GetId()] = rcancel
			ss.mu.Unlock()
			handlers.Go(func() {
				defer func() { <-sem }()
				ss.handle(rctx, req)
			})
		}
		// What this frame asked that is answered already (heartbeats,
		// a refused checkout) leaves now, from here, unless the writer
		// is sending: waking it would cost a hand-off per answer.
		ss.mu.Lock()
		if len(ss.responses) > 0 || len(ss.updates) > 0 {
			ss.flushLocked()
		}
		ss.mu.Unlock()
	}
	cancel()
	handlers.Wait()
	ss.end()
	if werr := <-writeErr; werr != nil && !errors.Is(werr, context.Canceled) {
		s.log.Debug("seats session writer ended", "error", werr)
	}
	s.log.Debug("seats session ended", "error", err)
	return nil
}

// InlineHeartbeater is a Seats whose heartbeats never wait: HeartbeatNow
// renews the lease from in-memory state and returns at once (the gateway's
// ledger: heartbeats are not journaled). The Seats session answers such a
// Seats' heartbeats as it reads them, without a goroutine or a context per
// call.
type InlineHeartbeater interface {
	HeartbeatNow(lease string) (LeaseState, error)
}

// AsyncSeats is a Seats whose checkouts and checkins need nobody to wait
// for them: the call returns at once, and done is called once with what
// Checkout or Checkin would have returned, either before the call returns
// or later on another goroutine (the gateway's ledger calls it when the
// journal has acknowledged the events). done never blocks. The Seats
// session serves such a Seats' checkouts and checkins as it reads them,
// with no goroutine and no context per call; their deadline is the
// Seats' own (the ledger's journal wait).
type AsyncSeats interface {
	CheckoutAsync(req CheckoutRequest, done func(*Checkout, error))
	CheckinAsync(lease string, done func(error))
}

// startAsync starts req on an AsyncSeats if it is a checkout or a checkin,
// and reports whether it did. slot's release is called once the answer is
// queued; slot is the answer's, nil where answers are not recycled.
func (ss *session) startAsync(a AsyncSeats, req *pb.Request, slot *answerSlot) bool {
	id := req.GetId()
	switch op := req.GetOp().(type) {
	case *pb.Request_Checkout:
		cr := checkoutRequestFromPB(op.Checkout)
		if err := cr.Validate(); err != nil {
			ss.respond(id, &pb.Response{Error: errorToPB(err)}, nil, slot.queued())
			slot.release()
			return true
		}
		if slot.recycled() {
			slot.id = id
			a.CheckoutAsync(cr, slot.onCheckout)
			return true
		}
		a.CheckoutAsync(cr, func(c *Checkout, err error) {
			resp, updates := checkoutResponse(c, err)
			ss.respondAsync(id, resp, updates, nil)
			slot.release()
		})
		return true
	case *pb.Request_Checkin:
		lease := op.Checkin.GetLease()
		if err := checkRequired(IdentLease, lease); err != nil {
			ss.respond(id, &pb.Response{Error: errorToPB(err)}, nil, slot.queued())
			slot.release()
			return true
		}
		if slot.recycled() {
			slot.id = id
			a.CheckinAsync(lease, slot.onCheckin)
			return true
		}
		a.CheckinAsync(lease, func(err error) {
			ss.respondAsync(id, errOnly(err), nil, nil)
			slot.release()
		})
		return true
	}
	return false
}

// heartbeatNow answers heartbeat id on the reader, which sends the answer
// after the frame; slot, if it is recycled, holds the answer.
func (ss *session) heartbeatNow(h InlineHeartbeater, id uint64, lease string, slot *answerSlot) {
	var resp *pb.Response
	if err := checkRequired(IdentLease, lease); err != nil {
		resp = &pb.Response{Error: errorToPB(err)}
	} else if st, err := h.HeartbeatNow(lease); err != nil {
		resp = &pb.Response{Error: errorToPB(err)}
	} else if slot.recycled() {
		resp = slot.state.fill(st)
	} else {
		resp = leaseStateResponse(st)
	}
	resp.Id = id
	slot = slot.queued()
	// No wake-up: the reader sends it once the frame is read.
	ss.mu.Lock()
	if !ss.ended {
		ss.responses = append(ss.responses, resp)
		ss.slots = append(ss.slots, slot)
	}
	ss.mu.Unlock()
}

// leaseStateAnswer holds a heartbeat's response and its parts in one
// allocation instead of three (every heartbeat makes one).
type leaseStateAnswer struct {
	resp   pb.Response
	result pb.Response_LeaseState
	state  pb.LeaseState
}

func leaseStateResponse(st LeaseState) *pb.Response {
	return new(leaseStateAnswer).fill(st)
}

// fill makes a the answer st, whatever it held before, and returns it.
func (a *leaseStateAnswer) fill(st LeaseState) *pb.Response {
	a.state = pb.LeaseState{Lease: st.Lease, TtlNs: int64(st.TTL), ExpiresUnixNs: unixNanos(st.Expires)}
	a.result = pb.Response_LeaseState{LeaseState: &a.state}
	a.resp = pb.Response{Result: &a.result}
	return &a.resp
}

// grantAnswer holds a granted checkout's response and its parts in one
// allocation instead of four (every granted checkout makes one).
type grantAnswer struct {
	resp   pb.Response
	result pb.Response_Checkout
	co     pb.CheckoutResult
	grant  pb.Grant
}

// grantResponse is the response to c, a grant.
func grantResponse(c *Checkout) *pb.Response {
	return new(grantAnswer).fill(c)
}

// fill makes a the answer to c, a grant, whatever it held before, and
// returns it.
func (a *grantAnswer) fill(c *Checkout) *pb.Response {
	g := c.Grant
	a.grant = pb.Grant{
		Lease: g.Lease, Vendor: g.Vendor, Feature: g.Feature, Version: g.Version, Count: int32(g.Count),
		TtlNs: int64(g.TTL), ExpiresUnixNs: unixNanos(g.Expires), Borrowed: g.Borrowed, Signature: g.Signature,
	}
	a.co = pb.CheckoutResult{
		Outcome: pb.Outcome(c.Outcome), Grant: &a.grant,
		Denial: denialToPB(c.Denial), Ticket: c.Ticket, Position: int32(c.Position),
	}
	a.result = pb.Response_Checkout{Checkout: &a.co}
	a.resp = pb.Response{Result: &a.result}
	return &a.resp
}

// requestContext bounds a request by the caller's timeout, if it sent one.
func requestContext(ctx context.Context, req *pb.Request) (context.Context, context.CancelFunc) {
	if t := req.GetTimeoutNs(); t > 0 {
		return context.WithTimeout(ctx, time.Duration(t))
	}
	return context.WithCancel(ctx)
}

// handle runs one request and queues its response.
func (ss *session) handle(ctx context.Context, req *pb.Request) {
	resp, updates := ss.srv.call(ctx, req)
	ss.mu.Lock()
	if c, ok := ss.inflight[req.GetId()]; ok {
		c()
		delete(ss.inflight, req.GetId())
	}
	ss.mu.Unlock()
	if !ss.respond(req.GetId(), resp, updates, nil) {
		// The plugin can no longer learn what it got: give it back.
		ss.srv.undo(resp)
	}
}

// respond queues the response to request id; updates, if not nil, are a
// queued checkout's; slot, if not nil, is the answerSlot resp is in. It
// reports false if the session has ended: the caller then undoes what resp
// granted (and slot is not reused). It never blocks: an AsyncSeats calls it
// from the goroutine that completes journal commits.
func (ss *session) respond(id uint64, resp *pb.Response, updates <-chan TicketUpdate, slot *answerSlot) bool {
	resp.Id = id
	ticket := resp.GetCheckout().GetTicket()
	if updates != nil {
		// Registered before the response is queued: an update that
		// follows finds the ticket, and never overtakes the response.
		ss.srv.addTicket(ticket)
	}
	ss.mu.Lock()
	ended := ss.ended
	if !ended {
		ss.responses = append(ss.responses, resp)
		ss.slots = append(ss.slots, slot)
	}
	ss.mu.Unlock()
	ss.signal()
	if updates != nil {
		go ss.srv.forward(ticket, updates)
	}
	return !ended
}

// respondAsync is respond for an AsyncSeats' answer: an answer the plugin
// can no longer receive is undone on a goroutine of its own, because giving
// back waits for the journal.
func (ss *session) respondAsync(id uint64, resp *pb.Response, updates <-chan TicketUpdate, slot *answerSlot) {
	if !ss.respond(id, resp, updates, slot) {
		go ss.srv.undo(resp)
	}
}

// attach makes ss the live session: it takes the updates parked while the
// plugin had none, and the orphaned tickets are no longer cancelled.
func (s *sessionServer) attach(ss *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.live = ss
	if s.orphan != nil {
		s.orphan.Stop()
		s.orphan = nil
	}
	if len(s.parked) > 0 {
		ss.mu.Lock()
		ss.updates = append(ss.updates, s.parked...)
		ss.mu.Unlock()
		s.parked = nil
		ss.signal()
	}
}

// detach ends ss's turn as the live session. The plugin's tickets wait
// resumeGrace for its next session, then they are cancelled: a plugin
// that is gone cannot tell its clients about a grant.
func (s *sessionServer) detach(ss *session, unsent []*pb.TicketUpdate) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Updates the session could not send go first: they are older than
	// any parked since.
	s.parked = append(unsent, s.parked...)
	if s.live != ss {
		if s.live != nil && len(s.parked) > 0 {
			s.live.mu.Lock()
			s.live.updates = append(s.live.updates, s.parked...)
			s.live.mu.Unlock()
			s.parked = nil
			s.live.signal()
		}
		return
	}
	s.live = nil
	if len(s.tickets) > 0 && s.orphan == nil {
		s.orphan = time.AfterFunc(resumeGrace, s.cancelOrphans)
	}
}

func (s *sessionServer) addTicket(t string) {
	s.mu.Lock()
	s.tickets[t] = true
	s.mu.Unlock()
}

// forward relays a queued checkout's updates to the live session.
func (s *sessionServer) forward(ticket string, updates <-chan TicketUpdate) {
	for u := range updates {
		pu := ticketUpdateToPB(u)
		s.mu.Lock()
		if u.Final() {
			delete(s.tickets, ticket)
		}
		live := s.live
		if live == nil {
			s.parked = append(s.parked, pu)
		}
		s.mu.Unlock()
		if live != nil && !live.push(pu) {
			s.mu.Lock()
			s.parked = append(s.parked, pu)
			s.mu.Unlock()
		}
	}
}

// push queues an update on ss unless it has ended.
func (ss *session) push(u *pb.TicketUpdate) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.ended {
		return false
	}
	ss.updates = append(ss.updates, u)
	ss.signal()
	return true
}

// cancelOrphans cancels the tickets of a plugin that did not come back.
func (s *sessionServer) cancelOrphans() {
	s.mu.Lock()
	if s.live != nil {
		s.mu.Unlock()
		return
	}
	s.orphan = nil
	tickets := make([]string, 0, len(s.tickets))
	for t := range s.tickets {
		tickets = append(tickets, t)
	}
	parked := s.parked
	s.parked = nil
	s.mu.Unlock()
	s.cancel(tickets)
	// A ticket granted during the grace period is a lease now, and its
	// update never reached the plugin: nobody holds that seat. Give it
	// back, as undo does for an answer that was never sent.
	for _, u := range parked {
		if lease := u.GetGrant().GetLease(); lease != "" {
			s.giveBack(lease)
		}
	}
}

func (s *sessionServer) cancel(tickets []string) {
	if len(tickets) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), cancelGrace)
	defer cancel()
	for _, t := range tickets {
		if err := s.seats.Cancel(ctx, t); err != nil && !errors.Is(err, ErrUnknownTicket) {
			s.log.Warn("cancelling the ticket of an ended session", "ticket", t, "error", err)
		}
	}
}

// undo gives back what an answer the plugin never received granted.
func (s *sessionServer) undo(resp *pb.Response) {
	co := resp.GetCheckout()
	switch {
	case co.GetGrant().GetLease() != "":
		s.giveBack(co.GetGrant().GetLease())
	case co.GetTicket() != "":
		s.cancel([]string{co.GetTicket()})
	}
}

// giveBack checks in a lease whose grant never reached the plugin.
func (s *sessionServer) giveBack(lease string) {
	ctx, cancel := context.WithTimeout(context.Background(), cancelGrace)
	defer cancel()
	if err := s.seats.Checkin(ctx, lease); err != nil {
		s.log.Warn("checking in a grant its plugin never received", "lease", lease, "error", err)
	}
}

// end marks the session over. Answers it could not send are undone; its
// tickets are the plugin's and wait for the next session (detach).
func (ss *session) end() {
	ss.mu.Lock()
	ss.ended = true
	unsent, updates := ss.responses, ss.updates
	ss.responses, ss.slots, ss.updates = nil, nil, nil
	ss.mu.Unlock()
	ss.srv.detach(ss, updates)
	for _, r := range unsent {
		ss.srv.undo(r)
	}
}

func (ss *session) signal() {
	select {
	case ss.wake <- struct{}{}:
	default:
	}
}

func (ss *session) writeLoop(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ss.wake:
		}
		if ctx.Err() != nil {
			// The session is ending: what is queued now is undone by
			// end, not sent into a connection that is going away.
			return ctx.Err()
		}
		// Let the callers that are runnable enqueue too: one frame then
		// carries them all (batching is what makes the stream cheaper
		// than a call per request).
		runtime.Gosched()
		ss.mu.Lock()
		ss.flushLocked()
		err := ss.sendErr
		ss.mu.Unlock()
		if err != nil {
			return err
		}
	}
}

// flushLocked sends the queued answers and updates, frame after frame
// until none is left, unless someone is already doing so (they take these
// too: they look again under the lock before they stop). ss.mu is held on
// entry and on return, and released while a frame is sent.
func (ss *session) flushLocked() {
	if ss.writing || ss.sendErr != nil || ss.ended {
		return
	}
	ss.writing = true
	for ss.sendErr == nil && !ss.ended && (len(ss.responses) > 0 || len(ss.updates) > 0) {
		nr := min(len(ss.responses), maxBatch)
		nu := min(len(ss.updates), maxBatch)
		var f *pb.GatewayFrame
		if ss.recycles {
			f = &ss.frame // done with when Send returns; one writer at a time
		} else {
			f = &pb.GatewayFrame{}
		}
		f.Responses, f.Updates = ss.responses[:nr:nr], ss.updates[:nu:nu]
		queued, queuedSlots, sent := ss.responses, ss.slots, ss.slots[:nr:nr]
		ss.responses, ss.slots, ss.updates = ss.responses[nr:], ss.slots[nr:], ss.updates[nu:]
		ss.mu.Unlock()
		err := ss.stream.Send(f)
		ss.mu.Lock()
		ss.sendErr = err
		f.Responses, f.Updates = nil, nil
		// Sent (or lost with the stream): the slots' answers are done.
		for i, slot := range sent {
			if slot != nil {
				ss.putSlotLocked(slot)
				sent[i] = nil
			}
		}
		if ss.recycles && len(ss.responses) == 0 && !ss.ended {
			// Nothing came while the frame was written, and Send is
			// done with it: the next answers go from the start of
			// the arrays again, not into what is left of them (ever
			// less, then new arrays, frame after frame).
			clear(queued[:nr])
			ss.responses, ss.slots = queued[:0], queuedSlots[:0]
		}
	}
	ss.writing = false
}

// call runs req against the accounting. For a queued checkout it also
// returns the ticket's updates.
func (s *sessionServer) call(ctx context.Context, req *pb.Request) (*pb.Response, <-chan TicketUpdate) {
	fail := func(err error) *pb.Response { return &pb.Response{Error: errorToPB(err)} }
	// A plugin in another language, or one built against an older SDK,
	// may not have checked: the rules hold at the gateway either way.
	if err := validateRequest(req); err != nil {
		return fail(err), nil
	}
	switch op := req.GetOp().(type) {
	case *pb.Request_Checkout:
		return checkoutResponse(s.seats.Checkout(ctx, checkoutRequestFromPB(op.Checkout)))
	case *pb.Request_Heartbeat:
		st, err := s.seats.Heartbeat(ctx, op.Heartbeat.GetLease())
		if err != nil {
			return fail(err), nil
		}
		return leaseStateResponse(st), nil
	case *pb.Request_Checkin:
		return errOnly(s.seats.Checkin(ctx, op.Checkin.GetLease())), nil
	case *pb.Request_Cancel:
		return errOnly(s.seats.Cancel(ctx, op.Cancel.GetTicket())), nil
	case *pb.Request_Remove:
		return errOnly(s.seats.Remove(ctx, op.Remove.GetLease(), clientFromPB(op.Remove.GetBy()))), nil
	case *pb.Request_Status:
		fs, err := s.seats.Status(ctx, StatusQuery{Vendor: op.Status.GetVendor(), Feature: op.Status.GetFeature(), CountsOnly: op.Status.GetCountsOnly()})
		if err != nil {
			return fail(err), nil
		}
		return &pb.Response{Result: &pb.Response_Status{Status: statusToPB(fs)}}, nil
	case *pb.Request_Reload:
		return errOnly(s.seats.Reload(ctx)), nil
	case *pb.Request_PublicKey:
		k, err := s.seats.PublicKey(ctx)
		if err != nil {
			return fail(err), nil
		}
		return &pb.Response{Result: &pb.Response_Bytes{Bytes: &pb.Bytes{Data: k}}}, nil
	case *pb.Request_Sign:
		sig, err := s.seats.Sign(ctx, op.Sign.GetData())
		if err != nil {
			return fail(err), nil
		}
		return &pb.Response{Result: &pb.Response_Bytes{Bytes: &pb.Bytes{Data: sig}}}, nil
	default:
		return &pb.Response{Error: &pb.Error{Message: "unknown operation"}}, nil
	}
}

// checkoutResponse is the response to a checkout that returned c and err,
// and a queued checkout's updates.
func checkoutResponse(c *Checkout, err error) (*pb.Response, <-chan TicketUpdate) {
	if err == nil && c == nil {
		err = errors.New("the accounting returned no checkout answer")
	}
	if err != nil {
		return &pb.Response{Error: errorToPB(err)}, nil
	}
	var resp *pb.Response
	if c.Outcome == Granted && c.Grant != nil {
		resp = grantResponse(c)
	} else {
		resp = &pb.Response{Result: &pb.Response_Checkout{Checkout: checkoutToPB(c)}}
	}
	if c.Outcome == Queued && c.Updates != nil {
		return resp, c.Updates
	}
	return resp, nil
}

func errOnly(err error) *pb.Response {
	if err != nil {
		return &pb.Response{Error: errorToPB(err)}
	}
	return &pb.Response{}
}

// validateRequest applies the identifier rules to every string of req.
func validateRequest(req *pb.Request) error {
	switch op := req.GetOp().(type) {
	case *pb.Request_Checkout:
		return checkoutRequestFromPB(op.Checkout).Validate()
	case *pb.Request_Heartbeat:
		return checkRequired(IdentLease, op.Heartbeat.GetLease())
	case *pb.Request_Checkin:
		return checkRequired(IdentLease, op.Checkin.GetLease())
	case *pb.Request_Remove:
		if err := checkRequired(IdentLease, op.Remove.GetLease()); err != nil {
			return err
		}
		return clientFromPB(op.Remove.GetBy()).Validate()
	case *pb.Request_Cancel:
		return checkRequired(IdentTicket, op.Cancel.GetTicket())
	case *pb.Request_Status:
		return StatusQuery{Vendor: op.Status.GetVendor(), Feature: op.Status.GetFeature()}.Validate()
	}
	return nil
}
