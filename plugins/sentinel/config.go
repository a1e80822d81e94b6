package sentinel

import (
	"fmt"
	"time"

	"github.com/licensegw/licensegw/sdk"
)

// Config defaults.
const (
	DefaultRateLimit      = 200 // requests per second per client IP
	DefaultRateBurst      = 400
	DefaultCacheSize      = 1 << 18 // a minute of 4369 state-changing requests per second
	DefaultCacheTTL       = time.Minute
	DefaultCachePerIP     = 16384 // above a minute of the default rate limit from one IP
	MinCacheTTL           = time.Minute
	DefaultWorkers        = 32
	DefaultBacklog        = 1024
	DefaultQueueWait      = 10 * time.Minute
	DefaultTicketLifetime = 5 * time.Minute
	DefaultCallTimeout    = 10 * time.Second
)

var schema = sdk.Schema{
	{Name: "reservation_file", Type: sdk.String, Description: "the reservation file (feature[,version]:group:count:members); the gateway turns it into reservations, the plugin names its groups in lsmon"},
	{Name: "server_name", Type: sdk.String, Description: "the name discovery answers give (default: the plugin instance's name)"},
	{Name: "rate_limit", Type: sdk.Number, Description: "requests per second allowed per client IP address (default 200)"},
	{Name: "rate_burst", Type: sdk.Number, Description: "burst of requests allowed per client IP address (default 400)"},
	{Name: "cache_size", Type: sdk.Number, Description: "state-changing requests remembered for retransmits (default 262144); beyond cache_size/cache_ttl such requests per second, new ones are dropped until old ones may be forgotten"},
	{Name: "cache_entries_per_ip", Type: sdk.Number, Description: "of cache_size, requests remembered for one sender IP address; past it that sender's new state-changing requests are dropped (default 16384, at most cache_size)"},
	{Name: "cache_ttl", Type: sdk.Duration, Description: "how long a state-changing request is remembered for retransmits, at least 60s (default 60s)"},
	{Name: "workers", Type: sdk.Number, Description: "requests executed concurrently (default 32)"},
	{Name: "backlog", Type: sdk.Number, Description: "requests waiting for a worker before new ones are dropped (default 1024)"},
	{Name: "queue_wait", Type: sdk.Duration, Description: "longest wait of a queued checkout that names none (default 10m)"},
	{Name: "ticket_lifetime", Type: sdk.Duration, Description: "a queue ticket not polled for this long is cancelled; a finished ticket's answer is kept this long (default 5m)"},
}

// options is the decoded configuration.
type options struct {
	reservationFile string
	serverName      string
	rateLimit       float64
	rateBurst       float64
	cacheSize       int
	cachePerIP      int
	cacheTTL        time.Duration
	workers         int
	backlog         int
	queueWait       time.Duration
	ticketLifetime  time.Duration
	callTimeout     time.Duration
}

func parseOptions(c sdk.Config, instance string) (options, error) {
	o := options{
		reservationFile: c.String("reservation_file", ""),
		serverName:      c.String("server_name", instance),
		rateLimit:       float64(c.Int("rate_limit", DefaultRateLimit)),
		rateBurst:       float64(c.Int("rate_burst", DefaultRateBurst)),
		cacheSize:       c.Int("cache_size", DefaultCacheSize),
		cacheTTL:        c.Duration("cache_ttl", DefaultCacheTTL),
		workers:         c.Int("workers", DefaultWorkers),
		backlog:         c.Int("backlog", DefaultBacklog),
		queueWait:       c.Duration("queue_wait", DefaultQueueWait),
		ticketLifetime:  c.Duration("ticket_lifetime", DefaultTicketLifetime),
		callTimeout:     DefaultCallTimeout,
	}
	o.cachePerIP = c.Int("cache_entries_per_ip", min(DefaultCachePerIP, o.cacheSize))
	switch {
	case o.cachePerIP < 1 || o.cachePerIP > o.cacheSize:
		return o, &configError{"cache_entries_per_ip", "cache_entries_per_ip must be from 1 to cache_size"}
	case o.rateLimit <= 0:
		return o, &configError{"rate_limit", "rate_limit and rate_burst must be positive"}
	case o.rateBurst < 1:
		return o, &configError{"rate_burst", "rate_limit and rate_burst must be positive"}
	case o.cacheSize < 1:
		return o, &configError{"cache_size", "cache_size must be positive"}
	case o.cacheTTL < MinCacheTTL:
		return o, &configError{"cache_ttl", fmt.Sprintf("cache_ttl %v is shorter than %v: retransmits could execute twice", o.cacheTTL, MinCacheTTL)}
	case o.workers < 1:
		return o, &configError{"workers", "workers must be positive and backlog not negative"}
	case o.backlog < 0:
		return o, &configError{"backlog", "workers must be positive and backlog not negative"}
	case o.queueWait <= 0:
		return o, &configError{"queue_wait", "queue_wait and ticket_lifetime must be positive"}
	case o.ticketLifetime <= 0:
		return o, &configError{"ticket_lifetime", "queue_wait and ticket_lifetime must be positive"}
	}
	return o, nil
}

// configError is a value of the config block that cannot be used, naming
// its attribute so that `licensegw validate` points at it.
type configError struct {
	attr string
	msg  string
}

func (e *configError) Error() string { return e.msg }
