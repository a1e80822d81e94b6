package seats

import (
	"time"

	"github.com/licensegw/licensegw/sdk/policy"
)

// DefaultLeaseTTL is a lease's time to live when the feature names none.
const DefaultLeaseTTL = 120 * time.Second

// DefaultMaxQueue is the longest queue of a pool when the feature names none.
const DefaultMaxQueue = 100

// The policy model is the neutral one every producer of policy shares
// (configuration, importers in plugins); the engine names its types.
type (
	// Feature is one pool of seats as configured: a vendor's feature at
	// one version. Several pools may share vendor and name with different
	// versions.
	Feature = policy.Feature
	// SubjectKind is the kind of name a policy matches.
	SubjectKind = policy.SubjectKind
	// Subject names who a policy applies to.
	Subject = policy.Subject
	// Reservation keeps Seats seats of a pool for the clients Who matches.
	Reservation = policy.Reservation
	// Limit allows the clients Who matches at most Seats seats of a pool.
	Limit = policy.Limit
)

// The subject kinds.
const (
	User      = policy.User
	Host      = policy.Host
	Display   = policy.Display
	Group     = policy.Group     // a user group (Config.Groups)
	HostGroup = policy.HostGroup // a host group (Config.HostGroups)
	Internet  = policy.Internet  // an IPv4 pattern such as 10.1.*.* against the client address
	Project   = policy.Project
)

// Config is everything the engine is configured with. It is replaced as a
// whole by a reload.
type Config struct {
	Features   []Feature
	Groups     map[string][]string // user groups: name -> user names
	HostGroups map[string][]string // host groups: name -> host names
}

// Client says who asks and through what.
type Client struct {
	User     string
	Host     string
	Display  string
	Project  string
	Addr     string // the client's address as the plugin saw it (ip:port)
	Protocol string // e.g. "concurrent-lm"
	Plugin   string // the plugin instance's name
	// Node is the cluster node holding the client's connection, when it
	// is not the node deciding (a follower forwarded the request); ""
	// means the deciding node. Leases bound to a connection end when
	// their node leaves the cluster.
	Node string `json:",omitempty"`
}

// PoolKey identifies a pool.
type PoolKey struct {
	Vendor  string
	Name    string
	Version string
}

// CheckoutRequest asks for Count seats of a feature.
type CheckoutRequest struct {
	Vendor  string // "" matches the feature name under any vendor
	Feature string
	Version string // minimum version; "" means any
	Count   int    // 0 means 1
	Client  Client
	Wait    time.Duration // > 0: queue for at most this long if the pool queues
	Borrow  time.Duration // > 0: borrow for this long (offline use)
	// Bound ties the lease to the client's connection: it ends when the
	// plugin that holds the connection exits (ReleaseBound) and is not
	// revived by a restart, which closed every connection.
	Bound bool
	// Key makes the checkout idempotent: while a lease granted for Key
	// lives, a checkout with the same Key is answered with that lease
	// instead of taking more seats (UDP retransmissions, also across
	// plugin and gateway restarts).
	Key string
}

// Outcome is what became of a checkout.
type Outcome int

// The outcomes of a checkout.
const (
	Granted Outcome = iota + 1
	Queued
	Denied
)

// Reason is why a checkout was denied, a ticket dequeued or a lease gone. The
// values are the strings of the concurrent-lm protocol.
type Reason string

// Denial reasons (concurrent-lm spec, "Denial reasons").
const (
	NoSeats        Reason = "no-seats"
	UnknownFeature Reason = "unknown-feature"
	LicenceExpired Reason = "expired"
	NotStarted     Reason = "not-started"
	VersionTooHigh Reason = "version"
	Excluded       Reason = "excluded"
	LimitReached   Reason = "limit"
	ReservedSeats  Reason = "reserved"
	TooMany        Reason = "count"
	QueueFull      Reason = "queue-full"
	Timeout        Reason = "timeout"
	BorrowRefused  Reason = "borrow" // borrowing not allowed or longer than the feature's maximum
)

// Dequeue reasons besides Timeout.
const (
	Cancelled    Reason = "cancelled"
	Restarted    Reason = "restart" // the gateway restarted while the ticket waited
	FeatureGone  Reason = "removed" // a reload removed the feature
	Disconnected Reason = "disconnect"
)

// Why a lease is gone (HEARTBEAT/CHECKIN answer GONE reason=...).
const (
	GoneExpired Reason = "expired"
	GoneRemoved Reason = "removed"
	GoneUnknown Reason = "unknown"
)

// Lease is a grant of seats, as the engine reports it.
type Lease struct {
	ID       string
	Pool     PoolKey
	Count    int
	Client   Client
	Granted  time.Time
	Expires  time.Time // TTL expiry, or the end of a borrow
	TTL      time.Duration
	Borrowed bool
	Ticket   string // the queue ticket it was granted from, if any
	Reserved int    // how many of Count came from a reservation
	Bound    bool   // ends with the client's connection (CheckoutRequest.Bound)
	Key      string // the idempotency key it was granted for, if any
}

// Result answers a checkout.
type Result struct {
	Outcome  Outcome
	Lease    Lease  // when Granted
	Ticket   string // when Queued
	Position int    // when Queued: 1 is the head
	Reason   Reason // when Denied
	Message  string // when Denied: a human-readable detail
	InUse    int    // the pool's seats in use (for no-seats, reserved, limit)
	Seats    int
}

// Ticket is a queued checkout, as the engine reports it.
type Ticket struct {
	ID       string
	Pool     PoolKey
	Count    int
	Client   Client
	Queued   time.Time
	Deadline time.Time
	Position int
}

// PoolStatus is one pool's state for status displays.
type PoolStatus struct {
	Feature  Feature // as configured, with Vendor and LeaseTTL defaults filled in
	InUse    int
	Reserved int // seats reserved and not in use by their holders
	// ReservedUse is, per entry of Feature.Reserve, the seats in use that
	// came from that reservation.
	ReservedUse []int
	Queued      int // seats asked by waiting tickets
	Leases      []Lease
	Tickets     []Ticket
	Retired     bool // removed by a reload, kept while leases remain
}
