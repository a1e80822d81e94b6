package relay

import (
	"crypto/ed25519"
	"fmt"
	"slices"
	"time"

	"github.com/licensegw/licensegw/plugins/relay/keygenfile"
	"github.com/licensegw/licensegw/sdk"
)

// Config defaults and bounds.
const (
	DefaultStrategy       = StrategyFIFO
	DefaultCullInterval   = 15 * time.Second
	DefaultRate           = 2000 // requests per second per client IP
	DefaultBurst          = 4000
	DefaultMaxConnections = 10000
	DefaultMaxHeaderBytes = 8 << 10
	DefaultReadTimeout    = 10 * time.Second
	DefaultIdleTimeout    = 2 * time.Minute
	DefaultCallTimeout    = 10 * time.Second
	MinHeaderBytes        = 1 << 10
)

func schema() sdk.Schema {
	return sdk.Schema{
		{Name: "pool", Type: sdk.String, Required: true, Description: "the feature a request without a Relay-Pool header claims from"},
		{Name: "pools", Type: sdk.StringList, Description: "more features a request may name in Relay-Pool (default: none, the server is bound to pool)"},
		{Name: "licenses_dir", Type: sdk.String, Description: "a directory of Keygen licence files (NAME.lic with its key in NAME.key); files directly in it are pool's, a sub-directory named after a feature holds that feature's (default: none, seats only)"},
		{Name: "public_key", Type: sdk.String, Description: "the vendor account's Ed25519 public key in hex, which every licence file must verify with (required with licenses_dir)"},
		{Name: "strategy", Type: sdk.String, Description: "which free licence file a claim gets: fifo (the first by file name), lifo (the last) or rand (default fifo)"},
		{Name: "heartbeats", Type: sdk.Bool, Description: "a repeated PUT extends the node's lease (202); false answers it 409 (default true)"},
		{Name: "signing_secret", Type: sdk.String, Description: "when set, every response carries Relay-Signature: t=<unix>,v1=<hex HMAC-SHA256 of \"<t>.<body>\">"},
		{Name: "cull_interval", Type: sdk.Duration, Description: "how often licence files of nodes whose lease expired are freed, and licenses_dir is reread if it changed (default 15s)"},
		{Name: "rate", Type: sdk.Number, Description: "requests per second per client IP; 0 disables (default 2000)"},
		{Name: "burst", Type: sdk.Number, Description: "requests a client IP may send at once above rate (default 4000)"},
		{Name: "max_connections", Type: sdk.Number, Description: "open HTTP connections, all clients (default 10000)"},
		{Name: "max_header_bytes", Type: sdk.Number, Description: "bytes of request line and headers (default 8192)"},
		{Name: "read_timeout", Type: sdk.Duration, Description: "time to read a request's headers (default 10s)"},
		{Name: "idle_timeout", Type: sdk.Duration, Description: "a keep-alive connection idle this long is closed (default 2m)"},
	}
}

// options is the decoded configuration.
type options struct {
	pool           string
	pools          []string // every pool a request may name, pool first
	licensesDir    string
	publicKey      ed25519.PublicKey
	strategy       Strategy
	heartbeats     bool
	signingSecret  []byte
	cullInterval   time.Duration
	rate, burst    float64
	maxConnections int
	maxHeaderBytes int
	readTimeout    time.Duration
	idleTimeout    time.Duration
	callTimeout    time.Duration
}

func parseOptions(c sdk.Config) (options, error) {
	o := options{
		pool:           c.String("pool", ""),
		licensesDir:    c.String("licenses_dir", ""),
		heartbeats:     c.Bool("heartbeats", true),
		signingSecret:  []byte(c.String("signing_secret", "")),
		cullInterval:   c.Duration("cull_interval", DefaultCullInterval),
		rate:           DefaultRate,
		burst:          DefaultBurst,
		maxConnections: c.Int("max_connections", DefaultMaxConnections),
		maxHeaderBytes: c.Int("max_header_bytes", DefaultMaxHeaderBytes),
		readTimeout:    c.Duration("read_timeout", DefaultReadTimeout),
		idleTimeout:    c.Duration("idle_timeout", DefaultIdleTimeout),
		callTimeout:    DefaultCallTimeout,
	}
	if v, ok := c.Values()["rate"].(float64); ok {
		o.rate = v
	}
	if v, ok := c.Values()["burst"].(float64); ok {
		o.burst = v
	}
	if err := checkPoolName(o.pool); err != nil {
		return o, fmt.Errorf("pool: %w", err)
	}
	o.pools = []string{o.pool}
	for _, p := range c.Strings("pools", nil) {
		if err := checkPoolName(p); err != nil {
			return o, fmt.Errorf("pools: %w", err)
		}
		if !slices.Contains(o.pools, p) {
			o.pools = append(o.pools, p)
		}
	}
	var err error
	if o.strategy, err = ParseStrategy(c.String("strategy", string(DefaultStrategy))); err != nil {
		return o, err
	}
	if c.Has("public_key") {
		if o.publicKey, err = keygenfile.ParsePublicKey(c.String("public_key", "")); err != nil {
			return o, fmt.Errorf("public_key: %w", err)
		}
	}
	switch {
	case o.licensesDir != "" && o.publicKey == nil:
		return o, fmt.Errorf("licenses_dir needs public_key, the vendor's Ed25519 key the files are verified with")
	case o.cullInterval <= 0:
		return o, fmt.Errorf("cull_interval must be positive")
	case o.rate < 0 || o.rate > 0 && o.burst < 1:
		return o, fmt.Errorf("rate must not be negative, and burst must be at least 1 when rate is set")
	case o.maxConnections < 1:
		return o, fmt.Errorf("max_connections must be positive")
	case o.maxHeaderBytes < MinHeaderBytes:
		return o, fmt.Errorf("max_header_bytes must be at least %d", MinHeaderBytes)
	case o.readTimeout <= 0 || o.idleTimeout <= 0:
		return o, fmt.Errorf("read_timeout and idle_timeout must be positive")
	}
	return o, nil
}
