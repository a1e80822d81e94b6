package forward

import (
	"errors"
	"fmt"
	"time"

	"github.com/licensegw/licensegw/sdk"
)

// The operations a Service answers, each on <prefix>.engine.<op>.
const (
	opCheckout  = "checkout"
	opHeartbeat = "heartbeat"
	opCheckin   = "checkin"
	opCancel    = "cancel"
	opRemove    = "remove"
	opStatus    = "status"
	opReload    = "reload"
	opRelease   = "release"  // leases bound to a node's (plugin's) connections
	opAdmin     = "admin"    // the leader's admin status
	opAdminRm   = "admin-rm" // remove a lease as an administrator
	opAdminLoad = "admin-reload"
	opPing      = "ping"
)

var ops = []string{opCheckout, opHeartbeat, opCheckin, opCancel, opRemove, opStatus, opReload,
	opRelease, opAdmin, opAdminRm, opAdminLoad, opPing}

// Subject is the subject of op on the leader's service.
func Subject(prefix, op string) string { return prefix + ".engine." + op }

// TicketSubject is where the leader sends queue progress for tickets
// taken through node.
func TicketSubject(prefix, node string) string { return prefix + ".nodes." + node + ".tickets" }

// request is one forwarded call.
type request struct {
	Node     string `json:"node"` // the node holding the client's connection
	Plugin   string `json:"plugin,omitempty"`
	Protocol string `json:"protocol,omitempty"`
	// Attempt counts from 1; a later attempt may follow one the leader
	// applied without the answer arriving.
	Attempt  int                  `json:"attempt"`
	Checkout *sdk.CheckoutRequest `json:"checkout,omitempty"`
	// Waiter names the follower's waiter for a queued checkout's updates.
	Waiter string           `json:"waiter,omitempty"`
	Lease  string           `json:"lease,omitempty"`
	Ticket string           `json:"ticket,omitempty"`
	By     *sdk.Client      `json:"by,omitempty"`
	Query  *sdk.StatusQuery `json:"query,omitempty"`
	Actor  string           `json:"actor,omitempty"` // admin: who asked
	// Before bounds a release: leases granted from then on stay.
	Before time.Time `json:"before,omitzero"`
}

// reply answers a request.
type reply struct {
	Err      *wireError          `json:"err,omitempty"`
	Term     uint64              `json:"term,omitempty"` // the answering leader's
	Checkout *wireCheckout       `json:"checkout,omitempty"`
	State    *sdk.LeaseState     `json:"state,omitempty"`
	Features []sdk.FeatureStatus `json:"features,omitempty"`
	// Status is the leader's admin status, gzipped JSON (it lists every
	// lease, and a message is at most 1 MiB).
	Status []byte `json:"status,omitempty"`
}

// wireCheckout is sdk.Checkout without its channel.
type wireCheckout struct {
	Outcome  sdk.Outcome `json:"outcome"`
	Grant    *sdk.Grant  `json:"grant,omitempty"`
	Denial   *sdk.Denial `json:"denial,omitempty"`
	Ticket   string      `json:"ticket,omitempty"`
	Position int         `json:"position,omitempty"`
}

// ticketUpdate is one progress update of a queued checkout.
type ticketUpdate struct {
	Waiter string           `json:"waiter"`
	Term   uint64           `json:"term"`
	Update sdk.TicketUpdate `json:"update"`
}

// Error codes on the wire.
const (
	codeUnavailable   = "unavailable"
	codeGone          = "gone"
	codeUnknownTicket = "unknown-ticket"
	codeInvalid       = "invalid"
	codeNotFound      = "not-found"
	codeOther         = "error"
)

// wireError is an error that crossed the wire, with what callers branch on.
type wireError struct {
	Code    string    `json:"code"`
	Message string    `json:"message"`
	Lease   string    `json:"lease,omitempty"`  // gone
	Reason  string    `json:"reason,omitempty"` // gone, invalid
	Ident   sdk.Ident `json:"ident,omitempty"`  // invalid
}

// ErrNotFound is a lease an administrator asked the leader to remove that
// it does not hold.
var ErrNotFound = errors.New("not found")

// toWire encodes err, nil for nil.
func toWire(err error) *wireError {
	if err == nil {
		return nil
	}
	w := &wireError{Code: codeOther, Message: err.Error()}
	var gone *sdk.GoneError
	var invalid *sdk.InvalidError
	switch {
	case errors.As(err, &gone):
		w.Code, w.Lease, w.Reason = codeGone, gone.Lease, gone.Reason
	case errors.As(err, &invalid):
		w.Code, w.Ident, w.Reason = codeInvalid, invalid.Ident, invalid.Reason
	case errors.Is(err, sdk.ErrUnknownTicket):
		w.Code = codeUnknownTicket
	case errors.Is(err, sdk.ErrUnavailable):
		w.Code = codeUnavailable
	case errors.Is(err, ErrNotFound):
		w.Code = codeNotFound
	}
	return w
}

// err decodes w back to an error callers can branch on.
func (w *wireError) err() error {
	if w == nil {
		return nil
	}
	switch w.Code {
	case codeGone:
		return &sdk.GoneError{Lease: w.Lease, Reason: w.Reason}
	case codeInvalid:
		return &sdk.InvalidError{Ident: w.Ident, Reason: w.Reason}
	case codeUnknownTicket:
		return sdk.ErrUnknownTicket
	case codeUnavailable:
		return fmt.Errorf("%w: leader: %s", sdk.ErrUnavailable, w.Message)
	case codeNotFound:
		return fmt.Errorf("%w: leader: %s", ErrNotFound, w.Message)
	}
	return fmt.Errorf("leader: %s", w.Message)
}
