package sentinel

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/licensegw/licensegw/plugins/sentinel/rsv"
	"github.com/licensegw/licensegw/sdk"
)

// Name is the protocol name; it appears in events.
const Name = "sentinel"

// Version is the plugin's own version.
const Version = "1.0.0"

// ListenerName is the name of the plugin's UDP listener.
const ListenerName = "udp"

// DefaultAddress is where the listener binds unless configured otherwise.
const DefaultAddress = ":5093"

// ErrNoListener: the gateway handed over no "udp" packet conn.
var ErrNoListener = errors.New("sentinel: no udp listener")

// Plugin is the Sentinel-style protocol plugin.
type Plugin struct {
	now func() time.Time // the clock; tests inject one

	mu    sync.Mutex
	stats *counters // of the running Serve, for Stats
}

var _ sdk.Protocol = (*Plugin)(nil)

// New returns the plugin; cmd/licensegw-sentinel serves it with sdk.Serve.
func New() sdk.Protocol { return &Plugin{now: time.Now} }

// Info implements sdk.Protocol.
func (p *Plugin) Info() sdk.Info {
	return sdk.Info{
		Name:        Name,
		Version:     Version,
		APIVersion:  sdk.APIVersion,
		Description: "Sentinel-style tokens, commuter tokens, queueing and discovery on UDP (docs/sentinel.md)",
		Listeners:   []sdk.ListenerSpec{{Name: ListenerName, Network: "udp", Address: DefaultAddress}},
		Config:      schema,
		Imports:     []sdk.ImportFormat{importFormat()},
	}
}

// Stats reports the counters of the running (or last) Serve.
func (p *Plugin) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stats == nil {
		return Stats{}
	}
	return p.stats.snapshot()
}

// Serve implements sdk.Protocol: it serves env's "udp" packet conn until ctx
// is done, then closes it.
func (p *Plugin) Serve(ctx context.Context, env *sdk.Env) error {
	conn := env.PacketConns[ListenerName]
	if conn == nil {
		return ErrNoListener
	}
	defer conn.Close()
	log := env.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	opts, err := parseOptions(env.Config, env.Name)
	if err != nil {
		return fmt.Errorf("sentinel config: %w", err)
	}
	var policy *rsv.Policy
	if opts.reservationFile != "" {
		if policy, err = rsv.Load(opts.reservationFile); err != nil {
			return fmt.Errorf("sentinel: %w", err)
		}
	}
	now := p.now
	if now == nil {
		now = time.Now
	}
	s := &server{
		conn:    conn,
		seats:   env.Seats,
		log:     log,
		opts:    opts,
		now:     now,
		version: Version,
		groups:  newGroupIndex(policy),
		cache:   newResponseCache(opts.cacheSize, opts.cachePerIP, opts.cacheTTL),
		limiter: newLimiter(opts.rateLimit, opts.rateBurst),
		tickets: newTickets(opts.ticketLifetime, now),
		stats:   newCounters(env.Metrics),
		jobs:    make(chan job, opts.backlog),
		access:  env.Access,
	}
	p.mu.Lock()
	p.stats = s.stats
	p.mu.Unlock()
	log.Info("serving Sentinel-style protocol", "addr", conn.LocalAddr(), "reservation_file", opts.reservationFile)
	err = s.serve(ctx)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}
