package concurrentlm

import (
	"fmt"
	"time"

	"github.com/licensegw/licensegw/sdk"
)

// Limits are the plugin's configurable limits (its config { } block).
type Limits struct {
	MaxConns          int           // open TCP connections, all clients
	MaxConnsPerIP     int           // open TCP connections from one IP address
	Rate              float64       // requests per second per IP (TCP and UDP together); 0: unlimited
	Burst             float64       // token-bucket depth for Rate
	MaxTickets        int           // queue tickets waiting per TCP connection
	MaxPipelined      int           // requests read but not yet answered per TCP connection
	IdleTimeout       time.Duration // a TCP connection silent this long is closed (see docs for exemptions)
	WriteTimeout      time.Duration // a client that does not read its answers this long is dropped
	UDPCacheSize      int           // remembered UDP answers (entries)
	UDPCacheSizePerIP int           // remembered UDP answers from one source IP
	UDPCacheTTL       time.Duration // how long a UDP answer is remembered (at least 60 s)
	HelloTTL          time.Duration // the ttl= HELLO announces
	ShutdownGrace     time.Duration // how long cleanup (ticket cancels, bind=conn checkins) may take at shutdown
	UDPWorkers        int           // goroutines reading the UDP socket
}

// DefaultLimits are the limits of an empty config block.
func DefaultLimits() Limits {
	return Limits{
		MaxConns:          10000,
		MaxConnsPerIP:     256,
		Rate:              2000,
		Burst:             4000,
		MaxTickets:        16,
		MaxPipelined:      64,
		IdleTimeout:       5 * time.Minute,
		WriteTimeout:      30 * time.Second,
		UDPCacheSize:      65536,
		UDPCacheSizePerIP: 4096,
		UDPCacheTTL:       90 * time.Second,
		HelloTTL:          120 * time.Second,
		ShutdownGrace:     5 * time.Second,
		UDPWorkers:        4,
	}
}

// schema is the config { } block's schema; defaults are in DefaultLimits
// and docs/concurrent-lm.md.
func schema() sdk.Schema {
	return sdk.Schema{
		{Name: "max_connections", Type: sdk.Number, Description: "open TCP connections, all clients (default 10000)"},
		{Name: "max_connections_per_ip", Type: sdk.Number, Description: "open TCP connections from one IP address (default 256)"},
		{Name: "rate", Type: sdk.Number, Description: "requests per second per client IP, TCP and UDP together; 0 disables (default 2000)"},
		{Name: "burst", Type: sdk.Number, Description: "requests a client IP may send at once above rate (default 4000)"},
		{Name: "max_tickets_per_connection", Type: sdk.Number, Description: "queue tickets one TCP connection may hold (default 16)"},
		{Name: "max_pipelined", Type: sdk.Number, Description: "unanswered requests per TCP connection before the server stops reading (default 64)"},
		{Name: "idle_timeout", Type: sdk.Duration, Description: "close a TCP connection that sends no line this long, unless it holds bind=conn leases or queue tickets (default 5m)"},
		{Name: "write_timeout", Type: sdk.Duration, Description: "drop a client that does not read its answers this long (default 30s)"},
		{Name: "udp_cache_entries", Type: sdk.Number, Description: "UDP answers remembered for retransmits (default 65536)"},
		{Name: "udp_cache_entries_per_ip", Type: sdk.Number, Description: "of those, answers remembered for one source IP address; a source past it gets too-many-requests (default 4096)"},
		{Name: "udp_cache_ttl", Type: sdk.Duration, Description: "how long a UDP answer is remembered, at least 60s (default 90s)"},
		{Name: "hello_ttl", Type: sdk.Duration, Description: "the default lease TTL HELLO announces (default 120s)"},
	}
}

// limitsFromConfig reads c over the defaults and checks the result.
func limitsFromConfig(c sdk.Config) (Limits, error) {
	d := DefaultLimits()
	l := d
	l.MaxConns = c.Int("max_connections", d.MaxConns)
	l.MaxConnsPerIP = c.Int("max_connections_per_ip", d.MaxConnsPerIP)
	if v, ok := c.Values()["rate"].(float64); ok {
		l.Rate = v
	}
	if v, ok := c.Values()["burst"].(float64); ok {
		l.Burst = v
	}
	l.MaxTickets = c.Int("max_tickets_per_connection", d.MaxTickets)
	l.MaxPipelined = c.Int("max_pipelined", d.MaxPipelined)
	l.IdleTimeout = c.Duration("idle_timeout", d.IdleTimeout)
	l.WriteTimeout = c.Duration("write_timeout", d.WriteTimeout)
	l.UDPCacheSize = c.Int("udp_cache_entries", d.UDPCacheSize)
	l.UDPCacheSizePerIP = c.Int("udp_cache_entries_per_ip", min(d.UDPCacheSizePerIP, l.UDPCacheSize))
	l.UDPCacheTTL = c.Duration("udp_cache_ttl", d.UDPCacheTTL)
	l.HelloTTL = c.Duration("hello_ttl", d.HelloTTL)
	return l, l.validate()
}

func (l Limits) validate() error {
	switch {
	case l.MaxConns < 1 || l.MaxConnsPerIP < 1:
		return fmt.Errorf("concurrent-lm: connection limits must be at least 1")
	case l.Rate < 0 || (l.Rate > 0 && l.Burst < 1):
		return fmt.Errorf("concurrent-lm: rate must be >= 0 and burst >= 1")
	case l.MaxTickets < 0:
		return fmt.Errorf("concurrent-lm: max_tickets_per_connection must be >= 0")
	case l.MaxPipelined < 1:
		return fmt.Errorf("concurrent-lm: max_pipelined must be at least 1")
	case l.IdleTimeout <= 0 || l.WriteTimeout <= 0:
		return fmt.Errorf("concurrent-lm: timeouts must be positive")
	case l.UDPCacheSize < 1:
		return fmt.Errorf("concurrent-lm: udp_cache_entries must be at least 1")
	case l.UDPCacheSizePerIP < 1 || l.UDPCacheSizePerIP > l.UDPCacheSize:
		return fmt.Errorf("concurrent-lm: udp_cache_entries_per_ip must be from 1 to udp_cache_entries")
	case l.UDPCacheTTL < 60*time.Second:
		return fmt.Errorf("concurrent-lm: udp_cache_ttl must be at least 60s (the contract)")
	case l.HelloTTL < time.Second:
		return fmt.Errorf("concurrent-lm: hello_ttl must be at least 1s")
	}
	return nil
}
