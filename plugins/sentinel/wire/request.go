package wire

import "fmt"

// EncodeRequest encodes r padded with zero bytes to size bytes, at least
// MinRequest (a request whose fields are longer is not padded). A client pads list requests (Features, Clients) further: the
// server answers with at most Amplification times the request's size.
func EncodeRequest(r *Request, size int) ([]byte, error) {
	return AppendRequest(nil, r, size)
}

// AppendRequest is EncodeRequest into buf's array (from its start), which
// it grows when needed: a client encodes into a buffer it reuses.
func AppendRequest(buf []byte, r *Request, size int) ([]byte, error) {
	if !r.Type.Known() {
		return nil, fmt.Errorf("encode request: unknown type %v", r.Type)
	}
	w := headerTo(buf, r.Type, r.ID)
	switch r.Type {
	case Checkout, Commute:
		w.str(r.Feature)
		w.str(r.Version)
		w.u16(max(r.Count, 1))
		if r.Type == Checkout {
			w.flag(r.Queue)
			w.secs(r.Wait)
		} else {
			w.u16(r.Days)
		}
		w.str(r.User)
		w.str(r.Host)
		w.str(r.Display)
	case Refresh, Release, Return, Poll, Cancel:
		w.str(r.Handle)
	case Features:
		w.str(r.Feature)
		w.u16(r.Cursor)
	case Clients:
		w.str(r.Feature)
		w.str(r.Version)
		w.u16(r.Cursor)
	case Discover:
		w.str(r.Feature)
	}
	if w.err != nil {
		return nil, fmt.Errorf("encode %v request: %w", r.Type, w.err)
	}
	size = min(max(size, MinRequest, len(w.b)), MaxDatagram)
	if len(w.b) > size {
		return nil, fmt.Errorf("encode %v request: %d bytes: %w", r.Type, len(w.b), ErrTooLarge)
	}
	return append(w.b, make([]byte, size-len(w.b))...), nil // zeroes; no allocation beyond growth
}

// DecodeRequest decodes a request datagram. Everything after the fields
// must be zero padding, and the datagram at least MinRequest bytes long.
func DecodeRequest(b []byte) (*Request, error) {
	r := &Request{}
	if err := DecodeRequestInto(b, r, nil); err != nil {
		return nil, err
	}
	return r, nil
}

// DecodeRequestInto is DecodeRequest into r. intern, when not nil, turns
// the names of a checkout (feature, version, user, host, display) into
// strings; a server passes one that hands out the strings it has seen
// before, so that a client asking again costs no allocation.
func DecodeRequestInto(b []byte, r *Request, intern func([]byte) string) error {
	*r = Request{}
	rd, t, id, err := readHeader(b)
	if err != nil {
		return err
	}
	if !t.Known() {
		return fmt.Errorf("%w: unknown request type %#02x", ErrMalformed, uint8(t))
	}
	if len(b) < MinRequest {
		return fmt.Errorf("%w: request of %d bytes is shorter than %d", ErrMalformed, len(b), MinRequest)
	}
	r.ID, r.Type = id, t
	switch t {
	case Checkout, Commute:
		r.Feature = rd.name(intern)
		r.Version = rd.name(intern)
		r.Count = max(rd.u16(), 1) // 0 means 1, as EncodeRequest sends it
		if t == Checkout {
			r.Queue = rd.flags()[0]
			r.Wait = rd.secs()
		} else {
			r.Days = rd.u16()
		}
		r.User = rd.name(intern)
		r.Host = rd.name(intern)
		r.Display = rd.name(intern)
	case Refresh, Release, Return, Poll, Cancel:
		r.Handle = rd.str()
	case Features:
		r.Feature = rd.str()
		r.Cursor = rd.u16()
	case Clients:
		r.Feature = rd.str()
		r.Version = rd.str()
		r.Cursor = rd.u16()
	case Discover:
		r.Feature = rd.str()
	}
	if rd.err != nil {
		return fmt.Errorf("decode %v request: %w", t, rd.err)
	}
	for i := rd.off; i < len(b); i++ {
		if b[i] != 0 {
			return fmt.Errorf("%w: non-zero padding at byte %d", ErrMalformed, i)
		}
	}
	return nil
}
