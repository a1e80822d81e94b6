package client

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/licensegw/licensegw/internal/retry"
	"github.com/licensegw/licensegw/plugins/concurrentlm/wire"
)

// Options configure a Client. The zero value works.
type Options struct {
	// PublicKey pins the gateway's grant-signing key. When set, HELLO must
	// announce this key and every grant must carry a valid signature.
	PublicKey ed25519.PublicKey
	// Name and Version are sent in HELLO (client=, version=).
	Name, Version string
	// Dial opens connections; nil uses a net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// RequestTimeout bounds a request, every server it is asked of
	// included, when the caller's context has no deadline (default 30 s:
	// long enough to ride over a cluster's leader election).
	RequestTimeout time.Duration
	// AnswerTimeout is how long a request waits for its answer before the
	// server is taken for silent (a frozen gateway whose plugin still
	// holds the connection answers nothing): the connection is closed and
	// the request asked again, of the next server of the list (default
	// 8 s, longer than a cluster follower's 6 s of retries while no node
	// leads, so that a follower riding over an election is not left).
	// A queued checkout's wait for its grant is not bounded by it.
	AnswerTimeout time.Duration
	// ReconnectMin and ReconnectMax bound the backoff between reconnect
	// attempts (default 100 ms and 5 s): each pause is drawn uniformly
	// below a ceiling that starts at ReconnectMin and doubles up to
	// ReconnectMax (full jitter), also before the first attempt after a
	// lost connection.
	ReconnectMin, ReconnectMax time.Duration
}

// The defaults of Options.
const (
	DefaultRequestTimeout = 30 * time.Second
	DefaultAnswerTimeout  = 8 * time.Second
)

// Client is a connection to a gateway that reconnects as needed. It is safe
// for concurrent use; requests from several goroutines are pipelined.
type Client struct {
	addrs []string     // the gateways, in the order given
	next  atomic.Int64 // index of the address to try first: the last that answered
	opts  Options

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	nextID atomic.Uint64

	mu   sync.Mutex
	sess *session
	ttl  time.Duration // HELLO's ttl=
	key  []byte        // HELLO's key=, decoded

	dialMu sync.Mutex // one reconnect at a time
}

// Dial connects to addr (host:port) and says HELLO. Later connection
// losses are repaired by the next request that needs the connection.
//
// addr may list several gateways, comma-separated ("a:1648,b:1648,c:1648"),
// the nodes of a cluster: each connection goes to the first that answers
// HELLO, starting with the one that answered last. A request whose
// connection breaks, whose server stays silent for Options.AnswerTimeout,
// or which a server answers "unavailable, retry" is asked again, of the
// next server of the list, until it is answered or its deadline passes
// (see Client.Checkout for why a checkout asked twice takes one seat).
func Dial(ctx context.Context, addr string, opts Options) (*Client, error) {
	if opts.Dial == nil {
		var d net.Dialer
		opts.Dial = d.DialContext
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = DefaultRequestTimeout
	}
	if opts.AnswerTimeout <= 0 {
		opts.AnswerTimeout = DefaultAnswerTimeout
	}
	if opts.ReconnectMin <= 0 {
		opts.ReconnectMin = 100 * time.Millisecond
	}
	if opts.ReconnectMax < opts.ReconnectMin {
		opts.ReconnectMax = max(5*time.Second, opts.ReconnectMin)
	}
	addrs, err := splitAddrs(addr)
	if err != nil {
		return nil, err
	}
	c := &Client{addrs: addrs, opts: opts}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	if _, err := c.connect(ctx); err != nil {
		c.cancel()
		return nil, err
	}
	return c, nil
}

// Close ends the client and its leases' heartbeat loops; the leases stay
// checked out on the gateway until their TTL passes.
func (c *Client) Close() error {
	c.cancel()
	c.mu.Lock()
	s := c.sess
	c.sess = nil
	c.mu.Unlock()
	if s != nil {
		s.close()
	}
	return nil
}

// ServerKey returns the signing key the gateway announced, or nil.
func (c *Client) ServerKey() ed25519.PublicKey {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.key
}

// TTL returns the default lease TTL the gateway announced.
func (c *Client) TTL() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ttl
}

// session returns the live session, reconnecting with backoff until ctx
// ends if there is none.
func (c *Client) session(ctx context.Context) (*session, error) {
	c.mu.Lock()
	s := c.sess
	c.mu.Unlock()
	if s != nil {
		select {
		case <-s.done:
		default:
			return s, nil
		}
	}
	c.dialMu.Lock()
	defer c.dialMu.Unlock()
	// Cut short by Close as well as by ctx.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(c.ctx, cancel)()

	policy := retry.Policy{Initial: c.opts.ReconnectMin, Max: c.opts.ReconnectMax}
	if s != nil {
		// The session was lost, as every other client's was if the
		// gateway restarted: a jittered pause before the first attempt
		// too, so that they do not all reconnect in the same instant.
		if !retry.Sleep(ctx, policy.BackOff().NextBackOff()) {
			return nil, c.reconnectEnded(ctx, errors.New("connection lost"))
		}
	}
	s, err := retry.Do(ctx, policy, func() (*session, error) {
		c.mu.Lock()
		s := c.sess
		c.mu.Unlock()
		if s != nil {
			select {
			case <-s.done:
			default:
				return s, nil // another caller reconnected
			}
		}
		s, err := c.connect(ctx)
		if errors.Is(err, ErrKeyMismatch) || errors.Is(err, ErrClosed) {
			return nil, retry.Permanent(err)
		}
		return s, err
	})
	if err != nil {
		return nil, c.reconnectEnded(ctx, err)
	}
	return s, nil
}

