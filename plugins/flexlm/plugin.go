package flexlm

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	// The timezone setting must work on hosts (containers, minimal images)
	// without a zoneinfo database: the plugin carries its own (~450 kB).
	_ "time/tzdata"

	"github.com/hashicorp/go-hclog"

	"github.com/licensegw/licensegw/plugins/flexlm/licfile"
	"github.com/licensegw/licensegw/plugins/flexlm/optfile"
	"github.com/licensegw/licensegw/plugins/flexlm/wire"
	"github.com/licensegw/licensegw/sdk"
)

// Version is the plugin's version; lmstat shows it as the server's and the
// vendor daemons' version unless the configuration says otherwise.
const Version = "0.1.0"

// Listener names.
const (
	ListenerLmgrd  = "lmgrd"
	ListenerVendor = "vendor"
)

// Protocol is the flexlm plugin. It holds no state between Serve calls.
type Protocol struct{}

// New returns the flexlm plugin.
func New() sdk.Protocol { return Protocol{} }

// Info describes the plugin and its configuration schema.
func (Protocol) Info() sdk.Info {
	return sdk.Info{
		Name:        "flexlm",
		Version:     Version,
		APIVersion:  sdk.APIVersion,
		Description: "FlexLM-style licence server: lmgrd and vendor daemon listeners, lmutil-compatible status",
		Listeners: []sdk.ListenerSpec{
			{Name: ListenerLmgrd, Network: "tcp", Address: ":27000"},
			{Name: ListenerVendor, Network: "tcp", Address: ":27100"},
		},
		Imports: []sdk.ImportFormat{importFormat()},
		Config: sdk.Schema{
			{Name: "license_file", Type: sdk.String, Description: "FlexLM licence file(s), ':'-separated: their features become the gateway's (imported at start and at every reload, lmreread included); lmstat shows them; their SERVER and VENDOR lines give the defaults of server_host and vendors"},
			{Name: "options_file", Type: sdk.String, Description: "FlexLM options file: its groups, RESERVE, MAX, INCLUDE and EXCLUDE lines become the gateway's policies for the licence files' features"},
			{Name: "server_host", Type: sdk.String, Description: "the server host name lmstat shows (default: the licence file's SERVER host, else the machine's host name)"},
			{Name: "vendors", Type: sdk.StringList, Description: "vendor daemons to report (default: the licence file's VENDOR lines, else the vendors of the gateway's features)"},
			{Name: "timezone", Type: sdk.String, Description: "IANA time zone lmstat times are shown in (default: the machine's)"},
			{Name: "reported_version", Type: sdk.String, Description: "version shown for the server and vendor daemons (default: the plugin's version)"},
			{Name: "allow_shutdown", Type: sdk.Bool, Description: "whether lmdown may stop the vendor daemon (default false)"},
			{Name: "allow_remove", Type: sdk.Bool, Description: "whether lmremove may release licences: true from any client, false from none (default: only clients on the gateway's own host, over loopback)"},
			{Name: "allow_reread", Type: sdk.Bool, Description: "whether lmreread may reload the gateway's configuration: true from any client, false from none (default: only clients on the gateway's own host, over loopback)"},
			{Name: "max_connections", Type: sdk.Number, Description: "open connections on both listeners (default 4096)"},
			{Name: "max_connections_per_ip", Type: sdk.Number, Description: "open connections from one IP address (default 256)"},
			{Name: "idle_timeout", Type: sdk.Duration, Description: "close a connection that sends nothing this long; its licences are checked in (default 10m)"},
		},
	}
}

// Serve speaks the protocol on env's listeners until ctx is done.
func (Protocol) Serve(ctx context.Context, env *sdk.Env) error {
	s, err := newServer(env)
	if err != nil {
		return err
	}
	return s.run(ctx)
}

// ErrNoListener is returned by Serve when the gateway did not hand over a
// listener the plugin needs.
var ErrNoListener = errors.New("flexlm: listener missing")

