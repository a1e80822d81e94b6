package sdk

import (
	"unicode/utf8"

	pb "github.com/licensegw/licensegw/sdk/proto"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// frameDecoder decodes the PluginFrames the gateway reads on the data
// plane. The frequent requests (checkout, heartbeat, checkin) are decoded
// by hand into messages reused from frame to frame, and the names that
// repeat from request to request (feature, vendor, user, host, ...) are
// interned: so a request costs no reflection and, once the session has
// seen its names, no allocation. A lease is interned by its first heartbeat
// and let go by its checkin (leases): later heartbeats and the checkin find
// it. Anything else (another operation, a field
// twice, an unknown field, bad UTF-8) has the whole frame decoded by
// proto.Unmarshal, so that every frame means what it means to protobuf
// (FuzzDecodePluginFrame checks the two agree).
//
// The requests of a decoded frame are valid until the next decode: the
// session's reader hands a copy to any request it does not finish before
// it reads on (decoded reports whether they are reused).
type frameDecoder struct {
	frame  pb.PluginFrame
	slots  []*requestSlot
	names  internTable
	leases internTable // leases heartbeaten and not checked in (limit maxLeases)
}

// requestSlot holds one request and the messages of its operation.
type requestSlot struct {
	req    pb.Request
	co     pb.CheckoutRequest
	client pb.Client
	ref    pb.LeaseRef
	opCO   pb.Request_Checkout
	opHB   pb.Request_Heartbeat
	opCI   pb.Request_Checkin
}

// decode decodes b. reused reports whether the frame's requests are the
// decoder's own (valid until the next decode) rather than new messages.
func (d *frameDecoder) decode(b []byte) (f *pb.PluginFrame, reused bool, err error) {
	if d.decodeFast(b) {
		return &d.frame, true, nil
	}
	f = &pb.PluginFrame{}
	return f, false, proto.Unmarshal(b, f)
}

// decodeFast decodes b into d.frame and reports whether it could.
func (d *frameDecoder) decodeFast(b []byte) bool {
	f := &d.frame
	clear(f.Requests)
	f.Requests, f.Abandon = f.Requests[:0], f.Abandon[:0]
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return false
		}
		b = b[n:]
		switch {
		case num == 1 && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return false
			}
			b = b[n:]
			i := len(f.Requests)
			if i == len(d.slots) {
				d.slots = append(d.slots, &requestSlot{})
			}
			s := d.slots[i]
			if !d.decodeRequest(s, v) {
				return false
			}
			f.Requests = append(f.Requests, &s.req)
		case num == 2 && typ == protowire.BytesType: // packed
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return false
			}
			b = b[n:]
			for len(v) > 0 {
				id, n := protowire.ConsumeVarint(v)
				if n < 0 {
					return false
				}
				v = v[n:]
				f.Abandon = append(f.Abandon, id)
			}
		case num == 2 && typ == protowire.VarintType:
			id, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return false
			}
			b = b[n:]
			f.Abandon = append(f.Abandon, id)
		default:
			return false
		}
	}
	return true
}

// decodeRequest decodes one Request into s and reports whether it could.
func (d *frameDecoder) decodeRequest(s *requestSlot, b []byte) bool {
	r := &s.req
	r.Id, r.TimeoutNs, r.Op = 0, 0, nil
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return false
		}
		b = b[n:]
		if num == 1 || num == 2 {
			if typ != protowire.VarintType {
				return false
			}
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return false
			}
			b = b[n:]
			if num == 1 {
				r.Id = v
			} else {
				r.TimeoutNs = int64(v)
			}
			continue
		}
		// An operation: a message, once (a second one would be merged
		// or replace the first: protobuf's business).
		if typ != protowire.BytesType || r.Op != nil {
			return false
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return false
		}
		b = b[n:]
		switch num {
		case 10:
			s.co.Reset()
			s.client.Reset()
			if !d.decodeCheckout(s, v) {
				return false
			}
			s.opCO.Checkout = &s.co
			r.Op = &s.opCO
		case 11, 12:
			s.ref.Reset()
			if !d.decodeLeaseRef(&s.ref, v, num == 11) {
				return false
			}
			if num == 11 {
				s.opHB.Heartbeat = &s.ref
				r.Op = &s.opHB
			} else {
				s.opCI.Checkin = &s.ref
				r.Op = &s.opCI
			}
		default:
			return false
		}
	}
	return true
}

