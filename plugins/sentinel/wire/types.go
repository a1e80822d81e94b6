package wire

import (
	"errors"
	"fmt"
	"time"
)

// Protocol constants.
const (
	Magic0, Magic1 = 'L', 'S' // the first two bytes of every datagram
	Version        = 1        // the protocol version this package speaks
	HeaderSize     = 12       // magic(2) version(1) type(1) id(8)

	// MinRequest is the smallest request datagram: a client pads shorter
	// requests with zero bytes so that every fixed-size answer fits in
	// three times its request.
	MinRequest = 64
	// MaxDatagram is the largest datagram either side sends or accepts.
	MaxDatagram = 1200
	// MaxString is the longest string field (names, handles), in bytes.
	MaxString = 64
	// Amplification is how many times its request's size an answer may be.
	Amplification = 3
	// NoMore is the Next cursor of the last page of a list.
	NoMore = 0xFFFF
)

// Errors callers branch on.
var (
	// ErrMalformed: the bytes are not a message of this protocol.
	ErrMalformed = errors.New("malformed datagram")
	// ErrTooLarge: the message does not fit its size limit.
	ErrTooLarge = errors.New("message too large")
)

// Type is a message type. Answers carry their request's type with the
// Answer bit set.
type Type uint8

// The request types.
const (
	Checkout Type = 0x01 // take Count tokens, optionally queueing
	Refresh  Type = 0x02 // renew a token within its lifetime
	Release  Type = 0x03 // give a token back
	Poll     Type = 0x04 // ask after a queue ticket
	Cancel   Type = 0x05 // leave the queue
	Commute  Type = 0x06 // take a commuter token for Days days
	Return   Type = 0x07 // give a commuter token back
	Features Type = 0x08 // list features from Cursor (lsmon)
	Clients  Type = 0x09 // list a feature's token holders from Cursor (lsmon)
	Discover Type = 0x0A // who serves Feature; "" asks for server information

	// Answer is set in the type of every answer.
	Answer Type = 0x80
)

var typeNames = map[Type]string{
	Checkout: "checkout", Refresh: "refresh", Release: "release", Poll: "poll",
	Cancel: "cancel", Commute: "commute", Return: "return", Features: "features",
	Clients: "clients", Discover: "discover",
}

func (t Type) String() string {
	if n, ok := typeNames[t&^Answer]; ok {
		if t&Answer != 0 {
			return n + "-answer"
		}
		return n
	}
	return fmt.Sprintf("type(%#02x)", uint8(t))
}

// Known reports whether t is a request type of this protocol.
func (t Type) Known() bool { _, ok := typeNames[t]; return ok }

// Status is the outcome an answer reports.
type Status uint8

// The statuses.
const (
	OK              Status = 0
	Queued          Status = 1  // the checkout waits in the queue: poll Ticket
	NoSeats         Status = 2  // no token free (InUse, Seats)
	UnknownFeature  Status = 3  // no such feature (under any version)
	Expired         Status = 4  // the licence has expired
	NotStarted      Status = 5  // the licence's start date is still to come
	VersionTooHigh  Status = 6  // no pool has the version asked for
	Excluded        Status = 7  // the client may not use the feature
	LimitReached    Status = 8  // the client's group reached its limit (InUse, Seats)
	Reserved        Status = 9  // the free tokens are reserved for others (InUse, Seats)
	TooMany         Status = 10 // more tokens asked than the feature has
	QueueFull       Status = 11 // no room in the queue
	QueueTimeout    Status = 12 // the ticket waited too long
	CommuterRefused Status = 13 // commuting not allowed, or for that many days
	Gone            Status = 14 // the token is no longer held (Reason)
	UnknownTicket   Status = 15 // no such ticket, or it has been answered already
	TooLarge        Status = 16 // the answer does not fit: pad the request
	Unavailable     Status = 17 // the server cannot answer now: retry later
	BadRequest      Status = 18 // the request is well-formed but invalid (e.g. count 0)
	Internal        Status = 19 // the server failed
	Dequeued        Status = 20 // the ticket left the queue (Reason: cancelled, removed, restart)
	NotAuthorized   Status = 21 // a query (features, clients, discover) from an address status_allow does not list
)

var statusNames = [...]string{
	"ok", "queued", "no-seats", "unknown-feature", "expired", "not-started",
	"version", "excluded", "limit", "reserved", "count", "queue-full",
	"timeout", "commuter-refused", "gone", "unknown-ticket", "too-large",
	"unavailable", "bad-request", "internal", "dequeued", "not-authorized",
}

func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// Denial reports whether s refuses a checkout and carries InUse and Seats.
func (s Status) Denial() bool { return s >= NoSeats && s <= CommuterRefused }

// Request is any request; Type says which fields it uses:
//
//	Checkout  Feature Version Count Queue Wait User Host Display
//	Commute   Feature Version Count Days User Host Display
//	Refresh, Release, Return   Handle (a token's lease)
//	Poll, Cancel               Handle (a queue ticket)
//	Features  Feature (a filter, "" for all) Cursor
//	Clients   Feature Version Cursor
//	Discover  Feature ("" for server information)
type Request struct {
	ID      uint64
	Type    Type
	Feature string
	Version string
	Count   int           // tokens; 0 is sent as 1
	Queue   bool          // queue when no token is free
	Wait    time.Duration // longest wait in the queue, whole seconds; 0: the server's default
	Days    int           // commuter days
	User    string
	Host    string
	Display string
	Handle  string
	Cursor  int // index of the first record of a page
}

// Grant is a token (or several) held.
type Grant struct {
	Handle   string        // the lease: refresh, release or return it with this
	Count    int           // tokens held
	Lifetime time.Duration // the token lifetime: refresh within it
	Expires  time.Time     // when the token goes unless refreshed (commuter: returned)
	Commuter bool
}

// Feature is a feature's state, as lsmon shows it.
type Feature struct {
	Name              string
	Version           string
	Commuter          bool // commuting allowed
	Queue             bool // queueing allowed
	MaxUsers          int
	UnreservedInUse   int
	UnreservedFree    int
	ReservedInUse     int
	ReservedFree      int
	Queued            int
	CommuterInUse     int
	Lifetime          time.Duration // whole seconds
	MaxCommuterDays   int
	Start, Expiration time.Time // zero: none (whole seconds)
}

// Client is a token holder, as lsmon shows it.
type Client struct {
	User     string
	Host     string
	Display  string
	Group    string // the reservation group its tokens came from, if any
	Count    int
	Commuter bool
	Granted  time.Time
	Expires  time.Time
}

// Server describes a server (Discover answers).
type Server struct {
	Name     string // the server's instance name
	Version  string // its software version
	Storage  string // the reservation file it reads, if any
	Features int    // how many features it serves
}

// Response is any answer. Its Type is the request's type (Encode sets the
// Answer bit); which fields it carries depends on Type and Status:
//
//	OK to Checkout, Commute, Poll     Grant
//	OK to Refresh                     Grant.Lifetime, Grant.Expires
//	Queued                            Ticket, Position
//	a denial (Status.Denial)          InUse, Seats
//	Gone, Dequeued                    Reason
//	OK to Features                    Total, Next, Features
//	OK to Clients                     Total, Next, Clients
//	OK to Discover                    Server
//
// Other statuses carry nothing.
type Response struct {
	ID       uint64
	Type     Type
	Status   Status
	Grant    Grant
	Ticket   string
	Position int
	InUse    int
	Seats    int
	Reason   string
	Total    int // records in the whole list
	Next     int // cursor of the next page; NoMore after the last
	Features []Feature
	Clients  []Client
	Server   Server
}
