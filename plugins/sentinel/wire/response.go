package wire

import "fmt"

// EncodeResponse encodes r in at most limit bytes (and never more than
// MaxDatagram). A list answer (Features, Clients) is cut to the records
// that fit, from cursor, the index of its first record, and its Next says
// where the next page starts. An answer that does not fit even so is
// ErrTooLarge: the server then answers TooLarge, which always fits.
func EncodeResponse(r *Response, cursor, limit int) ([]byte, error) {
	return AppendResponse(nil, r, cursor, limit)
}

// AppendResponse is EncodeResponse into buf's array (from its start),
// which it grows when needed: a server encodes into a buffer it reuses.
func AppendResponse(buf []byte, r *Response, cursor, limit int) ([]byte, error) {
	limit = min(limit, MaxDatagram)
	t := r.Type &^ Answer
	if !t.Known() {
		return nil, fmt.Errorf("encode answer: unknown type %v", r.Type)
	}
	w := headerTo(buf, t|Answer, r.ID)
	w.u8(uint8(r.Status))
	switch {
	case r.Status == OK && (t == Checkout || t == Commute || t == Poll):
		writeGrant(&w, &r.Grant)
	case r.Status == OK && t == Refresh:
		w.secs(r.Grant.Lifetime)
		w.time(r.Grant.Expires)
	case r.Status == Queued:
		w.str(r.Ticket)
		w.u16(r.Position)
	case r.Status.Denial():
		w.u16(r.InUse)
		w.u16(r.Seats)
	case r.Status == Gone || r.Status == Dequeued:
		w.str(r.Reason)
	case r.Status == OK && t == Discover:
		w.str(r.Server.Name)
		w.str(r.Server.Version)
		w.str(r.Server.Storage)
		w.u16(r.Server.Features)
	case r.Status == OK && (t == Features || t == Clients):
		return encodeList(&w, r, cursor, limit)
	}
	if w.err != nil {
		return nil, fmt.Errorf("encode %v: %w", t|Answer, w.err)
	}
	if len(w.b) > limit {
		return nil, fmt.Errorf("encode %v: %d bytes, limit %d: %w", t|Answer, len(w.b), limit, ErrTooLarge)
	}
	return w.b, nil
}

// encodeList writes total, next, the record count and as many records as
// fit in limit.
func encodeList(w *writer, r *Response, cursor, limit int) ([]byte, error) {
	n := len(r.Features)
	if r.Type&^Answer == Clients {
		n = len(r.Clients)
	}
	w.u16(r.Total)
	nextAt := len(w.b)
	w.u16(0)
	w.u8(0)
	countAt := len(w.b) - 1
	written := 0
	for i := 0; i < n && i < 0xFF; i++ {
		rec := &writer{}
		if r.Type&^Answer == Clients {
			writeClient(rec, &r.Clients[i])
		} else {
			writeFeature(rec, &r.Features[i])
		}
		if rec.err != nil {
			return nil, fmt.Errorf("encode %v: %w", r.Type|Answer, rec.err)
		}
		if len(w.b)+len(rec.b) > limit {
			break
		}
		w.b = append(w.b, rec.b...)
		written++
	}
	if written == 0 && n > 0 {
		return nil, fmt.Errorf("encode %v: no record fits in %d bytes: %w", r.Type|Answer, limit, ErrTooLarge)
	}
	if len(w.b) > limit {
		return nil, fmt.Errorf("encode %v: %d bytes, limit %d: %w", r.Type|Answer, len(w.b), limit, ErrTooLarge)
	}
	next := cursor + written
	if next >= r.Total {
		next = NoMore
	}
	w.b[nextAt], w.b[nextAt+1] = byte(next>>8), byte(next)
	w.b[countAt] = uint8(written)
	return w.b, nil
}

func writeGrant(w *writer, g *Grant) {
	w.str(g.Handle)
	w.u16(g.Count)
	w.secs(g.Lifetime)
	w.time(g.Expires)
	w.flag(g.Commuter)
}

