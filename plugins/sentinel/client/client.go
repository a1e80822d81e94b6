package client

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"net"
	"os"
	"os/user"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/licensegw/licensegw/internal/retry"
	"github.com/licensegw/licensegw/plugins/sentinel/wire"
)

// DefaultPort is the protocol's UDP port.
const DefaultPort = "5093"

// Backoff defaults.
const (
	DefaultTimeout    = 250 * time.Millisecond
	DefaultMaxTimeout = 4 * time.Second
	DefaultAttempts   = 8
)

// listSize is how far list requests are padded: three times 400 bytes
// allows full-sized pages.
const listSize = wire.MaxDatagram / wire.Amplification

// discoverSize lets a discover answer carry long names.
const discoverSize = 80

// Errors callers branch on.
var (
	// ErrNoAnswer: no answer came after every retransmission.
	ErrNoAnswer = errors.New("no answer from the license server")
	// ErrNoServer: discovery found no server for the feature.
	ErrNoServer = errors.New("no license server serves the feature")
)

// StatusError is an answer other than ok (or queued, where that is an
// outcome).
type StatusError struct {
	Status wire.Status
	InUse  int    // denials: tokens in use
	Seats  int    // denials: tokens of the feature
	Reason string // gone, dequeued: why
}

func (e *StatusError) Error() string {
	switch {
	case e.Status.Denial():
		return fmt.Sprintf("license server: %v (%d of %d in use)", e.Status, e.InUse, e.Seats)
	case e.Reason != "":
		return fmt.Sprintf("license server: %v (%s)", e.Status, e.Reason)
	case e.Status == wire.NotAuthorized:
		return "license server: not-authorized (this host may not query the server: it is not in the plugin's status_allow)"
	}
	return "license server: " + e.Status.String()
}

// IsStatus reports whether err is a StatusError with status st.
func IsStatus(err error, st wire.Status) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Status == st
}

// Options tune a Client. Zero values take the defaults.
type Options struct {
	User    string // default: the current user
	Host    string // default: the host name
	Display string // default: $DISPLAY

	Timeout    time.Duration // first wait for an answer (DefaultTimeout)
	MaxTimeout time.Duration // longest wait between retransmits (DefaultMaxTimeout)
	Attempts   int           // sends per call (DefaultAttempts); < 0: until ctx ends
}

