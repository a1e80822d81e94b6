package client

import (
	"errors"
	"fmt"
)

// Errors callers branch on.
var (
	// ErrClosed: the Client was closed.
	ErrClosed = errors.New("clm: client closed")
	// ErrDisconnected: the connection broke before the answer came; the
	// request may or may not have been executed.
	ErrDisconnected = errors.New("clm: connection lost")
	// ErrBadSignature: a grant's sig= is missing or does not verify against
	// the pinned key.
	ErrBadSignature = errors.New("clm: grant signature missing or invalid")
	// ErrKeyMismatch: the server's HELLO key= is not the pinned key.
	ErrKeyMismatch = errors.New("clm: server key is not the pinned key")
	// ErrLeaseLost: heartbeats kept failing until the lease's expiry.
	ErrLeaseLost = errors.New("clm: lease lost: no heartbeat got through before it expired")
	// ErrProtocol: the server sent something this client cannot read.
	ErrProtocol = errors.New("clm: protocol error")
)

// DeniedError is a DENIED answer (or EVENT denied for a queue wait).
type DeniedError struct {
	Reason  string // no-seats, unknown-feature, expired, ..., timeout
	Message string
	InUse   int // for no-seats, reserved and limit
	Seats   int
}

func (e *DeniedError) Error() string {
	if e.Message != "" {
		return fmt.Sprintf("clm: denied (%s): %s", e.Reason, e.Message)
	}
	return fmt.Sprintf("clm: denied (%s)", e.Reason)
}

// GoneError is a GONE answer: the lease (or ticket) no longer exists.
type GoneError struct {
	Lease  string
	Ticket string
	Reason string // expired, removed or unknown for a lease; "" for a ticket
}

func (e *GoneError) Error() string {
	if e.Ticket != "" {
		return fmt.Sprintf("clm: ticket %s is gone", e.Ticket)
	}
	return fmt.Sprintf("clm: lease %s is gone (%s)", e.Lease, e.Reason)
}

// ServerError is an ERR answer.
type ServerError struct {
	Code    string // bad-request, unknown-verb, ..., unavailable, internal
	Message string
}

func (e *ServerError) Error() string {
	return fmt.Sprintf("clm: server error %s: %s", e.Code, e.Message)
}

// Temporary reports whether retrying later may succeed.
func (e *ServerError) Temporary() bool {
	return e.Code == "unavailable" || e.Code == "too-many-requests"
}
