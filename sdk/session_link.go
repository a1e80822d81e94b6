package sdk

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	pb "github.com/licensegw/licensegw/sdk/proto"
	"google.golang.org/grpc"
)

// Reopening a Seats session. A session can end while the gateway lives (a
// frame one side could not encode, a stream reset): the plugin then opens
// a new session on the same connection instead of exiting, so its clients'
// connections, and the queue tickets they wait on, survive. Only when no
// session opens within reopenWindow is the gateway taken for gone.
const (
	reopenWindow  = 2 * time.Second // below the gateway's resumeGrace
	reopenAttempt = time.Second     // one attempt to open a stream
	reopenPause   = 100 * time.Millisecond
)

// opener opens one session: its stream, and what ends it.
type opener func(ctx context.Context) (clientStream, func(), error)

// grpcOpener opens sessions as Session streams on conn.
func grpcOpener(conn *grpc.ClientConn) opener {
	return func(ctx context.Context) (clientStream, func(), error) {
		ctx, cancel := context.WithCancel(ctx)
		stream, err := pb.NewSeatsClient(conn).Session(ctx)
		if err != nil {
			cancel()
			return nil, nil, err
		}
		return stream, cancel, nil
	}
}

// framesOpener opens sessions on the data plane: one connection to socket
// each (frames.go), its frames on pipes when pipes is set.
func framesOpener(socket string, cookie []byte, pipes bool) opener {
	return func(ctx context.Context) (clientStream, func(), error) {
		fc, err := dialFrames(ctx, socket, cookie, pipes)
		if err != nil {
			return nil, nil, err
		}
		return &frameClientStream{frameConn: fc}, func() { fc.nc.Close() }, nil
	}
}

// seatsLink is the plugin's Seats: the current session on the gateway
// connection, replaced by a new one when it ends.
type seatsLink struct {
	open opener
	log  hclog.Logger
	gone func(error) // no session could be opened: the gateway is gone

	mu       sync.Mutex
	cur      *sessionClient
	cancel   func() // ends the current stream
	closed   bool
	sessions int // opened so far
}

var _ Seats = (*seatsLink)(nil)

// newSeatsLink opens the first session with open.
func newSeatsLink(open opener, log hclog.Logger, gone func(error)) (*seatsLink, error) {
	l := &seatsLink{open: open, log: log, gone: gone}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.openLocked(nil); err != nil {
		return nil, err
	}
	return l, nil
}

// openLocked opens a session that takes over tickets.
func (l *seatsLink) openLocked(tickets map[string]chan TicketUpdate) error {
	ctx, cancel := context.WithCancel(context.Background())
	// A gRPC stream lives as long as ctx, so the attempt is bounded by a
	// timer rather than by a deadline on ctx.
	t := time.AfterFunc(reopenAttempt, cancel)
	stream, end, err := l.open(ctx)
	if !t.Stop() && err == nil {
		end()
		err = context.DeadlineExceeded
	}
	if err != nil {
		cancel()
		return fmt.Errorf("open the Seats session: %w", err)
	}
	attempt := cancel
	cancel = func() { end(); attempt() }
	l.cur, l.cancel = newSessionClient(stream, tickets, l.ended), cancel
	l.sessions++
	return nil
}

// ended is every session's onEnd: it opens the next session and hands it
// the waiting tickets, or reports the gateway gone.
func (l *seatsLink) ended(old *sessionClient, cause error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed || l.cur != old {
		return
	}
	l.cancel()
	tickets := old.takeTickets()
	deadline := time.Now().Add(reopenWindow)
	var err error
	for {
		if err = l.openLocked(tickets); err == nil {
			l.log.Warn("the Seats session ended; a new one is open", "cause", cause, "tickets", len(tickets), "sessions", l.sessions)
			return
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(reopenPause)
	}
	for t, ch := range tickets {
		deliverUpdate(ch, TicketUpdate{Ticket: t, Denial: &Denial{Reason: "unavailable", Message: "the gateway is gone"}})
	}
	l.gone(fmt.Errorf("%v; reopening: %w", cause, err))
}

// close ends the current session for good.
func (l *seatsLink) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	l.closed = true
	l.cur.close()
	l.cancel()
}