func (o Options) withDefaults() Options {
	if o.User == "" {
		if u, err := user.Current(); err == nil {
			o.User = u.Username
		}
	}
	if o.Host == "" {
		o.Host, _ = os.Hostname()
	}
	if o.Display == "" {
		o.Display = os.Getenv("DISPLAY")
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxTimeout < o.Timeout {
		o.MaxTimeout = max(DefaultMaxTimeout, o.Timeout)
	}
	if o.Attempts == 0 {
		o.Attempts = DefaultAttempts
	}
	return o
}

// Client talks to a license server, or to the first of a list of
// redundant servers that answers (see Dial).
type Client struct {
	opts    Options
	servers []server
	cur     atomic.Int32 // index of the server asked first: the last that answered

	mu     sync.Mutex // one call at a time: answers are matched by id
	conn   net.PacketConn
	nextID uint64
	rnd    *rand.Rand
	buf    []byte
}

// server is one address of the list.
type server struct {
	name string // as listed
	addr *net.UDPAddr
}

// Dial returns a Client of the server at addr ("host" or "host:port"), or
// of a list of servers (ParseServers: "h1,h2:5093,h3" or "h1~h2"), the
// nodes of a licensegw cluster.
//
// With a list, a request goes to the server that answered last (the
// first, at the start). When no answer comes within a retransmission
// wait, the next retransmission goes to the next server of the list, so
// failing over follows the same schedule (Options.Timeout doubling to
// MaxTimeout, with jitter, Options.Attempts sends in all) and is bounded
// by it. A server that answers "unavailable" (a gateway node that cannot
// reach its cluster's leader) is passed over at once for the next; the
// call returns "unavailable" when every server of the list said so.
// Every send of one call carries the same request id from the same
// socket, so the gateway knows a checkout sent to two servers for one
// request and grants it once.
func Dial(addr string, opts Options) (*Client, error) {
	list, err := splitServers(addr)
	if err != nil {
		return nil, fmt.Errorf("sentinel client: %w", err)
	}
	servers := make([]server, 0, len(list))
	for _, e := range list {
		ua, err := resolve(e.addr)
		if err != nil {
			return nil, err
		}
		servers = append(servers, server{name: e.name, addr: ua})
	}
	conn, err := net.ListenPacket("udp", localFor(servers))
	if err != nil {
		return nil, fmt.Errorf("sentinel client: %w", err)
	}
	return newClient(conn, servers, opts), nil
}

func newClient(conn net.PacketConn, servers []server, opts Options) *Client {
	var seed [16]byte
	_, _ = crand.Read(seed[:]) // crypto/rand never fails on supported systems
	c := &Client{
		opts:    opts.withDefaults(),
		servers: servers,
		conn:    conn,
		rnd:     rand.New(rand.NewPCG(binary.BigEndian.Uint64(seed[:8]), binary.BigEndian.Uint64(seed[8:]))),
		buf:     make([]byte, wire.MaxDatagram+1),
	}
	// Ids start at random so that a restarted client does not meet its
	// predecessor's answers in the server's cache.
	c.nextID = c.rnd.Uint64()
	return c
}

// resolve parses "host" or "host:port".
func resolve(addr string) (*net.UDPAddr, error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		addr = net.JoinHostPort(addr, DefaultPort)
	}
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("sentinel client: %w", err)
	}
	return ua, nil
}

// localFor picks the local address family for the servers: IPv4 unless
// one of them is IPv6 only.
func localFor(servers []server) string {
	for _, s := range servers {
		if s.addr.IP.To4() == nil {
			return "[::]:0"
		}
	}
	return "0.0.0.0:0"
}

// retransmissions is the schedule of waits for an answer before each
// retransmission: ceilings from Timeout doubling to MaxTimeout, each wait
// drawn below its ceiling but no shorter than Timeout/2, which leaves an
// answer time to come.
func (o Options) retransmissions() backoff.BackOff {
	return retry.Policy{Initial: o.Timeout, Max: o.MaxTimeout, Floor: o.Timeout / 2}.BackOff()
}

// Server is the address of the server asked first: the one that answered
// last.
func (c *Client) Server() net.Addr { return c.servers[c.cur.Load()].addr }

// ServerName is Server as the list named it.
func (c *Client) ServerName() string { return c.servers[c.cur.Load()].name }

// Close closes the client's socket.
func (c *Client) Close() error { return c.conn.Close() }

