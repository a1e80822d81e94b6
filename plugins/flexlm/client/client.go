package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"strconv"
	"time"

	"github.com/licensegw/licensegw/plugins/flexlm/wire"
)

// Options say who the client is. Empty fields are filled from the
// environment: the login name, the host name and $DISPLAY (else the host).
type Options struct {
	Vendor  string // the vendor daemon to use; "" takes the server's first
	User    string
	Host    string
	Display string
	Project string // sent as the PROJECT of options files ($LM_PROJECT by default)
	Program string // announced in HELLO
}

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
	return o
}

// Client is a connection to one licence server: its lmgrd port and, once a
// vendor call needs it, its vendor daemon.
type Client struct {
	addr   Address
	opts   Options
	lmgrd  *conn
	vendor *conn
	port   int // the vendor daemon's port
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
	if err := c.connectVendor(ctx); err != nil {
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
	l, err := dialConn(ctx, a.HostPort())
	if err != nil {
		return nil, err
	}
	c := &Client{addr: a, opts: opts, lmgrd: l}
	if _, err := l.request(ctx, wire.New(wire.Hello, 0).Str(wire.TProgram, opts.Program).Str(wire.TUser, opts.User).Str(wire.THost, opts.Host)); err != nil {
		l.close()
		return nil, err
	}
	return c, nil
}

// Address is the server the client is connected to.
func (c *Client) Address() Address { return c.addr }

func (c *Client) connectVendor(ctx context.Context) error {
	if c.vendor != nil && c.vendor.Err() == nil {
		return nil
	}
	ans, err := c.lmgrd.request(ctx, wire.New(wire.VendorPort, 0).Str(wire.TVendor, c.opts.Vendor))
	if err != nil {
		return fmt.Errorf("vendor port: %w", err)
	}
	c.port = int(ans.GetInt(wire.TPort))
	if c.opts.Vendor == "" {
		c.opts.Vendor = ans.GetStr(wire.TVendor)
	}
	v, err := dialConn(ctx, net.JoinHostPort(c.addr.Host, strconv.Itoa(c.port)))
	if err != nil {
		return fmt.Errorf("vendor daemon %s at port %d: %w", c.opts.Vendor, c.port, err)
	}
	if _, err := v.request(ctx, wire.New(wire.Hello, 0).Str(wire.TProgram, c.opts.Program)); err != nil {
		v.close()
		return fmt.Errorf("vendor daemon %s: %w", c.opts.Vendor, err)
	}
	c.vendor = v
	return nil
}

// Close closes the connections; the server gives back the licences they
// held (except borrowed ones).
func (c *Client) Close() error {
	if c.vendor != nil {
		c.vendor.close()
	}
	return c.lmgrd.close()
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
	ans, err := c.lmgrd.request(ctx, wire.New(wire.ServerInfo, 0))
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
	ans, err := c.lmgrd.request(ctx, wire.New(wire.Reread, 0))
	if err != nil {
		return "", err
	}
	return ans.GetStr(wire.TMessage), nil
}

// Down asks the server to stop its vendor daemon (lmdown).
func (c *Client) Down(ctx context.Context) (string, error) {
	ans, err := c.lmgrd.request(ctx, wire.New(wire.Shutdown, 0))
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

func (c *Client) remove(ctx context.Context, f *wire.Frame) (int, error) {
	if err := c.connectVendor(ctx); err != nil {
		return 0, err
	}
	ans, err := c.vendor.request(ctx, f)
	if err != nil {
		return 0, err
	}
	return int(ans.GetInt(wire.TCount)), nil
}
