package client

import (
	"context"
	"fmt"
	"time"

	"github.com/licensegw/licensegw/plugins/flexlm/wire"
)

// FeatureStatus is one pool's state.
type FeatureStatus struct {
	Feature      string
	Vendor       string
	Version      string
	Description  string
	Seats        int
	InUse        int // seats held (unused reserved seats not included)
	Queued       int
	Start        time.Time // zero: none
	Expiry       time.Time // zero: permanent
	Reservations []Reservation
	Leases       []LeaseStatus
	Tickets      []TicketStatus
}

// Reservation is a reservation and how much of it is in use.
type Reservation struct {
	Kind  string
	Name  string
	Seats int
	InUse int
}

// LeaseStatus is a held licence.
type LeaseStatus struct {
	Handle   int
	Lease    string
	User     string
	Host     string
	Display  string
	Project  string
	Protocol string
	Start    time.Time
	Count    int
	Reserved int
	Borrowed bool
}

// TicketStatus is a waiting checkout.
type TicketStatus struct {
	Handle   int
	User     string
	Host     string
	Display  string
	Count    int
	Position int
	Queued   time.Time
}

func unix(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(n, 0)
}

// Status reports the vendor daemon's features ("" for all).
func (c *Client) Status(ctx context.Context, feature string) ([]FeatureStatus, error) {
	v, err := c.vendorConn(ctx)
	if err != nil {
		return nil, err
	}
	return v.status(ctx, feature)
}

// status asks one connection for the status of feature ("" for all).
func (v *conn) status(ctx context.Context, feature string) ([]FeatureStatus, error) {
	ch, stop, err := v.start(wire.New(wire.Status, 0).Str(wire.TFeature, feature))
	if err != nil {
		return nil, err
	}
	defer stop()
	var out []FeatureStatus
	for {
		f, err := v.nextFrame(ctx, ch)
		if err != nil {
			return nil, err
		}
		var cur *FeatureStatus
		if len(out) > 0 {
			cur = &out[len(out)-1]
		}
		switch f.Type {
		case wire.StatusEnd:
			return out, nil
		case wire.Error:
			return nil, &ServerError{Code: int(f.GetInt(wire.TCode)), Message: f.GetStr(wire.TMessage)}
		case wire.StatusFeature:
			out = append(out, FeatureStatus{
				Feature: f.GetStr(wire.TFeature), Vendor: f.GetStr(wire.TVendor), Version: f.GetStr(wire.TVersion),
				Description: f.GetStr(wire.TDescription), Seats: int(f.GetInt(wire.TSeats)),
				InUse: int(f.GetInt(wire.TInUse)), Queued: int(f.GetInt(wire.TQueued)),
				Start: unix(f.GetInt(wire.TStartDate)), Expiry: unix(f.GetInt(wire.TExpires)),
			})
		case wire.StatusReservation, wire.StatusLease, wire.StatusTicket:
			if cur == nil {
				return nil, fmt.Errorf("flexlm client: %s before any STATUS_FEATURE", f.Type)
			}
			switch f.Type {
			case wire.StatusReservation:
				cur.Reservations = append(cur.Reservations, Reservation{Kind: f.GetStr(wire.TKind), Name: f.GetStr(wire.TName),
					Seats: int(f.GetInt(wire.TSeats)), InUse: int(f.GetInt(wire.TInUse))})
			case wire.StatusLease:
				cur.Leases = append(cur.Leases, LeaseStatus{Handle: int(f.GetInt(wire.THandle)), Lease: f.GetStr(wire.TLease),
					User: f.GetStr(wire.TUser), Host: f.GetStr(wire.THost), Display: f.GetStr(wire.TDisplay),
					Project: f.GetStr(wire.TProject), Protocol: f.GetStr(wire.TProtocol), Start: unix(f.GetInt(wire.TStart)),
					Count: int(f.GetInt(wire.TCount)), Reserved: int(f.GetInt(wire.TReserved)), Borrowed: f.GetBool(wire.TBorrowed)})
			case wire.StatusTicket:
				cur.Tickets = append(cur.Tickets, TicketStatus{Handle: int(f.GetInt(wire.TTicket)), User: f.GetStr(wire.TUser),
					Host: f.GetStr(wire.THost), Display: f.GetStr(wire.TDisplay), Count: int(f.GetInt(wire.TCount)),
					Position: int(f.GetInt(wire.TPosition)), Queued: unix(f.GetInt(wire.TStart))})
			}
		default:
			return nil, fmt.Errorf("flexlm client: unexpected %s in status", f.Type)
		}
	}
}
