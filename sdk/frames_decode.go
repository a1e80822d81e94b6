package sdk

import (
	"errors"
	"time"

	pb "github.com/licensegw/licensegw/sdk/proto"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// The plugin's decoding of GatewayFrames on the data plane, by hand. The
// bytes are the protobuf encoding of seats.proto (the format on the wire
// is unchanged), but the answers a plugin gets nearly all the time (a
// grant, a heartbeat's lease state, an empty result) are decoded straight
// into the waiting call's answer, without building protobuf messages: the
// only allocations left are the strings the caller keeps (a new lease),
// and names the session has seen before (vendor, feature, version) are
// not allocated again. The rare parts (errors, denials, status, ticket
// updates) are handed to proto.Unmarshal.
//
// The decoder follows protobuf's rules: fields in any order, unknown
// fields and fields of an unexpected wire type skipped, the last value of
// a scalar wins, a repeated message field is merged, and a oneof takes the
// member that came last (FuzzDecodeResponse compares it with
// proto.Unmarshal).

// errMalformedFrame is a gateway frame the plugin cannot decode.
var errMalformedFrame = errors.New("malformed gateway frame")

// result says which of a Response's results is set.
type result uint8

const (
	resultNone result = iota
	resultCheckout
	resultLeaseState
	resultStatus
	resultBytes
)

// answer is a Response as the session's reader hands it to the caller.
type answer struct {
	id     uint64
	err    *pb.Error // the call failed
	result result
	co     checkoutAnswer
	ls     leaseAnswer
	status *pb.StatusResult
	data   []byte // Bytes.data, the caller's own copy
}

type checkoutAnswer struct {
	outcome  pb.Outcome
	hasGrant bool
	grant    Grant
	denial   *pb.Denial
	ticket   string
	position int32
}

type leaseAnswer struct {
	lease          string
	ttl, expiresNs int64
}

// reset empties a for the next response, keeping nothing that the caller
// of the previous one may still hold.
func (a *answer) reset() { *a = answer{} }

// names interns the strings that answers repeat (vendors, features,
// versions), so that a session allocates each only once. It is used by
// the session's reader only (under the session's lock), and bounded.
type names map[string]string

const maxNames = 1024

// get returns b as a string, from the table when it is there.
func (n names) get(b []byte, hint string) string {
	if string(b) == hint {
		return hint
	}
	if s, ok := n[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(n) >= maxNames {
		clear(n)
	}
	n[s] = s
	return s
}

// splitGatewayFrame calls resp with each Response's bytes, then update
// with each TicketUpdate's, as the session processes them: within a
// frame, responses before updates.
func splitGatewayFrame(b []byte, resp func([]byte) error, update func([]byte) error) error {
	var updates bool
	if err := walk(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		switch {
		case num == 1 && typ == protowire.BytesType:
			return resp(v)
		case num == 2 && typ == protowire.BytesType:
			updates = true
		}
		return nil
	}); err != nil {
		return err
	}
	if !updates {
		return nil
	}
	return walk(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if num == 2 && typ == protowire.BytesType {
			return update(v)
		}
		return nil
	})
}

// walk calls field for each field of the message b: its number, its wire
// type and either its bytes (length-delimited) or its value (varint and
// fixed). Groups are skipped, as proto.Unmarshal skips unknown ones.
func walk(b []byte, field func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return errMalformedFrame
		}
		b = b[n:]
		var (
			v []byte
			x uint64
		)
		switch typ {
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		case protowire.Fixed32Type:
			var u uint32
			u, n = protowire.ConsumeFixed32(b)
			x = uint64(u)
		case protowire.Fixed64Type:
			x, n = protowire.ConsumeFixed64(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return errMalformedFrame
		}
		b = b[n:]
		if typ == protowire.StartGroupType {
			continue
		}
		if err := field(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}

// responseID returns the id of the Response b (its last id field wins).
func responseID(b []byte) (uint64, error) {
	var id uint64
	err := walk(b, func(num protowire.Number, typ protowire.Type, _ []byte, x uint64) error {
		if num == 1 && typ == protowire.VarintType {
			id = x
		}
		return nil
	})
	return id, err
}

// hints are strings the request had, which an answer usually repeats
// (the lease heartbeated, the feature asked for): equal bytes decode to
// them without an allocation.
type hints struct {
	lease, vendor, feature, version string
}

// decodeResponse decodes the Response b into a, which the caller reset.
func decodeResponse(b []byte, a *answer, h hints, n names) error {
	return walk(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch {
		case num == 1 && typ == protowire.VarintType:
			a.id = x
		case num == 2 && typ == protowire.BytesType:
			if a.err == nil {
				a.err = &pb.Error{}
			}
			return proto.UnmarshalOptions{Merge: true}.Unmarshal(v, a.err)
		case num == 10 && typ == protowire.BytesType:
			if a.result != resultCheckout {
				a.result, a.co = resultCheckout, checkoutAnswer{}
			}
			return decodeCheckout(v, &a.co, h, n)
		case num == 11 && typ == protowire.BytesType:
			if a.result != resultLeaseState {
				a.result, a.ls = resultLeaseState, leaseAnswer{}
			}
			return decodeLeaseState(v, &a.ls, h)
		case num == 12 && typ == protowire.BytesType:
			if a.result != resultStatus || a.status == nil {
				a.result, a.status = resultStatus, &pb.StatusResult{}
			}
			return proto.UnmarshalOptions{Merge: true}.Unmarshal(v, a.status)
		case num == 13 && typ == protowire.BytesType:
			if a.result != resultBytes {
				a.result, a.data = resultBytes, nil
			}
			return walk(v, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
				if num == 1 && typ == protowire.BytesType {
					a.data = append([]byte{}, v...)
				}
				return nil
			})
		}
		return nil
	})
}