// Do sends req (its ID is set here) padded to size bytes, retransmitting
// until an answer with its id comes from one of the servers, and returns
// the answer whatever its status. With several servers, a retransmission
// goes to the next server when the last send got no answer in time, and
// an "unavailable" answer sends the request to the next server at once
// (see Dial).
func (c *Client) Do(ctx context.Context, req *wire.Request, size int) (*wire.Response, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nextID++
	req.ID = c.nextID
	b, err := wire.EncodeRequest(req, size)
	if err != nil {
		return nil, err
	}
	n := len(c.servers)
	k := int(c.cur.Load())
	var (
		unavailable *wire.Response // the last "unavailable" answer
		said        uint64         // the servers that said so (a list has at most 64)
		sendErr     error
	)
	// Exponential backoff with full jitter, so that clients that lost
	// answers together do not retransmit together.
	waits := c.opts.retransmissions()
	for attempt := 0; c.opts.Attempts < 0 || attempt < c.opts.Attempts; attempt++ {
		wait := waits.NextBackOff()
		if _, err := c.conn.WriteTo(b, c.servers[k].addr); err != nil {
			if n == 1 {
				return nil, fmt.Errorf("sentinel client: %w", err)
			}
			// One unreachable address must not stop the others.
			sendErr = err
			k = (k + 1) % n
			continue
		}
		resp, from, err := c.await(ctx, req, wait)
		if err != nil {
			return nil, fmt.Errorf("%v: %w (%w)", req.Type, ErrNoAnswer, err)
		}
		switch {
		case resp == nil: // no answer in time: the next server
			k = (k + 1) % n
		case resp.Status == wire.Unavailable && n > 1:
			unavailable = resp
			said |= 1 << from
			if bits.OnesCount64(said) == n {
				return resp, nil
			}
			k = (from + 1) % n
		default:
			c.cur.Store(int32(from))
			return resp, nil
		}
	}
	if unavailable != nil {
		return unavailable, nil
	}
	if sendErr != nil {
		return nil, fmt.Errorf("%v after %d attempts: %w (last send error: %v)", req.Type, c.opts.Attempts, ErrNoAnswer, sendErr)
	}
	return nil, fmt.Errorf("%v after %d attempts: %w", req.Type, c.opts.Attempts, ErrNoAnswer)
}

// await reads until the answer to req comes from one of the servers (the
// answer and the server's index), the wait is over (nil, 0, nil) or ctx
// ends (error). Late answers to earlier requests, stray datagrams and
// datagrams from elsewhere are skipped; a late answer to req itself from
// a server asked before is taken.
func (c *Client) await(ctx context.Context, req *wire.Request, wait time.Duration) (*wire.Response, int, error) {
	type answer struct {
		resp *wire.Response
		from int
	}
	a, err := readUntil(ctx, c, wait, func(data []byte, from net.Addr) (answer, bool) {
		k := c.indexOf(from)
		if k < 0 {
			return answer{}, false
		}
		resp, err := wire.DecodeResponse(data)
		if err != nil || resp.ID != req.ID || resp.Type != req.Type {
			return answer{}, false
		}
		return answer{resp, k}, true
	})
	return a.resp, a.from, err
}

// indexOf is the index of the server from is, or -1.
func (c *Client) indexOf(from net.Addr) int {
	for i, s := range c.servers {
		if sameAddr(from, s.addr) {
			return i
		}
	}
	return -1
}

// readUntil reads datagrams until accept takes one (its result), the wait
// is over (the zero result, nil) or ctx ends (error).
func readUntil[T any](ctx context.Context, c *Client, wait time.Duration, accept func(data []byte, from net.Addr) (T, bool)) (T, error) {
	var zero T
	deadline := time.Now().Add(wait)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	stop := context.AfterFunc(ctx, func() { c.conn.SetReadDeadline(time.Now()) })
	defer stop()
	if err := c.conn.SetReadDeadline(deadline); err != nil {
		return zero, err
	}
	for {
		n, from, err := c.conn.ReadFrom(c.buf)
		if err != nil {
			if ctx.Err() != nil {
				return zero, ctx.Err()
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
					// The read deadline was ctx's: the context is over
					// even if its timer has not fired yet.
					return zero, context.DeadlineExceeded
				}
				return zero, nil
			}
			return zero, err
		}
		if v, ok := accept(c.buf[:n], from); ok {
			return v, nil
		}
	}
}

func sameAddr(a net.Addr, b *net.UDPAddr) bool {
	ua, ok := a.(*net.UDPAddr)
	return ok && ua.Port == b.Port && (ua.IP.Equal(b.IP) || b.IP.IsUnspecified())
}

// statusErr turns an answer's status into an error (nil for ok).
func statusErr(r *wire.Response) error {
	if r.Status == wire.OK {
		return nil
	}
	return &StatusError{Status: r.Status, InUse: r.InUse, Seats: r.Seats, Reason: r.Reason}
}