func (l *seatsLink) session() *sessionClient {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cur
}

// retry runs op on the current session, and once more on the next one
// when the first ended before the call was sent (so nothing was done).
func retry[T any](l *seatsLink, op func(*sessionClient) (T, error)) (T, error) {
	c := l.session()
	v, err := op(c)
	if errors.Is(err, errNotSent) {
		if next := l.session(); next != c {
			return op(next)
		}
	}
	return v, err
}

// Checkout implements Seats.
func (l *seatsLink) Checkout(ctx context.Context, req CheckoutRequest) (*Checkout, error) {
	return retry(l, func(c *sessionClient) (*Checkout, error) { return c.Checkout(ctx, req) })
}

// Heartbeat implements Seats.
func (l *seatsLink) Heartbeat(ctx context.Context, lease string) (LeaseState, error) {
	return retry(l, func(c *sessionClient) (LeaseState, error) { return c.Heartbeat(ctx, lease) })
}

// Checkin implements Seats.
func (l *seatsLink) Checkin(ctx context.Context, lease string) error {
	_, err := retry(l, func(c *sessionClient) (struct{}, error) { return struct{}{}, c.Checkin(ctx, lease) })
	return err
}

// Cancel implements Seats.
func (l *seatsLink) Cancel(ctx context.Context, ticket string) error {
	_, err := retry(l, func(c *sessionClient) (struct{}, error) { return struct{}{}, c.Cancel(ctx, ticket) })
	return err
}

// Remove implements Seats.
func (l *seatsLink) Remove(ctx context.Context, lease string, by Client) error {
	_, err := retry(l, func(c *sessionClient) (struct{}, error) { return struct{}{}, c.Remove(ctx, lease, by) })
	return err
}

// Status implements Seats.
func (l *seatsLink) Status(ctx context.Context, q StatusQuery) ([]FeatureStatus, error) {
	return retry(l, func(c *sessionClient) ([]FeatureStatus, error) { return c.Status(ctx, q) })
}

// Reload implements Seats.
func (l *seatsLink) Reload(ctx context.Context) error {
	_, err := retry(l, func(c *sessionClient) (struct{}, error) { return struct{}{}, c.Reload(ctx) })
	return err
}

// PublicKey implements Seats.
func (l *seatsLink) PublicKey(ctx context.Context) ([]byte, error) {
	return retry(l, func(c *sessionClient) ([]byte, error) { return c.PublicKey(ctx) })
}

// Sign implements Seats.
func (l *seatsLink) Sign(ctx context.Context, data []byte) ([]byte, error) {
	return retry(l, func(c *sessionClient) ([]byte, error) { return c.Sign(ctx, data) })
}

// SeatsClient is the plugin's side of the Seats service on a gRPC
// connection to a server of NewSeatsServer: the Seats that sdk.Serve hands
// a plugin, reopening its session when it breaks. It is exported for hosts
// and tests that build their own transport (sdktest.Session).
type SeatsClient struct{ *seatsLink }

// NewSeatsClient opens a Seats session on conn. log may be nil.
func NewSeatsClient(conn *grpc.ClientConn, log hclog.Logger) (*SeatsClient, error) {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	l, err := newSeatsLink(grpcOpener(conn), log, func(err error) { log.Error("the Seats service is gone", "error", err) })
	if err != nil {
		return nil, err
	}
	return &SeatsClient{l}, nil
}

// Close ends the session; calls fail with ErrUnavailable from then on.
func (c *SeatsClient) Close() { c.close() }

// NewFramesSeatsClient opens a Seats session on the data plane at socket
// (a FramesServer's), presenting cookie. log may be nil.
func NewFramesSeatsClient(socket string, cookie []byte, log hclog.Logger) (*SeatsClient, error) {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	l, err := newSeatsLink(framesOpener(socket, cookie, pipesSupported), log, func(err error) { log.Error("the Seats service is gone", "error", err) })
	if err != nil {
		return nil, err
	}
	return &SeatsClient{l}, nil
}
