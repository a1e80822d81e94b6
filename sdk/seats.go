package sdk

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Seats is the gateway's accounting as a plugin sees it. Every method is safe
// for concurrent use; calls are multiplexed over one long-lived stream.
type Seats interface {
	// Checkout asks for seats. A queued answer delivers its progress on
	// Checkout.Updates.
	Checkout(ctx context.Context, req CheckoutRequest) (*Checkout, error)
	// Heartbeat renews a lease; a lease that is gone returns a *GoneError.
	Heartbeat(ctx context.Context, lease string) (LeaseState, error)
	// Checkin gives a lease back; a lease that is gone returns a *GoneError.
	Checkin(ctx context.Context, lease string) error
	// Cancel ends a queue ticket; ErrUnknownTicket if it is not waiting.
	Cancel(ctx context.Context, ticket string) error
	// Remove releases a lease as an administrator would (lmremove). by
	// is who ordered it (at least Addr); the removed event names them.
	Remove(ctx context.Context, lease string, by Client) error
	// Status reports the features matching q.
	Status(ctx context.Context, q StatusQuery) ([]FeatureStatus, error)
	// Reload asks the gateway to reread its configuration (lmreread).
	Reload(ctx context.Context) error
	// PublicKey is the gateway's Ed25519 grant-signing public key, or nil
	// when the gateway does not sign.
	PublicKey(ctx context.Context) ([]byte, error)
	// Sign signs data with the gateway's grant-signing key.
	Sign(ctx context.Context, data []byte) ([]byte, error)
}

// Client says who asks.
type Client struct {
	User    string
	Host    string
	Display string
	Project string
	Addr    string // the client's address as the plugin saw it
}

// CheckoutRequest asks for Count seats of Feature.
type CheckoutRequest struct {
	Vendor  string // "" matches the feature under any vendor
	Feature string
	Version string // minimum version, "" for any
	Count   int    // 0 means 1
	Client  Client
	Wait    time.Duration // > 0: queue up to this long when the feature queues
	Borrow  time.Duration // > 0: borrow (offline) for this long

	// Sign asks for Grant.Signature: the gateway's Ed25519 signature of
	// GrantText(grant, user, host, Nonce).
	Sign  bool
	Nonce string

	// BindConn ties the lease to the client's connection: the plugin
	// checks it in when the connection closes; the gateway does when the
	// plugin exits or the gateway restarts (connections die with them).
	BindConn bool
	// RequestKey makes the checkout idempotent: while a lease granted for
	// the key lives, the same key gets that lease again instead of more
	// seats, across plugin and gateway restarts. Datagram protocols set it
	// from the client's address and request id.
	RequestKey string
}

// Outcome is what became of a checkout.
type Outcome int

// The outcomes.
const (
	Granted Outcome = iota + 1
	Queued
	Denied
)

// Grant is a granted lease.
type Grant struct {
	Lease     string
	Vendor    string
	Feature   string
	Version   string // the pool's version
	Count     int
	TTL       time.Duration
	Expires   time.Time
	Borrowed  bool
	Signature []byte // when the request asked for it and the gateway signs
}

// Denial says why not.
type Denial struct {
	Reason  string // a concurrent-lm denial reason: no-seats, unknown-feature, ...
	Message string
	InUse   int
	Seats   int
}

// Checkout answers a checkout request.
type Checkout struct {
	Outcome  Outcome
	Grant    *Grant  // Granted
	Denial   *Denial // Denied
	Ticket   string  // Queued
	Position int     // Queued: 1 is the head

	// Updates, for a queued checkout only, delivers position changes and
	// then exactly one final update (Grant or Denial) before it is closed.
	Updates <-chan TicketUpdate
}

// TicketUpdate is progress of a queued checkout.
type TicketUpdate struct {
	Ticket   string
	Position int     // a new position, when Grant and Denial are nil
	Grant    *Grant  // final: granted
	Denial   *Denial // final: dequeued (timeout, removed, ...)
}

// Final reports whether u ends the ticket.
func (u TicketUpdate) Final() bool { return u.Grant != nil || u.Denial != nil }

// LeaseState is a lease after a heartbeat.
type LeaseState struct {
	Lease   string
	TTL     time.Duration
	Expires time.Time
}

// StatusQuery selects features; empty fields match everything.
// CountsOnly leaves FeatureStatus.Leases and Tickets out, which keeps a
// status of a pool with many holders cheap.
type StatusQuery struct {
	CountsOnly bool
	Vendor     string
	Feature    string
}

// FeatureStatus is one pool's state.
type FeatureStatus struct {
	Vendor      string
	Feature     string
	Version     string
	Description string
	Seats       int
	InUse       int
	Queued      int
	Start       time.Time // zero: none
	Expiry      time.Time // zero: permanent
	LeaseTTL    time.Duration
	Queue       bool
	Borrow      bool
	MaxBorrow   time.Duration
	Reserved    []Reservation
	Leases      []LeaseInfo
	Tickets     []TicketInfo
}

// Reservation is a reservation policy and how much of it is in use.
type Reservation struct {
	Kind  string // user, host, display, group, host_group, internet, project
	Name  string
	Seats int
	InUse int
}

// LeaseInfo describes a held lease.
type LeaseInfo struct {
	Lease    string
	Count    int
	Client   Client
	Protocol string
	Plugin   string
	Granted  time.Time
	Expires  time.Time
	Borrowed bool
	Reserved int // seats of Count taken from a reservation
}

// TicketInfo describes a waiting queue ticket.
type TicketInfo struct {
	Ticket   string
	Count    int
	Client   Client
	Queued   time.Time
	Position int
}

// Errors callers branch on.
var (
	// ErrUnavailable: the gateway cannot answer now (shutting down, journal
	// unreachable); the client may retry.
	ErrUnavailable = errors.New("gateway unavailable")
	// ErrUnknownTicket: Cancel of a ticket that is not waiting.
	ErrUnknownTicket = errors.New("unknown ticket")
)

// GoneError says a lease no longer exists and why.
type GoneError struct {
	Lease  string
	Reason string // expired, removed or unknown
}

func (e *GoneError) Error() string { return fmt.Sprintf("lease %s is gone (%s)", e.Lease, e.Reason) }

// GrantText is the exact text the gateway signs for a grant:
//
//	CLM1 lease=<lease> feature=<f> count=<n> user=<u> host=<h> expires=<time> nonce=<nonce>
//
// with expires in RFC 3339 UTC, whole seconds.
func GrantText(g *Grant, user, host, nonce string) string {
	return fmt.Sprintf("CLM1 lease=%s feature=%s count=%d user=%s host=%s expires=%s nonce=%s",
		g.Lease, g.Feature, g.Count, user, host, g.Expires.UTC().Format(time.RFC3339), nonce)
}
