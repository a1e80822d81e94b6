package relay

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/licensegw/licensegw/sdk"
)

// Name is the protocol name; it appears in events.
const Name = "keygen-relay"

// Version is the plugin's own version.
const Version = "1.0.0"

// ListenerName is the name of the plugin's HTTP listener.
const ListenerName = "http"

// DefaultAddress is keygen-relay's default port.
const DefaultAddress = ":6349"

// shutdownGrace is how long requests in flight may take at shutdown.
const shutdownGrace = time.Second

// ErrNoListener: the gateway handed over no "http" listener.
var ErrNoListener = errors.New("relay: no http listener")

// Plugin is the keygen-relay node API plugin.
type Plugin struct {
	now func() time.Time // the clock; tests inject one

	mu  sync.Mutex
	srv *server // of the running Serve, for Stats
}

var _ sdk.Protocol = (*Plugin)(nil)

// New returns the plugin; cmd/licensegw-relay serves it with sdk.Serve.
func New() sdk.Protocol { return &Plugin{now: time.Now} }

// Info implements sdk.Protocol.
func (p *Plugin) Info() sdk.Info {
	return sdk.Info{
		Name:        Name,
		Version:     Version,
		APIVersion:  sdk.APIVersion,
		Description: "keygen-relay's node API over HTTP, seats backed by Keygen licence files (docs/relay.md)",
		Listeners:   []sdk.ListenerSpec{{Name: ListenerName, Network: "tcp", Address: DefaultAddress}},
		Config:      schema(),
	}
}

// Stats are a running server's totals of answers (also its
// answers_total metric) and its nodes now.
type Stats struct {
	Created, Extended, Released, Gone, NotFound, Conflicts, BadRequests, Limited, Unavailable int64
	Nodes                                                                                     int
}

// Stats reports the counters of the running (or last) Serve.
func (p *Plugin) Stats() Stats {
	p.mu.Lock()
	s := p.srv
	p.mu.Unlock()
	if s == nil {
		return Stats{}
	}
	c := s.meters
	return Stats{
		Created: c.count(http.StatusCreated), Extended: c.count(http.StatusAccepted),
		Released: c.count(http.StatusNoContent), Gone: c.count(http.StatusGone), NotFound: c.count(http.StatusNotFound),
		Conflicts: c.count(http.StatusConflict), BadRequests: c.count(http.StatusBadRequest) + c.count(http.StatusRequestHeaderFieldsTooLarge),
		Limited: c.count(http.StatusTooManyRequests), Unavailable: c.count(http.StatusServiceUnavailable), Nodes: s.nodes.count(),
	}
}

// Serve implements sdk.Protocol: it loads the licence files, recovers the
// nodes that hold leases from before a restart, and serves the node API on
// env's "http" listener until ctx is done.
func (p *Plugin) Serve(ctx context.Context, env *sdk.Env) error {
	ln := env.Listeners[ListenerName]
	if ln == nil {
		return ErrNoListener
	}
	defer ln.Close()
	log := env.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	opts, err := parseOptions(env.Config)
	if err != nil {
		return fmt.Errorf("relay config: %w", err)
	}
	now := p.now
	if now == nil {
		now = time.Now
	}
	s := &server{
		opts: opts, seats: env.Seats, log: log, now: now, instance: env.Name,
		nodes: newNodeTable(), files: map[string]*licencePool{}, allowed: map[string]bool{},
		limiter: newIPLimiter(opts.rate, opts.burst), meters: newMeters(env.Metrics),
		reported: map[string]bool{},
	}
	if err := s.loadFiles(); err != nil {
		return err
	}
	if err := s.recover(ctx); err != nil {
		return fmt.Errorf("relay: recover leases: %w", err)
	}
	p.mu.Lock()
	p.srv = s
	p.mu.Unlock()
	return s.serve(ctx, newLimitListener(ln, opts.maxConnections))
}

// serve runs the HTTP server and the cull loop until ctx is done.
func (s *server) serve(ctx context.Context, ln *limitListener) error {
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: s.opts.readTimeout,
		ReadTimeout:       s.opts.readTimeout,
		WriteTimeout:      s.opts.callTimeout + s.opts.readTimeout,
		IdleTimeout:       s.opts.idleTimeout,
		MaxHeaderBytes:    s.opts.maxHeaderBytes,
		ErrorLog:          s.log.StandardLogger(&hclog.StandardLoggerOptions{ForceLevel: hclog.Debug}),
		ConnState:         s.meters.connState,
	}
	s.log.Info("serving keygen-relay node API", "addr", ln.Addr().String(), "pools", s.opts.pools, "heartbeats", s.opts.heartbeats, "signed", len(s.opts.signingSecret) > 0)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	tick := time.NewTicker(s.opts.cullInterval)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			s.cull()
			s.rescan()
		case err := <-errc:
			return fmt.Errorf("relay: http server: %w", err)
		case <-ctx.Done():
			// Requests in flight finish; connections that never sent
			// one (Shutdown would wait 5 s for them) are cut after
			// shutdownGrace.
			sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
			defer cancel()
			if err := hs.Shutdown(sctx); err != nil {
				hs.Close()
			}
			return ctx.Err()
		}
	}
}