// reconnectEnded is the error of a reconnection that stopped with err:
// ErrClosed when the client was closed meanwhile.
func (c *Client) reconnectEnded(ctx context.Context, err error) error {
	if c.ctx.Err() != nil {
		return ErrClosed
	}
	if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		return fmt.Errorf("%w (last: %v)", ctx.Err(), err)
	}
	return err
}

// connect dials the gateways in turn, from the last one that answered,
// and installs a session with the first that says HELLO.
func (c *Client) connect(ctx context.Context) (*session, error) {
	first := int(c.next.Load())
	var errs []error
	for i := range c.addrs {
		k := (first + i) % len(c.addrs)
		s, err := c.connectTo(ctx, k)
		if err == nil {
			c.next.Store(int64(k))
			return s, nil
		}
		if errors.Is(err, ErrKeyMismatch) || errors.Is(err, ErrClosed) || ctx.Err() != nil {
			return nil, err
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// connectTo dials the k-th gateway, says HELLO and installs the new
// session. A gateway that does not answer HELLO within AnswerTimeout is
// taken for silent.
func (c *Client) connectTo(ctx context.Context, k int) (*session, error) {
	if c.ctx.Err() != nil {
		return nil, ErrClosed
	}
	addr := c.addrs[k]
	nc, err := c.opts.Dial(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("clm: dial %s: %w", addr, err)
	}
	s := newSession(nc)
	s.idx, s.addr = k, addr
	var r wire.Request
	r.Verb = wire.Hello
	if c.opts.Name != "" {
		r.Set(wire.KeyClient, c.opts.Name)
	}
	if c.opts.Version != "" {
		r.Set(wire.KeyVersion, c.opts.Version)
	}
	r.Set(wire.KeyProto, "1")
	m, err := c.roundTrip(ctx, s, &r)
	if errors.Is(err, errSilent) {
		err = fmt.Errorf("clm: %s answered no HELLO within %v", addr, c.opts.AnswerTimeout)
	}
	if err == nil && m.Word != "OK" {
		err = answerError(m)
	}
	var key []byte
	if err == nil && m.Get("key") != "" {
		key, err = base64.RawURLEncoding.DecodeString(m.Get("key"))
	}
	if err == nil && c.opts.PublicKey != nil && !c.opts.PublicKey.Equal(ed25519.PublicKey(key)) {
		err = ErrKeyMismatch
	}
	if err != nil {
		s.close()
		return nil, err
	}
	ttl, _ := m.Int("ttl")
	c.mu.Lock()
	if old := c.sess; old != nil {
		old.close()
	}
	c.sess, c.ttl, c.key = s, time.Duration(ttl)*time.Second, key
	c.mu.Unlock()
	return s, nil
}

// roundTrip sends r on s and waits for the single answer line.
func (c *Client) roundTrip(ctx context.Context, s *session, r *wire.Request) (wire.Message, error) {
	lines, err := c.exchange(ctx, s, r, false)
	if err != nil {
		return wire.Message{}, err
	}
	return lines[0], nil
}

// exchange sends r on s and waits for its answer lines: errSilent when
// none came within AnswerTimeout (the caller ends s).
func (c *Client) exchange(ctx context.Context, s *session, r *wire.Request, multi bool) ([]wire.Message, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.opts.RequestTimeout)
		defer cancel()
	}
	r.Set(wire.KeyID, strconv.FormatUint(c.nextID.Add(1), 36))
	call, err := s.send(r, multi)
	if err != nil {
		return nil, err
	}
	return s.wait(ctx, call, c.opts.AnswerTimeout)
}

// answer is what do got for a request.
type answer struct {
	lines []wire.Message // one line, or FEATURE lines and END for STATUS
	s     *session       // the session that answered
	// retried: an earlier ask got no answer (silence, a lost connection),
	// so it may have been executed.
	retried bool
}

// do asks r (multi: a STATUS) until an answer settles it or ctx ends (its
// deadline is RequestTimeout when it has none). r is asked again, over a
// new connection, when the connection breaks; when the server stays silent
// for AnswerTimeout (its connection is closed and the next server of the
// list asked); and, after a backoff pause, when it answers "unavailable,
// retry" (of the next server too, unless this connection holds bind=conn
// leases or queued tickets that leaving would give up).
func (c *Client) do(ctx context.Context, r *wire.Request, multi bool) (answer, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.opts.RequestTimeout)
		defer cancel()
	}
	var (
		a      answer
		last   error
		pauses backoff.BackOff
	)
	for {
		s, err := c.session(ctx)
		if err != nil {
			if last != nil && !errors.Is(err, ErrClosed) {
				err = fmt.Errorf("%w (last: %w)", err, last)
			}
			return a, err
		}
		lines, err := c.exchange(ctx, s, r, multi)
		switch {
		case err == nil && !unavailable(lines):
			a.lines, a.s = lines, s
			return a, nil
		case err == nil:
			last = answerError(lines[0])
			if len(c.addrs) > 1 && !s.holds() {
				c.leave(s, last) // this server cannot decide now: the next may
			}
			if pauses == nil {
				pauses = retry.Policy{Initial: c.opts.ReconnectMin, Max: c.opts.ReconnectMax}.BackOff()
			}
			if !retry.Sleep(ctx, pauses.NextBackOff()) {
				return a, c.reconnectEnded(ctx, last)
			}
		case errors.Is(err, errSilent):
			a.retried = true
			last = fmt.Errorf("clm: %s answered nothing within %v", s.addr, c.opts.AnswerTimeout)
			c.leave(s, last)
		case errors.Is(err, ErrDisconnected) && ctx.Err() == nil && c.ctx.Err() == nil:
			a.retried = true
			last = err
		default: // ctx ended (the call is abandoned: what it took is given back), or closed
			if c.ctx.Err() != nil {
				err = ErrClosed
			}
			return a, err
		}
	}
}

