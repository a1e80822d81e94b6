package audit

import (
	"crypto/ed25519"
	"crypto/tls"
	"errors"
	"log/slog"
	"time"
)

// Defaults for the zero fields of Config.
const (
	DefaultURL = "nats://127.0.0.1:4222"
	// DefaultCreds is where `make run` (data_dir "./data") writes the
	// gateway's read-only audit credentials.
	DefaultCreds   = "data/nats-audit.nk"
	DefaultStream  = "LICENSEGW_EVENTS"
	DefaultDurable = "audit"
	DefaultSubject = "licensegw.events.>"
	DefaultBatch   = 256
	DefaultAckWait = 30 * time.Second
	DefaultMaxWait = time.Second
)

// Config says what to consume and where to write it.
type Config struct {
	URL     string        // NATS server
	Creds   string        // credentials file: an nkey seed (the gateway's audit identity) or a JWT .creds file; "" for none
	TLS     *tls.Config   // nil: plain, unless the URL says tls://
	Stream  string        // the events stream
	Durable string        // durable consumer name: one per audit file
	Subject string        // filter subject
	Out     string        // the file events are appended to
	Batch   int           // events per fetch, write+fsync and ack round
	AckWait time.Duration // redelivery delay of unacknowledged events
	MaxWait time.Duration // how long a fetch waits for a full batch
	Log     *slog.Logger  // default: discard
	// Key is the gateway's public key: seals' signatures are checked with
	// it. Without it the hash chain is still verified (when Subject is the
	// whole journal), seals for all but their signature.
	Key ed25519.PublicKey
}

// ErrNoOutput is returned when Config.Out is empty.
var ErrNoOutput = errors.New("audit: no output file")

func (c *Config) setDefaults() error {
	if c.Out == "" {
		return ErrNoOutput
	}
	if c.URL == "" {
		c.URL = DefaultURL
	}
	if c.Stream == "" {
		c.Stream = DefaultStream
	}
	if c.Durable == "" {
		c.Durable = DefaultDurable
	}
	if c.Subject == "" {
		c.Subject = DefaultSubject
	}
	if c.Batch <= 0 {
		c.Batch = DefaultBatch
	}
	if c.AckWait <= 0 {
		c.AckWait = DefaultAckWait
	}
	if c.MaxWait <= 0 {
		c.MaxWait = DefaultMaxWait
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return nil
}

// maxAckPending bounds how many events can be delivered and not yet
// acknowledged: all that a redelivery after a crash can bring again.
func (c *Config) maxAckPending() int { return 2 * c.Batch }

// window is how many of the last written ids the consumer remembers: more
// than maxAckPending, so every event a redelivery brings again is known.
func (c *Config) window() int { return 2 * c.maxAckPending() }
