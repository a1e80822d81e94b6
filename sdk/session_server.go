package sdk

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	pb "github.com/licensegw/licensegw/sdk/proto"
)

// cancelGrace bounds how long the gateway side spends cancelling the queue
// tickets of a plugin whose session ended.
const cancelGrace = 5 * time.Second

// maxInflight bounds the requests of one session handled at once.
const maxInflight = 4096

// sessionServer is the gateway's side of the Seats service: it serves each
// Session stream by handling every request in its own goroutine against
// seats, and batching the answers through one writer goroutine.
type sessionServer struct {
	pb.UnimplementedSeatsServer
	seats Seats
	log   hclog.Logger
}

// NewSeatsServer returns the gRPC Seats service for seats, as the gateway
// serves it to a plugin over the go-plugin broker. Remote.Configure
// registers it; it is exported for hosts that build their own transport.
func NewSeatsServer(seats Seats, log hclog.Logger) pb.SeatsServer {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &sessionServer{seats: seats, log: log}
}

// session is one Session stream's state.
type session struct {
	srv    *sessionServer
	stream pb.Seats_SessionServer
	wake   chan struct{}

	mu        sync.Mutex
	responses []*pb.Response
	updates   []*pb.TicketUpdate
	inflight  map[uint64]context.CancelFunc
	tickets   map[string]bool // queued tickets not yet final
	ended     bool
}

func (s *sessionServer) Session(stream pb.Seats_SessionServer) error {
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	ss := &session{
		srv: s, stream: stream, wake: make(chan struct{}, 1),
		inflight: map[uint64]context.CancelFunc{}, tickets: map[string]bool{},
	}
	writeErr := make(chan error, 1)
	go func() { writeErr <- ss.writeLoop(ctx) }()

	var handlers sync.WaitGroup
	// A full semaphore stops reading: gRPC flow control then pushes back
	// on the plugin instead of the gateway growing goroutines without end.
	sem := make(chan struct{}, maxInflight)
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
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
			}
			if ctx.Err() != nil {
				break
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
	resp.Id = req.GetId()
	ss.mu.Lock()
	if c, ok := ss.inflight[req.GetId()]; ok {
		c()
		delete(ss.inflight, req.GetId())
	}
	ss.responses = append(ss.responses, resp)
	ticket := resp.GetCheckout().GetTicket()
	if updates != nil && !ss.ended {
		ss.tickets[ticket] = true
	}
	ss.mu.Unlock()
	ss.signal()
	if updates != nil {
		// The response is queued first, so no update overtakes it.
		go ss.forward(ticket, updates)
	}
}

// forward relays a queued checkout's updates onto the stream.
func (ss *session) forward(ticket string, updates <-chan TicketUpdate) {
	for u := range updates {
		ss.mu.Lock()
		if u.Final() {
			delete(ss.tickets, ticket)
		}
		if !ss.ended {
			ss.updates = append(ss.updates, ticketUpdateToPB(u))
		}
		ss.mu.Unlock()
		ss.signal()
	}
}

// end marks the session over and cancels its waiting tickets: a plugin
// that is gone cannot tell its clients about a grant.
func (ss *session) end() {
	ss.mu.Lock()
	ss.ended = true
	tickets := make([]string, 0, len(ss.tickets))
	for t := range ss.tickets {
		tickets = append(tickets, t)
	}
	ss.mu.Unlock()
	if len(tickets) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), cancelGrace)
	defer cancel()
	for _, t := range tickets {
		if err := ss.srv.seats.Cancel(ctx, t); err != nil && !errors.Is(err, ErrUnknownTicket) {
			ss.srv.log.Warn("cancelling the ticket of an ended session", "ticket", t, "error", err)
		}
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
		// Let the callers that are runnable enqueue too: one frame then
		// carries them all (batching is what makes the stream cheaper
		// than a call per request).
		runtime.Gosched()
		for {
			ss.mu.Lock()
			nr := min(len(ss.responses), maxBatch)
			nu := min(len(ss.updates), maxBatch)
			f := &pb.GatewayFrame{Responses: ss.responses[:nr:nr], Updates: ss.updates[:nu:nu]}
			ss.responses, ss.updates = ss.responses[nr:], ss.updates[nu:]
			ss.mu.Unlock()
			if nr == 0 && nu == 0 {
				break
			}
			if err := ss.stream.Send(f); err != nil {
				return err
			}
		}
	}
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
		c, err := s.seats.Checkout(ctx, checkoutRequestFromPB(op.Checkout))
		if err == nil && c == nil {
			err = errors.New("the accounting returned no checkout answer")
		}
		if err != nil {
			return fail(err), nil
		}
		resp := &pb.Response{Result: &pb.Response_Checkout{Checkout: checkoutToPB(c)}}
		if c.Outcome == Queued && c.Updates != nil {
			return resp, c.Updates
		}
		return resp, nil
	case *pb.Request_Heartbeat:
		st, err := s.seats.Heartbeat(ctx, op.Heartbeat.GetLease())
		if err != nil {
			return fail(err), nil
		}
		return &pb.Response{Result: &pb.Response_LeaseState{LeaseState: &pb.LeaseState{
			Lease: st.Lease, TtlNs: int64(st.TTL), ExpiresUnixNs: unixNanos(st.Expires),
		}}}, nil
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