func decodeCheckout(b []byte, co *checkoutAnswer, h hints, n names) error {
	return walk(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch {
		case num == 1 && typ == protowire.VarintType:
			co.outcome = pb.Outcome(int32(x))
		case num == 2 && typ == protowire.BytesType:
			co.hasGrant = true
			return decodeGrant(v, &co.grant, h, n)
		case num == 3 && typ == protowire.BytesType:
			if co.denial == nil {
				co.denial = &pb.Denial{}
			}
			return proto.UnmarshalOptions{Merge: true}.Unmarshal(v, co.denial)
		case num == 4 && typ == protowire.BytesType:
			co.ticket = string(v)
		case num == 5 && typ == protowire.VarintType:
			co.position = int32(x)
		}
		return nil
	})
}

func decodeGrant(b []byte, g *Grant, h hints, n names) error {
	return walk(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		if typ == protowire.BytesType {
			switch num {
			case 1:
				g.Lease = string(v)
			case 2:
				g.Vendor = n.get(v, h.vendor)
			case 3:
				g.Feature = n.get(v, h.feature)
			case 4:
				g.Version = n.get(v, h.version)
			case 9:
				g.Signature = append([]byte{}, v...)
			}
			return nil
		}
		if typ != protowire.VarintType {
			return nil
		}
		switch num {
		case 5:
			g.Count = int(int32(x))
		case 6:
			g.TTL = time.Duration(int64(x))
		case 7:
			g.Expires = fromUnixNanos(int64(x))
		case 8:
			g.Borrowed = x != 0
		}
		return nil
	})
}

func decodeLeaseState(b []byte, ls *leaseAnswer, h hints) error {
	return walk(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch {
		case num == 1 && typ == protowire.BytesType:
			if string(v) == h.lease {
				ls.lease = h.lease
			} else {
				ls.lease = string(v)
			}
		case num == 2 && typ == protowire.VarintType:
			ls.ttl = int64(x)
		case num == 3 && typ == protowire.VarintType:
			ls.expiresNs = int64(x)
		}
		return nil
	})
}

// answerFromPB is the answer of a Response decoded by proto (the gRPC
// stream's).
func answerFromPB(r *pb.Response, a *answer) {
	a.id, a.err = r.GetId(), r.GetError()
	switch x := r.GetResult().(type) {
	case *pb.Response_Checkout:
		c := x.Checkout
		a.result = resultCheckout
		a.co = checkoutAnswer{outcome: c.GetOutcome(), denial: c.GetDenial(), ticket: c.GetTicket(), position: c.GetPosition()}
		if g := c.GetGrant(); g != nil {
			a.co.hasGrant, a.co.grant = true, grantValueFromPB(g)
		}
	case *pb.Response_LeaseState:
		s := x.LeaseState
		a.result = resultLeaseState
		a.ls = leaseAnswer{lease: s.GetLease(), ttl: s.GetTtlNs(), expiresNs: s.GetExpiresUnixNs()}
	case *pb.Response_Status:
		a.result, a.status = resultStatus, x.Status
		if a.status == nil {
			a.status = &pb.StatusResult{}
		}
	case *pb.Response_Bytes:
		a.result, a.data = resultBytes, x.Bytes.GetData()
	}
}

// checkout is the answer's Checkout; a grant, the usual answer, comes in
// one allocation with it.
func (c *checkoutAnswer) checkout() *Checkout {
	type granted struct {
		co Checkout
		g  Grant
	}
	var co *Checkout
	if c.hasGrant {
		both := &granted{g: c.grant}
		co = &both.co
		co.Grant = &both.g
	} else {
		co = &Checkout{}
	}
	co.Outcome, co.Denial = Outcome(c.outcome), denialFromPB(c.denial)
	co.Ticket, co.Position = c.ticket, int(c.position)
	return co
}