// leave ends s, whose server is silent or cannot decide, so that the next
// connection goes to the next server of the list first.
func (c *Client) leave(s *session, why error) {
	c.next.CompareAndSwap(int64(s.idx), int64((s.idx+1)%len(c.addrs)))
	s.fail(why)
}

// unavailable reports whether lines is the answer "ERR code=unavailable".
func unavailable(lines []wire.Message) bool {
	return len(lines) == 1 && lines[0].Word == "ERR" && lines[0].Get("code") == "unavailable"
}

// Ping checks that the gateway answers.
func (c *Client) Ping(ctx context.Context) error {
	a, err := c.do(ctx, &wire.Request{Verb: wire.Ping}, false)
	if err == nil && a.lines[0].Word != "PONG" {
		err = answerError(a.lines[0])
	}
	return err
}

// FeatureStatus is one FEATURE line of STATUS.
type FeatureStatus struct {
	Name, Vendor, Version string
	Seats, InUse, Queued  int
	Expires               time.Time // zero: permanent
}

// Status lists the features matching feature and vendor ("" for all).
func (c *Client) Status(ctx context.Context, feature, vendor string) ([]FeatureStatus, error) {
	r := wire.Request{Verb: wire.Status}
	if feature != "" {
		r.Set(wire.KeyFeature, feature)
	}
	if vendor != "" {
		r.Set(wire.KeyVendor, vendor)
	}
	a, err := c.do(ctx, &r, true)
	if err != nil {
		return nil, err
	}
	var out []FeatureStatus
	for _, m := range a.lines {
		switch m.Word {
		case "FEATURE":
			f := FeatureStatus{Name: m.Get("name"), Vendor: m.Get("vendor"), Version: m.Get("version")}
			f.Seats, _ = m.Int("seats")
			f.InUse, _ = m.Int("in_use")
			f.Queued, _ = m.Int("queued")
			f.Expires, _ = m.Time("expires")
			out = append(out, f)
		case "END":
		default:
			return nil, answerError(m)
		}
	}
	return out, nil
}

// answerError turns an unexpected answer into an error.
func answerError(m wire.Message) error {
	switch m.Word {
	case "ERR":
		return &ServerError{Code: m.Get("code"), Message: m.Get("message")}
	case "DENIED":
		d := &DeniedError{Reason: m.Get("reason"), Message: m.Get("message")}
		d.InUse, _ = m.Int("in_use")
		d.Seats, _ = m.Int("seats")
		return d
	case "GONE":
		return &GoneError{Lease: m.Get("lease"), Ticket: m.Get("ticket"), Reason: m.Get("reason")}
	}
	return fmt.Errorf("%w: unexpected %s", ErrProtocol, m.Word)
}

func newNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func defaultUser() string { return userName(os.Getenv, user.Current) }

// userName is $USER (or $USERNAME, $LOGNAME) and, when none is set, as
// under systemd, cron and in containers, the process's own account.
func userName(getenv func(string) string, current func() (*user.User, error)) string {
	for _, k := range []string{"USER", "USERNAME", "LOGNAME"} {
		if v := getenv(k); v != "" {
			return v
		}
	}
	if u, err := current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "unknown"
}

func defaultHost() string {
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "unknown"
}

// splitAddrs parses a comma-separated list of host:port addresses.
func splitAddrs(list string) ([]string, error) {
	var addrs []string
	for a := range strings.SplitSeq(list, ",") {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(a); err != nil {
			return nil, fmt.Errorf("clm: gateway address %q: %w", a, err)
		}
		addrs = append(addrs, a)
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("clm: no gateway address in %q", list)
	}
	return addrs, nil
}
