package wire

import (
	"encoding/binary"
	"fmt"
	"time"
)

// writer appends big-endian fields; it records the first error.
type writer struct {
	b   []byte
	err error
}

func (w *writer) u8(v uint8) { w.b = append(w.b, v) }

func (w *writer) u16(v int) { w.b = binary.BigEndian.AppendUint16(w.b, uint16(clamp(v, 0xFFFF))) }

func (w *writer) u32(v int64) {
	w.b = binary.BigEndian.AppendUint32(w.b, uint32(clamp64(v, 0xFFFFFFFF)))
}

func (w *writer) secs(d time.Duration) { w.u32(int64(d / time.Second)) }

func (w *writer) time(t time.Time) {
	var v int64
	if !t.IsZero() {
		v = t.Unix()
	}
	w.b = binary.BigEndian.AppendUint64(w.b, uint64(v))
}

func (w *writer) str(s string) {
	if len(s) > MaxString {
		if w.err == nil {
			w.err = fmt.Errorf("string field of %d bytes (max %d): %w", len(s), MaxString, ErrTooLarge)
		}
		return
	}
	w.b = append(w.b, uint8(len(s)))
	w.b = append(w.b, s...)
}

func (w *writer) flag(bits ...bool) {
	var v uint8
	for i, b := range bits {
		if b {
			v |= 1 << i
		}
	}
	w.u8(v)
}

func clamp(v, hi int) int { return max(0, min(v, hi)) }

func clamp64(v, hi int64) int64 { return max(0, min(v, hi)) }

// reader consumes big-endian fields; after the first error every read
// returns zero values and err keeps that error.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: at byte %d: %s", ErrMalformed, r.off, fmt.Sprintf(format, args...))
	}
}

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n > len(r.b)-r.off {
		r.fail("want %d bytes, %d left", n, len(r.b)-r.off)
		return nil
	}
	b := r.b[r.off : r.off+n]
	r.off += n
	return b
}

func (r *reader) u8() uint8 {
	if b := r.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (r *reader) u16() int {
	if b := r.take(2); b != nil {
		return int(binary.BigEndian.Uint16(b))
	}
	return 0
}

func (r *reader) u32() int64 {
	if b := r.take(4); b != nil {
		return int64(binary.BigEndian.Uint32(b))
	}
	return 0
}

func (r *reader) secs() time.Duration { return time.Duration(r.u32()) * time.Second }

func (r *reader) time() time.Time {
	b := r.take(8)
	if b == nil {
		return time.Time{}
	}
	v := int64(binary.BigEndian.Uint64(b))
	if v == 0 {
		return time.Time{}
	}
	// Keep times within what time.Unix round-trips exactly (year 1..9999).
	const lo, hi = -62135596800, 253402300799
	if v < lo || v > hi {
		r.fail("time %d out of range", v)
		return time.Time{}
	}
	return time.Unix(v, 0).UTC()
}

func (r *reader) str() string {
	return string(r.raw())
}

// name is str through intern, when there is one: the strings a client
// repeats (feature, user, host) then cost no allocation.
func (r *reader) name(intern func([]byte) string) string {
	if intern == nil {
		return r.str()
	}
	return intern(r.raw())
}

func (r *reader) raw() []byte {
	n := int(r.u8())
	if n > MaxString {
		r.fail("string of %d bytes (max %d)", n, MaxString)
		return nil
	}
	return r.take(n)
}

func (r *reader) flags() [8]bool {
	v := r.u8()
	var out [8]bool
	for i := range out {
		out[i] = v&(1<<i) != 0
	}
	return out
}

// header writes the common header.
func header(t Type, id uint64) writer {
	return headerTo(nil, t, id)
}

// headerTo writes the common header at the start of buf's array.
func headerTo(buf []byte, t Type, id uint64) writer {
	if cap(buf) == 0 {
		buf = make([]byte, 0, 128)
	}
	w := writer{b: buf[:0]}
	w.b = append(w.b, Magic0, Magic1, Version, uint8(t))
	w.b = binary.BigEndian.AppendUint64(w.b, id)
	return w
}

// readHeader checks the common header and returns the type and id.
func readHeader(b []byte) (reader, Type, uint64, error) {
	if len(b) < HeaderSize {
		return reader{}, 0, 0, fmt.Errorf("%w: %d bytes is shorter than a header", ErrMalformed, len(b))
	}
	if len(b) > MaxDatagram {
		return reader{}, 0, 0, fmt.Errorf("%w: %d bytes is longer than %d", ErrMalformed, len(b), MaxDatagram)
	}
	if b[0] != Magic0 || b[1] != Magic1 {
		return reader{}, 0, 0, fmt.Errorf("%w: bad magic %#x %#x", ErrMalformed, b[0], b[1])
	}
	if b[2] != Version {
		return reader{}, 0, 0, fmt.Errorf("%w: version %d, want %d", ErrMalformed, b[2], Version)
	}
	return reader{b: b, off: HeaderSize}, Type(b[3]), binary.BigEndian.Uint64(b[4:12]), nil
}

// PeekID returns a datagram's type and request id after checking only its
// header, so that a server can find a retransmit in its cache before
// decoding the rest.
func PeekID(b []byte) (Type, uint64, error) {
	_, t, id, err := readHeader(b)
	return t, id, err
}
