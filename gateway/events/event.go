package events

import "time"

// Schema is the value of every event's schema field.
const Schema = "licensegw.event/v1"

// Kind says what happened.
type Kind string

// The kinds of accounting events.
const (
	Checkout   Kind = "checkout"   // a lease was granted (directly or from a queue)
	Checkin    Kind = "checkin"    // a lease was given back
	Denied     Kind = "denied"     // a checkout was refused
	Queued     Kind = "queued"     // a checkout is waiting in a queue
	Dequeued   Kind = "dequeued"   // a queue ticket ended without a grant
	Expired    Kind = "expired"    // a lease's TTL passed without a heartbeat
	Removed    Kind = "removed"    // an administrator released a lease
	Borrowed   Kind = "borrowed"   // a lease was taken offline
	Returned   Kind = "returned"   // an offline lease came back or its time ended
	Reserved   Kind = "reserved"   // a reservation was added by a policy change
	Unreserved Kind = "unreserved" // a reservation was removed by a policy change
)

// TermKind opens a writer's term in the journal (idx 0). It is not an
// accounting kind: replay reads it for the read rule and applies nothing.
const TermKind Kind = "term"

// SealKind closes the journal's hash chain up to its predecessor with a
// signature (events v2, hash chain and seals). Like the term event it is a
// counted journal event that carries no accounting; its schema is
// SealSchema.
const SealKind Kind = "seal"

// SealSchema is the schema of seal events.
const SealSchema = "licensegw.seal/v1"

// Kinds lists every accounting kind, in the order of the contract.
func Kinds() []Kind {
	return []Kind{Checkout, Checkin, Denied, Queued, Dequeued, Expired, Removed, Borrowed, Returned, Reserved, Unreserved}
}

// Valid reports whether k is one of the accounting kinds.
func (k Kind) Valid() bool {
	for _, v := range Kinds() {
		if k == v {
			return true
		}
	}
	return false
}

// Event is one change to the seat accounting. Field names and JSON names are
// those of the contract; fields that do not apply are left out of the JSON.
//
// The engine fills everything it knows (kind, pool, lease, who, counts, the
// time it was given); the journal fills ID, Gateway and Schema before the
// event is published, so that a retried publish carries the same ID.
type Event struct {
	Schema   string    `json:"schema"`
	ID       string    `json:"id"`
	Time     time.Time `json:"time"`
	Kind     Kind      `json:"kind"`
	Gateway  string    `json:"gateway,omitempty"`
	Vendor   string    `json:"vendor"`
	Feature  string    `json:"feature"`
	Version  string    `json:"version"`
	Lease    string    `json:"lease,omitempty"`
	Ticket   string    `json:"ticket,omitempty"`
	Count    int       `json:"count,omitempty"`
	User     string    `json:"user,omitempty"`
	Host     string    `json:"host,omitempty"`
	Display  string    `json:"display,omitempty"`
	Protocol string    `json:"protocol,omitempty"`
	Plugin   string    `json:"plugin,omitempty"`
	Client   string    `json:"client_addr,omitempty"`
	Reason   string    `json:"reason,omitempty"`
	InUse    int       `json:"in_use"`
	Seats    int       `json:"seats"`
	Queued   int       `json:"queued"`
	HeldMS   *int64    `json:"held_ms,omitempty"`

	// Extensions beyond the table in the contract; consumers that do not
	// know them ignore them. Expires is when a borrowed lease or a queue
	// ticket ends (what replay needs to rebuild them); Project is the
	// FlexLM-style project a client declared.
	Expires *time.Time `json:"expires,omitempty"`
	Project string     `json:"project,omitempty"`
	// Bound marks a checkout whose lease ends with the client's connection
	// (concurrent-lm bind=conn); Request is the client's retransmission key
	// (a UDP client's address and request id), so that a retransmitted
	// checkout finds its lease again, also after a restart.
	Bound   bool   `json:"bound,omitempty"`
	Request string `json:"request,omitempty"`
	// By, on removed, names who ordered the removal: "admin-api <addr>"
	// or "plugin <name> (<protocol>) client <addr> [<user>@<host>]".
	By string `json:"by,omitempty"`
	// Truncated says the journal shortened some of the event's names to
	// keep it within MaxBytes: the exact names were longer.
	Truncated bool `json:"truncated,omitempty"`

	// Version 2 (fenced journal): Term is the writer's term, Idx the
	// event's position in it (0 for the term event that opens it), Node the
	// node that decided. The journal stamps them; Replay counts an event
	// only if it continues the current term or opens a higher one.
	Term uint64 `json:"term,omitempty"`
	Idx  uint64 `json:"idx,omitempty"` // written whenever Term is set, 0 included
	Node string `json:"node,omitempty"`
	// ConnNode, on a checkout, is the node holding the client's
	// connection when it is not Node (a follower forwarded the request):
	// a lease bound to that connection ends when that node leaves.
	ConnNode string `json:"conn_node,omitempty"`

	// Hash chain (events v2): Prev is the lowercase hex SHA-256 of the
	// stored payload of the previous counted event (64 zeros for a
	// stream's first). On a seal, Head repeats the hash it seals, Count is
	// the number of counted events up to and including that one, and Sig
	// is the base64url Ed25519 signature of the seal's text. The journal
	// stamps them.
	Prev string `json:"prev,omitempty"`
	Head string `json:"head,omitempty"`
	Sig  string `json:"sig,omitempty"`
}

// MaxBytes bounds an event's JSON payload. The journal shortens the
// free-text fields of an event that would be larger (see Event.Truncated),
// so no input, however long or however much JSON escapes it, makes an event
// NATS refuses or one that crowds the stream.
const MaxBytes = 8 << 10