// loadFiles loads licenses_dir into licence pools and decides which pools
// requests may name. Every file that cannot be served is logged by name.
func (s *server) loadFiles() error {
	for _, p := range s.opts.pools {
		s.allowed[p] = true
	}
	if s.opts.licensesDir == "" {
		return nil
	}
	s.scanSig, _ = dirSignature(s.opts.licensesDir)
	pools, problems, err := loadLicences(s.opts.licensesDir, s.opts.pool, s.opts.publicKey, s.now())
	if err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	s.report(problems)
	for name, ls := range pools {
		s.files[name] = newLicencePool(ls, s.opts.strategy)
		s.allowed[name] = true
		s.log.Info("licence files loaded", "pool", name, "files", len(ls))
	}
	if s.files[s.opts.pool] == nil {
		// The default pool named a directory and got no valid file: it
		// is empty, not plain, so claims answer 410 instead of handing
		// out seats without files.
		s.files[s.opts.pool] = newLicencePool(nil, s.opts.strategy)
		s.log.Warn("no valid licence file for the default pool: every claim answers 410", "pool", s.opts.pool)
	}
	return nil
}

// recover rebuilds the node table from the leases this instance holds in
// the gateway (a restarted plugin finds its nodes, and their files, again),
// and warns when a pool's seats and files differ.
func (s *server) recover(ctx context.Context) error {
	for pool := range s.allowed {
		cctx, cancel := context.WithTimeout(ctx, s.opts.callTimeout)
		fss, err := s.seats.Status(cctx, sdk.StatusQuery{Feature: pool})
		cancel()
		if err != nil {
			return err
		}
		if len(fss) == 0 {
			s.log.Warn("pool is not a feature of the gateway: claims answer 400", "pool", pool)
			continue
		}
		seats, recovered := 0, 0
		for _, fs := range fss {
			seats += fs.Seats
			for _, li := range fs.Leases {
				if s.adopt(pool, li) {
					recovered++
				}
			}
		}
		if lp := s.files[pool]; lp != nil && seats != lp.size() {
			s.log.Warn("the feature's seats differ from its valid licence files: at most the smaller number of nodes hold a lease",
				"pool", pool, "seats", seats, "files", lp.size())
		}
		if recovered > 0 {
			s.log.Info("nodes recovered", "pool", pool, "nodes", recovered)
		}
	}
	return nil
}

// adopt takes over a lease of the gateway that this instance granted
// before it restarted.
func (s *server) adopt(pool string, li sdk.LeaseInfo) bool {
	if li.Protocol != "" && li.Protocol != Name || li.Plugin != "" && li.Plugin != s.instance {
		return false
	}
	fp := li.Client.User
	if checkFingerprint(fp) != nil {
		return false
	}
	n := s.nodes.lock(fp, true)
	defer n.mu.Unlock()
	if n.lease != "" {
		return false
	}
	n.pool, n.lease, n.expires = pool, li.Lease, li.Expires
	if lp := s.files[pool]; lp != nil {
		if n.lic = lp.takeID(li.Client.Display); n.lic == nil {
			s.log.Warn("a recovered lease's licence file is gone or taken: the node gets another at its next claim",
				"fingerprint", fp, "licence", li.Client.Display)
		}
	}
	return true
}

// rescan rereads licenses_dir when its files changed since the last
// reading: new files are served, files gone are no longer handed out (a
// node holding one keeps it until it releases it). A sub-directory that
// appeared names a pool the plugin serves only after a restart.
func (s *server) rescan() {
	if s.opts.licensesDir == "" {
		return
	}
	sig, err := dirSignature(s.opts.licensesDir)
	if err != nil || sig == s.scanSig {
		return
	}
	s.scanSig = sig
	pools, problems, err := loadLicences(s.opts.licensesDir, s.opts.pool, s.opts.publicKey, s.now())
	if err != nil {
		s.log.Error("licence directory unreadable: the files read before are served", "error", err)
		return
	}
	s.report(problems)
	for name, lp := range s.files {
		if added, removed := lp.merge(pools[name]); added+removed > 0 {
			s.log.Info("licence files reread", "pool", name, "added", added, "removed", removed)
		}
	}
	for name := range pools {
		if s.files[name] == nil {
			s.log.Warn("licence files of a pool not served since the plugin started: restart it to serve them", "pool", name)
		}
	}
}

// report logs each file that cannot be served, once for each reason.
func (s *server) report(problems []Problem) {
	for _, pr := range problems {
		if key := pr.Error(); !s.reported[key] {
			s.reported[key] = true
			s.log.Error("licence file not served", "dir", s.opts.licensesDir, "file", pr.File, "error", pr.Err)
		}
	}
}