func readGrant(r *reader) Grant {
	g := Grant{Handle: r.str(), Count: r.u16(), Lifetime: r.secs(), Expires: r.time()}
	g.Commuter = r.flags()[0]
	return g
}

func writeFeature(w *writer, f *Feature) {
	w.str(f.Name)
	w.str(f.Version)
	w.flag(f.Commuter, f.Queue)
	for _, v := range []int{f.MaxUsers, f.UnreservedInUse, f.UnreservedFree, f.ReservedInUse,
		f.ReservedFree, f.Queued, f.CommuterInUse, f.MaxCommuterDays} {
		w.u16(v)
	}
	w.secs(f.Lifetime)
	w.time(f.Start)
	w.time(f.Expiration)
}

func readFeature(r *reader) Feature {
	f := Feature{Name: r.str(), Version: r.str()}
	fl := r.flags()
	f.Commuter, f.Queue = fl[0], fl[1]
	for _, p := range []*int{&f.MaxUsers, &f.UnreservedInUse, &f.UnreservedFree, &f.ReservedInUse,
		&f.ReservedFree, &f.Queued, &f.CommuterInUse, &f.MaxCommuterDays} {
		*p = r.u16()
	}
	f.Lifetime = r.secs()
	f.Start = r.time()
	f.Expiration = r.time()
	return f
}

func writeClient(w *writer, c *Client) {
	w.str(c.User)
	w.str(c.Host)
	w.str(c.Display)
	w.str(c.Group)
	w.u16(c.Count)
	w.flag(c.Commuter)
	w.time(c.Granted)
	w.time(c.Expires)
}

func readClient(r *reader) Client {
	c := Client{User: r.str(), Host: r.str(), Display: r.str(), Group: r.str(), Count: r.u16()}
	c.Commuter = r.flags()[0]
	c.Granted = r.time()
	c.Expires = r.time()
	return c
}

// DecodeResponse decodes an answer datagram; it must end where its fields
// end.
func DecodeResponse(b []byte) (*Response, error) {
	r := &Response{}
	if err := DecodeResponseInto(b, r); err != nil {
		return nil, err
	}
	return r, nil
}

// DecodeResponseInto is DecodeResponse into r: a client reuses one.
func DecodeResponseInto(b []byte, r *Response) error {
	*r = Response{}
	rd, t, id, err := readHeader(b)
	if err != nil {
		return err
	}
	if t&Answer == 0 || !(t &^ Answer).Known() {
		return fmt.Errorf("%w: %v is not an answer type", ErrMalformed, t)
	}
	t &^= Answer
	r.ID, r.Type, r.Status = id, t, Status(rd.u8())
	if int(r.Status) >= len(statusNames) {
		return fmt.Errorf("%w: unknown status %d", ErrMalformed, r.Status)
	}
	switch {
	case r.Status == OK && (t == Checkout || t == Commute || t == Poll):
		r.Grant = readGrant(&rd)
	case r.Status == OK && t == Refresh:
		r.Grant.Lifetime = rd.secs()
		r.Grant.Expires = rd.time()
	case r.Status == Queued:
		r.Ticket = rd.str()
		r.Position = rd.u16()
	case r.Status.Denial():
		r.InUse = rd.u16()
		r.Seats = rd.u16()
	case r.Status == Gone || r.Status == Dequeued:
		r.Reason = rd.str()
	case r.Status == OK && t == Discover:
		r.Server = Server{Name: rd.str(), Version: rd.str(), Storage: rd.str(), Features: rd.u16()}
	case r.Status == OK && (t == Features || t == Clients):
		r.Total = rd.u16()
		r.Next = rd.u16()
		n := int(rd.u8())
		for i := 0; i < n && rd.err == nil; i++ {
			if t == Clients {
				r.Clients = append(r.Clients, readClient(&rd))
			} else {
				r.Features = append(r.Features, readFeature(&rd))
			}
		}
	}
	if rd.err != nil {
		return fmt.Errorf("decode %v: %w", t|Answer, rd.err)
	}
	if rd.off != len(b) {
		return fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(b)-rd.off)
	}
	return nil
}