// decodeCheckout decodes a CheckoutRequest into s.co (and s.client).
func (d *frameDecoder) decodeCheckout(s *requestSlot, b []byte) bool {
	c := &s.co
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return false
		}
		b = b[n:]
		switch num {
		case 4, 6, 7, 8, 10: // count, wait_ns, borrow_ns, sign, bind_conn
			if typ != protowire.VarintType {
				return false
			}
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return false
			}
			b = b[n:]
			switch num {
			case 4:
				c.Count = int64(v)
			case 6:
				c.WaitNs = int64(v)
			case 7:
				c.BorrowNs = int64(v)
			case 8:
				c.Sign = protowire.DecodeBool(v)
			case 10:
				c.BindConn = protowire.DecodeBool(v)
			}
		case 1, 2, 3, 5, 9, 11:
			if typ != protowire.BytesType {
				return false
			}
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return false
			}
			b = b[n:]
			if num == 5 {
				if c.Client != nil || !d.decodeClient(&s.client, v) {
					return false
				}
				c.Client = &s.client
				continue
			}
			if !utf8.Valid(v) {
				return false
			}
			switch num {
			case 1:
				c.Vendor = d.names.get(v)
			case 2:
				c.Feature = d.names.get(v)
			case 3:
				c.Version = d.names.get(v)
			case 9:
				c.Nonce = string(v)
			case 11:
				c.RequestKey = string(v)
			}
		default:
			return false
		}
	}
	return true
}

// decodeClient decodes a Client into c.
func (d *frameDecoder) decodeClient(c *pb.Client, b []byte) bool {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || num < 1 || num > 5 || typ != protowire.BytesType {
			return false
		}
		b = b[n:]
		v, n := protowire.ConsumeBytes(b)
		if n < 0 || !utf8.Valid(v) {
			return false
		}
		b = b[n:]
		switch num {
		case 1:
			c.User = d.names.get(v)
		case 2:
			c.Host = d.names.get(v)
		case 3:
			c.Display = d.names.get(v)
		case 4:
			c.Project = d.names.get(v)
		case 5:
			// One per client connection, which sends many requests:
			// interned too (the table's bound keeps a flood of
			// connections from growing it).
			c.Addr = d.names.get(v)
		}
	}
	return true
}

// decodeLeaseRef decodes a LeaseRef without its by (a heartbeat's or a
// checkin's) into r. A heartbeat's lease is interned (a lease is heartbeaten
// again and again); a checkin's is let go.
func (d *frameDecoder) decodeLeaseRef(r *pb.LeaseRef, b []byte, heartbeat bool) bool {
	var lease []byte
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || num != 1 || typ != protowire.BytesType {
			return false
		}
		b = b[n:]
		v, n := protowire.ConsumeBytes(b)
		if n < 0 || !utf8.Valid(v) {
			return false
		}
		b = b[n:]
		lease = v
	}
	if heartbeat {
		d.leases.limit = maxLeases
		r.Lease = d.leases.get(lease)
	} else {
		r.Lease = d.leases.take(lease)
	}
	return true
}

// maxInterned bounds the names an internTable keeps (unless its limit
// says otherwise), and maxInternLen the length of one: a plugin whose
// clients send ever new names gets a fresh table now and then instead of
// an ever larger one. maxLeases bounds the leases one session's decoder
// keeps: those heartbeaten and not checked in (a lease that expires
// instead stays until the table is renewed).
const (
	maxInterned  = 4096
	maxInternLen = 128
	maxLeases    = 16384
)

// internTable hands out one string per distinct name, so that the names
// every request repeats cost no allocation. Its strings are ordinary ones
// of their own, never memory of the frame they were read from.
type internTable struct {
	m     map[string]string
	limit int // the most it keeps; 0: maxInterned
}

func (t *internTable) get(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > maxInternLen {
		return string(b)
	}
	if s, ok := t.m[string(b)]; ok { // no allocation for the lookup
		return s
	}
	limit := t.limit
	if limit == 0 {
		limit = maxInterned
	}
	if t.m == nil || len(t.m) >= limit {
		t.m = make(map[string]string, 64)
	}
	s := string(b)
	t.m[s] = s
	return s
}

// take returns b as a string, the table's if it has one, and removes it
// from the table.
func (t *internTable) take(b []byte) string {
	if s, ok := t.m[string(b)]; ok { // no allocation for the lookup
		delete(t.m, s)
		return s
	}
	return string(b)
}