// settings is the decoded configuration.
type settings struct {
	host          string
	licenseFiles  []string
	vendors       []string
	location      *time.Location
	version       string
	allowShutdown bool
	allowRemove   permission
	allowReread   permission

	maxConns      int           // open connections, both listeners
	maxConnsPerIP int           // open connections from one IP address
	idleTimeout   time.Duration // a connection that sends no frame this long is closed
}

// Connection limit defaults (config attributes max_connections,
// max_connections_per_ip, idle_timeout).
const (
	DefaultMaxConns      = 4096
	DefaultMaxConnsPerIP = 256
	// DefaultIdleTimeout is well above any lease TTL: a client that holds
	// seats heartbeats far more often.
	DefaultIdleTimeout = 10 * time.Minute
)

func loadSettings(cfg sdk.Config, log hclog.Logger) (settings, error) {
	st := settings{
		host:          cfg.String("server_host", ""),
		vendors:       cfg.Strings("vendors", nil),
		version:       cfg.String("reported_version", Version),
		allowShutdown: cfg.Bool("allow_shutdown", false),
		allowRemove:   permissionOf(cfg, "allow_remove"),
		allowReread:   permissionOf(cfg, "allow_reread"),
		location:      time.Local,
		maxConns:      cfg.Int("max_connections", DefaultMaxConns),
		maxConnsPerIP: cfg.Int("max_connections_per_ip", DefaultMaxConnsPerIP),
		idleTimeout:   cfg.Duration("idle_timeout", DefaultIdleTimeout),
	}
	if st.maxConns < 1 || st.maxConnsPerIP < 1 || st.idleTimeout <= 0 {
		return st, fmt.Errorf("flexlm: max_connections, max_connections_per_ip and idle_timeout must be positive")
	}
	if tz := cfg.String("timezone", ""); tz != "" {
		loc, err := time.LoadLocation(tz)
		if err != nil {
			return st, fmt.Errorf("flexlm: timezone %q: %w", tz, err)
		}
		st.location = loc
	}
	if lf := cfg.String("license_file", ""); lf != "" {
		for _, path := range strings.Split(lf, ":") {
			if path == "" {
				continue
			}
			st.licenseFiles = append(st.licenseFiles, path)
			f, err := licfile.ParseFile(path)
			if f == nil {
				return st, err
			}
			if err != nil {
				log.Warn("licence file has errors", "file", path, "error", err)
			}
			if st.host == "" && len(f.Servers) > 0 {
				st.host = f.Servers[0].Host
			}
			if cfg.Has("vendors") {
				continue
			}
			for _, v := range f.Vendors {
				st.vendors = appendUnique(st.vendors, v.Name)
			}
		}
	}
	if of := cfg.String("options_file", ""); of != "" {
		if _, err := optfile.ParseFile(of); err != nil {
			log.Warn("options file has errors", "file", of, "error", err)
		}
	}
	if st.host == "" || strings.EqualFold(st.host, "this_host") {
		h, err := os.Hostname()
		if err != nil {
			h = "localhost"
		}
		st.host = h
	}
	return st, nil
}

// permission says which clients may use an administrative request.
type permission int

const (
	loopbackOnly permission = iota // the default: clients on the gateway's own host
	anyone
	noone
)

// permissionOf reads a bool attribute: true is anyone, false no one, and
// unset the loopback-only default. A licence server's vendor port is open
// to every client on the network; releasing others' seats or reloading the
// configuration is an administrator's act, and administrators run lmutil on
// the server (or say allow_* = true).
func permissionOf(cfg sdk.Config, name string) permission {
	switch {
	case !cfg.Has(name):
		return loopbackOnly
	case cfg.Bool(name, false):
		return anyone
	}
	return noone
}

// allows reports whether a client at addr may use a request p governs.
func (p permission) allows(addr net.Addr) bool {
	switch p {
	case anyone:
		return true
	case loopbackOnly:
		ap := addrPort(addr)
		return ap.IsValid() && ap.Addr().Unmap().IsLoopback()
	}
	return false
}

