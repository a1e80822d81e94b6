package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
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
}

// Reconnection defaults (Options.MinBackoff, MaxBackoff, GiveUpAfter).
const (
	DefaultMinBackoff = 100 * time.Millisecond
	DefaultMaxBackoff = 30 * time.Second
	// DefaultGiveUpAfter is FlexLM's default patience: five retries a
	// minute apart.
	DefaultGiveUpAfter = 5 * time.Minute
)

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
	return o
}

// Client is a connection to one licence server: its lmgrd port and, once a
// vendor call needs it, its vendor daemon. Like FlexLM's library it
// survives a server restart: when the vendor connection drops it
// reconnects (asking lmgrd for the vendor port again) and checks out again
// every licence it held; see Options.NoReconnect. A Client is safe for
// concurrent use.
type Client struct {
	addr Address
	opts Options

	connMu sync.Mutex // serialises (re)connecting

	mu          sync.Mutex
	lmgrd       *conn
	vendor      *conn
	vendorName  string
	licenses    map[*License]struct{} // held, to check out again on a new connection
	changed     chan struct{}         // closed (and replaced) when vendor changes or reconnection ends
	supervising bool                  // a supervise goroutine watches the vendor connection
	gaveUp      error                 // why the last reconnection ended without a connection
	closed      bool
	closing     chan struct{}
}

// Dial connects to the lmgrd port at addr ("port@host") and then to the
// port of opts.Vendor's daemon, which lmgrd names.
func Dial(ctx context.Context, addr string, opts Options) (*Client, error) {
	as, err := ParseServers(addr)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, a := range as {
		c, err := DialAddress(ctx, a, opts)
		if err == nil {
			return c, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", a, err))
	}
	return nil, errors.Join(errs...)
}

// DialAddress is Dial for one server.
func DialAddress(ctx context.Context, a Address, opts Options) (*Client, error) {
	c, err := DialLmgrd(ctx, a, opts)
	if err != nil {
		return nil, err
	}
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
	opts = opts.withDefaults()
	c := &Client{addr: a, opts: opts, vendorName: opts.Vendor, licenses: map[*License]struct{}{},
		changed: make(chan struct{}), closing: make(chan struct{})}
	l, err := c.dialLmgrd(ctx)
	if err != nil {
		return nil, err
	}
	c.lmgrd = l
	return c, nil
}

// Address is the server the client is connected to.
func (c *Client) Address() Address { return c.addr }

func (c *Client) dialLmgrd(ctx context.Context) (*conn, error) {
	l, err := dialConn(ctx, c.addr.HostPort())
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

// lmgrdConn returns the lmgrd connection, dialling it again if it ended
// (and reconnection is on).
func (c *Client) lmgrdConn(ctx context.Context) (*conn, error) {
	c.mu.Lock()
	l := c.lmgrd
	c.mu.Unlock()
	if l.Err() == nil || c.opts.NoReconnect {
		return l, nil // a dead one answers its error
	}
	c.connMu.Lock()
	defer c.connMu.Unlock()
	return c.lmgrdConnLocked(ctx)
}

// lmgrdConnLocked is lmgrdConn under connMu.
func (c *Client) lmgrdConnLocked(ctx context.Context) (*conn, error) {
	c.mu.Lock()
	l, closed := c.lmgrd, c.closed
	c.mu.Unlock()
	if closed {
		return nil, errClientClosed
	}
	if l.Err() == nil {
		return l, nil
	}
	nl, err := c.dialLmgrd(ctx)
	if err != nil {
		return nil, fmt.Errorf("lmgrd %s: %w", c.addr, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		nl.close()
		return nil, errClientClosed
	}
	c.lmgrd = nl
	return nl, nil
}

// vendorConn returns the vendor daemon connection, connecting (through
// lmgrd) when there is none or it ended.
func (c *Client) vendorConn(ctx context.Context) (*conn, error) {
	c.mu.Lock()
	v := c.vendor
	c.mu.Unlock()
	if v != nil && v.Err() == nil {
		return v, nil
	}
	c.connMu.Lock()
	defer c.connMu.Unlock()
	return c.connectLocked(ctx)
}

// connectLocked (under connMu) asks lmgrd for the vendor port and connects
// there, unless another caller already did. A new connection is watched
// by supervise, which reconnects when it drops.
func (c *Client) connectLocked(ctx context.Context) (*conn, error) {
	c.mu.Lock()
	v, closed := c.vendor, c.closed
	c.mu.Unlock()
	if closed {
		return nil, errClientClosed
	}
	if v != nil && v.Err() == nil {
		return v, nil
	}
	l, err := c.lmgrdConnLocked(ctx)
	if err != nil {
		return nil, err
	}
	ans, err := l.request(ctx, wire.New(wire.VendorPort, 0).Str(wire.TVendor, c.vendorName))
	if err != nil {
		var se *ServerError
		if !errors.As(err, &se) && !c.opts.NoReconnect {
			// No answer: the lmgrd connection may be dead without knowing
			// it yet; the next attempt dials it again.
			l.close()
		}
		return nil, fmt.Errorf("vendor port: %w", err)
	}
	port, name := int(ans.GetInt(wire.TPort)), c.vendorName
	if name == "" {
		name = ans.GetStr(wire.TVendor)
	}
	v, err = dialConn(ctx, net.JoinHostPort(c.addr.Host, strconv.Itoa(port)))
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
	c.vendor, c.vendorName, c.gaveUp = v, name, nil
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
	return l.close()
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
