package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/licensegw/licensegw/plugins/flexlm/wire"
)

// Options say who the client is and how it reconnects. Empty fields are
// filled from the environment: the login name, the host name and $DISPLAY
// (else the host).
type Options struct {
	Vendor  string // the vendor daemon to use; "" takes the server's first
	User    string
	Host    string
	Display string
	Project string // sent as the PROJECT of options files ($LM_PROJECT by default)
	Program string // announced in HELLO

	// NoReconnect turns reconnection off: when the vendor connection
	// drops, every License is lost (Err wraps ErrClosed), and calls fail
	// until a later call connects again.
	NoReconnect bool
	// MinBackoff and MaxBackoff bound the pause before each reconnection
	// attempt; it starts at MinBackoff and doubles up to MaxBackoff, with
	// jitter (defaults DefaultMinBackoff and DefaultMaxBackoff).
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// GiveUpAfter ends reconnection when the server has been unreachable
	// this long: the licences still held are lost (Err wraps ErrClosed).
	// 0 means DefaultGiveUpAfter; negative means never give up.
	GiveUpAfter time.Duration

	// ConnectTimeout bounds connecting to one server (its lmgrd, then
	// its vendor daemon) before the next server of the list is tried.
	// 0 means $FLEXLM_TIMEOUT (microseconds, as FlexLM reads it) when
	// set, else DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// RequestTimeout bounds the wait for the first answer to a
	// CHECKOUT: a server silent this long is taken for dead, its
	// connection is closed and the checkout asked again (of the next
	// server of the list). 0 means DefaultRequestTimeout.
	RequestTimeout time.Duration
	// RetryUnavailable is how long a checkout that servers answer
	// "unavailable, retry" (ERROR -96: a cluster node that cannot reach
	// its leader) is asked again of the next server of the list, with
	// backoff. 0 means DefaultRetryUnavailable; negative, or a single
	// server, returns the first such answer.
	RetryUnavailable time.Duration
}

// Reconnection defaults (Options.MinBackoff, MaxBackoff, GiveUpAfter).
const (
	DefaultMinBackoff = 100 * time.Millisecond
	DefaultMaxBackoff = 30 * time.Second
	// DefaultGiveUpAfter is FlexLM's default patience: five retries a
	// minute apart.
	DefaultGiveUpAfter = 5 * time.Minute
	// DefaultConnectTimeout bounds connecting to one server.
	DefaultConnectTimeout = 5 * time.Second
	// DefaultRequestTimeout bounds the wait for a CHECKOUT's first answer.
	DefaultRequestTimeout = 30 * time.Second
	// DefaultRetryUnavailable rides over a cluster's leader election.
	DefaultRetryUnavailable = 30 * time.Second
)

// EnvTimeout is FlexLM's variable for the connect timeout, in
// microseconds.
const EnvTimeout = "FLEXLM_TIMEOUT"