// addrPort is a TCP address as a netip.AddrPort (invalid for others).
func addrPort(a net.Addr) netip.AddrPort {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.AddrPort()
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// server is one running instance of the plugin.
type server struct {
	st         settings
	seats      sdk.Seats
	log        hclog.Logger
	lmgrd      net.Listener
	vendor     net.Listener
	lmgrdPort  int
	vendorPort int
	handles    *handles
	// access is the plugin block's allow and status_allow (nil: none);
	// the SDK has applied allow to the listeners already.
	access *sdk.Access
	stats  *counters

	mu    sync.Mutex
	down  bool // lmdown stopped the vendor daemon
	conns map[*conn]struct{}
	perIP map[string]int // open connections by client IP
	wg    sync.WaitGroup
	ctx   context.Context

	vendors vendorNames // the gateway's features' vendors (vendors.go)
}

func newServer(env *sdk.Env) (*server, error) {
	log := env.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	st, err := loadSettings(env.Config, log)
	if err != nil {
		return nil, err
	}
	s := &server{st: st, seats: env.Seats, log: log, handles: newHandles(), conns: map[*conn]struct{}{}, perIP: map[string]int{},
		access: env.Access, stats: newCounters(env.Metrics)}
	if s.lmgrd = env.Listeners[ListenerLmgrd]; s.lmgrd == nil {
		return nil, fmt.Errorf("%w: %s", ErrNoListener, ListenerLmgrd)
	}
	if s.vendor = env.Listeners[ListenerVendor]; s.vendor == nil {
		return nil, fmt.Errorf("%w: %s", ErrNoListener, ListenerVendor)
	}
	s.lmgrdPort = portOf(s.lmgrd.Addr())
	s.vendorPort = portOf(s.vendor.Addr())
	return s, nil
}

func portOf(a net.Addr) int {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.Port
	}
	return 0
}

// run accepts on both listeners until ctx is done, then closes the
// listeners and every connection and waits for their goroutines.
func (s *server) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.ctx = ctx
	if len(s.st.vendors) == 0 {
		// Read the vendor names lmgrd reports now, before a client
		// asks (vendors.go).
		s.refreshVendors(false)
	}
	errc := make(chan error, 2)
	go func() { errc <- s.accept(ctx, s.lmgrd, roleLmgrd) }()
	go func() { errc <- s.accept(ctx, s.vendor, roleVendor) }()
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	cancel()
	s.lmgrd.Close()
	s.vendor.Close()
	s.closeConns(nil)
	s.wg.Wait()
	if err != nil && ctx.Err() == nil {
		return err
	}
	return ctx.Err()
}

func (s *server) accept(ctx context.Context, l net.Listener, r role) error {
	for {
		nc, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("flexlm: accept on %s: %w", r, err)
		}
		c := newConn(s, nc, r)
		ip := hostOf(nc.RemoteAddr())
		s.mu.Lock()
		if r == roleVendor && s.down {
			s.mu.Unlock()
			s.stats.refusedDown.Inc()
			c.refuseDown()
			continue
		}
		if len(s.conns) >= s.st.maxConns || s.perIP[ip] >= s.st.maxConnsPerIP {
			perIP := len(s.conns) < s.st.maxConns
			s.mu.Unlock()
			if perIP {
				s.stats.refusedPerIP.Inc()
			} else {
				s.stats.refusedTotal.Inc()
			}
			s.log.Warn("connection refused: limit reached", "addr", c.addr, "open", len(s.conns))
			c.refuse(wire.CodeBusy, "too many connections")
			continue
		}
		s.conns[c] = struct{}{}
		s.perIP[ip]++
		s.wg.Add(1)
		s.mu.Unlock()
		s.stats.conns.Inc()
		s.stats.connsOpen.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.stats.connsOpen.Add(-1)
			c.serve(ctx)
			s.mu.Lock()
			delete(s.conns, c)
			if s.perIP[ip]--; s.perIP[ip] == 0 {
				delete(s.perIP, ip)
			}
			s.mu.Unlock()
		}()
	}
}

// closeConns closes the connections of role r, or all when r is nil.
func (s *server) closeConns(r *role) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if r == nil || c.role == *r {
			c.nc.Close()
		}
	}
}

func (s *server) isDown() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.down
}

// hostOf is the IP part of a network address.
func hostOf(a net.Addr) string {
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}