func (o Options) withDefaults() Options {
	if o.User == "" {
		if u, err := user.Current(); err == nil {
			o.User = u.Username
		} else {
			o.User = os.Getenv("USER")
		}
	}
	if o.Host == "" {
		o.Host, _ = os.Hostname()
	}
	if o.Display == "" {
		o.Display = os.Getenv("DISPLAY")
		if o.Display == "" {
			o.Display = o.Host
		}
	}
	if o.Project == "" {
		o.Project = os.Getenv("LM_PROJECT")
	}
	if o.Program == "" {
		o.Program = "flexlm-go-client"
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = DefaultMinBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	o.MaxBackoff = max(o.MaxBackoff, o.MinBackoff)
	if o.GiveUpAfter == 0 {
		o.GiveUpAfter = DefaultGiveUpAfter
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
		if us, err := strconv.ParseInt(os.Getenv(EnvTimeout), 10, 64); err == nil && us > 0 {
			o.ConnectTimeout = time.Duration(us) * time.Microsecond
		}
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	if o.RetryUnavailable == 0 {
		o.RetryUnavailable = DefaultRetryUnavailable
	}
	return o
}

// Client is a connection to a licence server: its lmgrd port and, once a
// vendor call needs it, its vendor daemon. The server may be one of a
// list (a redundant triad, or the entries of a licence search path): the
// Client uses one at a time and fails over to the next. Like FlexLM's
// library it survives a server restart: when the vendor connection drops
// it reconnects (asking lmgrd for the vendor port again) and checks out
// again every licence it held; see Options.NoReconnect. A Client is safe
// for concurrent use.
type Client struct {
	addrs []Address // the servers, in order
	opts  Options

	connMu sync.Mutex // serialises (re)connecting

	mu          sync.Mutex
	cur         int // index in addrs of the server in use (the last that served)
	lmgrd       *conn
	lmgrdAt     int // index in addrs of lmgrd's server
	vendor      *conn
	vendorName  string
	licenses    map[*License]struct{} // held, to check out again on a new connection
	changed     chan struct{}         // closed (and replaced) when vendor changes or reconnection ends
	supervising bool                  // a supervise goroutine watches the vendor connection
	gaveUp      error                 // why the last reconnection ended without a connection
	closed      bool
	closing     chan struct{}
}

// Dial connects to the first server of spec that answers, at its lmgrd
// port and then at the port of opts.Vendor's daemon, which lmgrd names.
//
// spec is a licence search path (ParseSearchPath): port@host, a triad
// port@h1,port@h2,port@h3, a licence file, or several of those separated
// by ':' (';' on Windows). "" means the environment's
// (SearchPathFromEnv: $VENDOR_LICENSE_FILE, then $LM_LICENSE_FILE), else
// 27000@localhost. Every server of the path is one the Client may fail
// over to (see the package documentation).
func Dial(ctx context.Context, spec string, opts Options) (*Client, error) {
	if spec == "" {
		spec = SearchPathFromEnv(opts.Vendor, os.Getenv)
	}
	if spec == "" {
		spec = fmt.Sprintf("%d@localhost", DefaultPort)
	}
	as, err := ParseServers(spec)
	if err != nil {
		return nil, err
	}
	return DialServers(ctx, as, opts)
}

// DialAddress is Dial for one server.
func DialAddress(ctx context.Context, a Address, opts Options) (*Client, error) {
	return DialServers(ctx, []Address{a}, opts)
}

// DialServers is Dial for a list of servers, tried in order.
func DialServers(ctx context.Context, as []Address, opts Options) (*Client, error) {
	if len(as) == 0 {
		return nil, fmt.Errorf("%w: no server", ErrBadAddress)
	}
	c := newClient(as, opts)
	if _, err := c.vendorConn(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// DialLmgrd connects to the lmgrd port only; vendor calls connect to the
// vendor daemon when first needed. Administrative tools use it so that
// ServerInfo works while the vendor daemon is down.
func DialLmgrd(ctx context.Context, a Address, opts Options) (*Client, error) {
	c := newClient([]Address{a}, opts)
	l, err := c.dialLmgrd(ctx, a)
	if err != nil {
		return nil, err
	}
	c.lmgrd = l
	return c, nil
}

func newClient(as []Address, opts Options) *Client {
	return &Client{addrs: slices.Clone(as), opts: opts.withDefaults(), vendorName: opts.Vendor, licenses: map[*License]struct{}{},
		changed: make(chan struct{}), closing: make(chan struct{})}
}

// Address is the server the client is connected to (or was last).
func (c *Client) Address() Address {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.addrs[c.cur]
}

// Servers is the list of servers the client fails over between.
func (c *Client) Servers() []Address { return append([]Address(nil), c.addrs...) }

func (c *Client) dialLmgrd(ctx context.Context, a Address) (*conn, error) {
	l, err := dialConn(ctx, a.HostPort())
	if err != nil {
		return nil, err
	}
	o := c.opts
	if _, err := l.request(ctx, wire.New(wire.Hello, 0).Str(wire.TProgram, o.Program).Str(wire.TUser, o.User).Str(wire.THost, o.Host)); err != nil {
		l.close()
		return nil, err
	}
	return l, nil
}

// alive reports whether v is a connection that has not ended.
func alive(v *conn) bool { return v != nil && v.Err() == nil }

// lmgrdConn returns the lmgrd connection, dialling it again if it ended
// (and reconnection is on).
func (c *Client) lmgrdConn(ctx context.Context) (*conn, error) {
	c.mu.Lock()
	l := c.lmgrd
	c.mu.Unlock()
	if alive(l) || l != nil && c.opts.NoReconnect {
		return l, nil // a dead one answers its error
	}
	c.connMu.Lock()
	defer c.connMu.Unlock()
	return c.lmgrdConnLocked(ctx)
}

// lmgrdConnLocked is lmgrdConn under connMu: the servers are tried in
// turn from the one in use.
func (c *Client) lmgrdConnLocked(ctx context.Context) (*conn, error) {
	c.mu.Lock()
	l, closed, cur := c.lmgrd, c.closed, c.cur
	c.mu.Unlock()
	if closed {
		return nil, errClientClosed
	}
	if alive(l) {
		return l, nil
	}
	var errs []error
	for i := range c.addrs {
		k := (cur + i) % len(c.addrs)
		l, err := c.lmgrdAtLocked(ctx, k)
		if err == nil {
			return l, nil
		}
		if errors.Is(err, errClientClosed) || ctx.Err() != nil {
			return nil, err
		}
		errs = append(errs, err)
	}
	return nil, c.joinErrors(errs)
}

// lmgrdAtLocked (under connMu) returns an lmgrd connection to server k,
// the one there is or a new one, with ConnectTimeout.
func (c *Client) lmgrdAtLocked(ctx context.Context, k int) (*conn, error) {
	c.mu.Lock()
	l, at := c.lmgrd, c.lmgrdAt
	c.mu.Unlock()
	if alive(l) && at == k {
		return l, nil
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.ConnectTimeout)
	defer cancel()
	nl, err := c.dialLmgrd(ctx, c.addrs[k])
	if err != nil {
		return nil, fmt.Errorf("lmgrd %s: %w", c.addrs[k], err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		nl.close()
		return nil, errClientClosed
	}
	if c.lmgrd != nil {
		c.lmgrd.close()
	}
	c.lmgrd, c.lmgrdAt = nl, k
	return nl, nil
}

// joinErrors is the error of a pass over the servers that each failed:
// the one error of a single server as it is, else every server's.
func (c *Client) joinErrors(errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	return fmt.Errorf("no server of %d answered: %w", len(errs), errors.Join(errs...))
}

// vendorConn returns the vendor daemon connection, connecting (through
// lmgrd) when there is none or it ended.
func (c *Client) vendorConn(ctx context.Context) (*conn, error) {
	c.mu.Lock()
	v := c.vendor
	c.mu.Unlock()
	if alive(v) {
		return v, nil
	}
	c.connMu.Lock()
	defer c.connMu.Unlock()
	return c.connectLocked(ctx, false)
}

// connectLocked (under connMu) connects to a vendor daemon, unless another
// caller already did: it tries the servers in turn, from the one in use
// or, with next (after that one failed), from the one after it. A new
// connection is watched by supervise, which reconnects when it drops.
func (c *Client) connectLocked(ctx context.Context, next bool) (*conn, error) {
	c.mu.Lock()
	v, closed, cur := c.vendor, c.closed, c.cur
	c.mu.Unlock()
	if closed {
		return nil, errClientClosed
	}
	if alive(v) {
		return v, nil
	}
	n := len(c.addrs)
	if next {
		cur++
	}
	var errs []error
	down := 0
	for i := range n {
		k := (cur + i) % n
		v, err := c.connectTo(ctx, k)
		if err == nil {
			return v, nil
		}
		if errors.Is(err, errClientClosed) || ctx.Err() != nil {
			return nil, err
		}
		if isVendorDown(err) {
			down++
		}
		errs = append(errs, fmt.Errorf("%s: %w", c.addrs[k], err))
	}
	if n == 1 {
		return nil, errors.Unwrap(errs[0])
	}
	if down > 0 && down < n {
		// lmdown on some servers only: the others may come back, so
		// the error must not end reconnection as lmdown does.
		return nil, fmt.Errorf("no server of %d answered: %s", n, errors.Join(errs...))
	}
	return nil, c.joinErrors(errs)
}

// connectTo (under connMu) asks server k's lmgrd for the vendor port and
// connects there, within ConnectTimeout.
func (c *Client) connectTo(ctx context.Context, k int) (*conn, error) {
	l, err := c.lmgrdAtLocked(ctx, k)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.ConnectTimeout)
	defer cancel()
	c.mu.Lock()
	name := c.vendorName
	c.mu.Unlock()
	ans, err := l.request(ctx, wire.New(wire.VendorPort, 0).Str(wire.TVendor, name))
	if err != nil {
		var se *ServerError
		if !errors.As(err, &se) && !c.opts.NoReconnect {
			// No answer: the lmgrd connection may be dead without knowing
			// it yet; the next attempt dials it again.
			l.close()
		}
		return nil, fmt.Errorf("vendor port: %w", err)
	}
	port := int(ans.GetInt(wire.TPort))
	if name == "" {
		name = ans.GetStr(wire.TVendor)
	}
	host := c.addrs[k].Host
	v, err := dialConn(ctx, net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("vendor daemon %s at port %d: %w", name, port, err)
	}
	if _, err := v.request(ctx, wire.New(wire.Hello, 0).Str(wire.TProgram, c.opts.Program)); err != nil {
		v.close()
		return nil, fmt.Errorf("vendor daemon %s: %w", name, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		v.close()
		return nil, errClientClosed
	}
	c.vendor, c.vendorName, c.gaveUp, c.cur = v, name, nil, k
	c.signalLocked()
	if !c.opts.NoReconnect && !c.supervising {
		c.supervising = true
		go c.supervise(v)
	}
	return v, nil
}

// signalLocked wakes the goroutines waiting for a new vendor connection.
func (c *Client) signalLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// errClientClosed is the error of calls after Close.
var errClientClosed = fmt.Errorf("%w: closed by client", ErrClosed)

// Close closes the connections and stops reconnecting; the server gives
// back the licences they held (except borrowed ones), and every License
// of the client is lost (Err wraps ErrClosed).
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	close(c.closing)
	c.signalLocked()
	v, l := c.vendor, c.lmgrd
	lics := c.takeLicensesLocked()
	c.mu.Unlock()
	for _, lic := range lics {
		lic.setLost(errClientClosed)
	}
	if v != nil {
		v.close()
	}
	if l != nil {
		l.close()
	}
	return nil
}

// VendorInfo is a vendor daemon as lmgrd reports it.
type VendorInfo struct {
	Name string
	Port int
	Up   bool
}

// ServerInfo is what lmgrd says about its server.
type ServerInfo struct {
	Host         string
	Port         int
	Version      string
	LicenseFiles []string
	Vendors      []VendorInfo
	Location     *time.Location // the server's zone (its name and current offset)
}

// ServerInfo asks lmgrd about the server.
func (c *Client) ServerInfo(ctx context.Context) (*ServerInfo, error) {
	ans, err := c.lmgrdRequest(ctx, wire.New(wire.ServerInfo, 0))
	if err != nil {
		return nil, err
	}
	si := &ServerInfo{
		Host: ans.GetStr(wire.TServerHost), Version: ans.GetStr(wire.TServerVer),
		LicenseFiles: ans.GetStrs(wire.TLicenseFile),
		Location:     time.FixedZone(ans.GetStr(wire.TZoneName), int(ans.GetInt(wire.TZoneOffset))),
	}
	// The first PORT is lmgrd's; the vendors follow as (VENDOR, PORT, UP).
	ports, ups, names := ans.GetInts(wire.TPort), ans.GetInts(wire.TUp), ans.GetStrs(wire.TVendor)
	if len(ports) > 0 {
		si.Port = int(ports[0])
	}
	for i, n := range names {
		v := VendorInfo{Name: n}
		if i+1 < len(ports) {
			v.Port = int(ports[i+1])
		}
		if i < len(ups) {
			v.Up = ups[i] != 0
		}
		si.Vendors = append(si.Vendors, v)
	}
	return si, nil
}

// Reread asks the server to reread its configuration (lmreread); a vendor
// daemon stopped by lmdown starts again. It returns the server's message.
func (c *Client) Reread(ctx context.Context) (string, error) {
	ans, err := c.lmgrdRequest(ctx, wire.New(wire.Reread, 0))
	if err != nil {
		return "", err
	}
	return ans.GetStr(wire.TMessage), nil
}

// Down asks the server to stop its vendor daemon (lmdown).
func (c *Client) Down(ctx context.Context) (string, error) {
	ans, err := c.lmgrdRequest(ctx, wire.New(wire.Shutdown, 0))
	if err != nil {
		return "", err
	}
	return ans.GetStr(wire.TMessage), nil
}

// Remove releases the licence with handle n (lmremove -h). It reports how
// many licences were removed.
func (c *Client) Remove(ctx context.Context, handle int) (int, error) {
	return c.remove(ctx, wire.New(wire.Remove, 0).Int(wire.THandle, int64(handle)))
}

// RemoveUser releases the licences of feature that user holds on host and
// display ("" matches any), as `lmremove feature user host display`.
func (c *Client) RemoveUser(ctx context.Context, feature, user, host, display string) (int, error) {
	return c.remove(ctx, wire.New(wire.Remove, 0).Str(wire.TFeature, feature).Str(wire.TUser, user).
		Str(wire.THost, host).Str(wire.TDisplay, display))
}

func (c *Client) lmgrdRequest(ctx context.Context, f *wire.Frame) (*wire.Frame, error) {
	l, err := c.lmgrdConn(ctx)
	if err != nil {
		return nil, err
	}
	return l.request(ctx, f)
}

func (c *Client) remove(ctx context.Context, f *wire.Frame) (int, error) {
	v, err := c.vendorConn(ctx)
	if err != nil {
		return 0, err
	}
	ans, err := v.request(ctx, f)
	if err != nil {
		return 0, err
	}
	return int(ans.GetInt(wire.TCount)), nil
}
