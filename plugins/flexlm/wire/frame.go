package wire

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
)

// Version is the protocol version this package speaks.
const Version = 1

// MaxPayload is the largest payload a frame may carry.
const MaxPayload = 1 << 20

const (
	headerLen  = 12
	trailerLen = 4
	maxValue   = 1<<16 - 1
)

var magic = [2]byte{'F', 'X'}

// Errors a decoder returns; a connection that sees one is closed.
var (
	ErrBadMagic  = errors.New("wire: bad magic")
	ErrVersion   = errors.New("wire: unsupported protocol version")
	ErrTooLarge  = errors.New("wire: frame too large")
	ErrChecksum  = errors.New("wire: checksum mismatch")
	ErrMalformed = errors.New("wire: malformed payload")
	ErrShort     = errors.New("wire: short frame")
)

// Field is one tagged value.
type Field struct {
	Tag   Tag
	Value []byte
}

// Frame is one message.
type Frame struct {
	Type   Type
	ID     uint32
	Fields []Field
}

// New returns a frame of type t answering (or asking) request id.
func New(t Type, id uint32) *Frame { return &Frame{Type: t, ID: id} }

// Str appends a string field and returns f.
func (f *Frame) Str(tag Tag, s string) *Frame {
	if len(s) > maxValue {
		s = s[:maxValue]
	}
	f.Fields = append(f.Fields, Field{Tag: tag, Value: []byte(s)})
	return f
}

// Int appends an integer field and returns f.
func (f *Frame) Int(tag Tag, n int64) *Frame {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(n))
	f.Fields = append(f.Fields, Field{Tag: tag, Value: b[:]})
	return f
}

// Bool appends an integer field of 1 or 0 and returns f.
func (f *Frame) Bool(tag Tag, v bool) *Frame {
	if v {
		return f.Int(tag, 1)
	}
	return f.Int(tag, 0)
}

// Has reports whether f has a field tag.
func (f *Frame) Has(tag Tag) bool {
	for _, fl := range f.Fields {
		if fl.Tag == tag {
			return true
		}
	}
	return false
}

// Value returns the bytes of the first field tag, and whether there is one.
// They alias the frame's buffer (see ReadInto).
func (f *Frame) Value(tag Tag) ([]byte, bool) {
	for _, fl := range f.Fields {
		if fl.Tag == tag {
			return fl.Value, true
		}
	}
	return nil, false
}

// GetStr returns the first field tag as a string, or "".
func (f *Frame) GetStr(tag Tag) string {
	for _, fl := range f.Fields {
		if fl.Tag == tag {
			return string(fl.Value)
		}
	}
	return ""
}

// GetInt returns the first field tag as an integer, or 0 (also when the
// field is not 8 bytes long).
func (f *Frame) GetInt(tag Tag) int64 {
	for _, fl := range f.Fields {
		if fl.Tag == tag {
			return toInt(fl.Value)
		}
	}
	return 0
}

// GetBool reports whether the first field tag is a non-zero integer.
func (f *Frame) GetBool(tag Tag) bool { return f.GetInt(tag) != 0 }

// GetStrs returns every field tag as strings, in order.
func (f *Frame) GetStrs(tag Tag) []string {
	var out []string
	for _, fl := range f.Fields {
		if fl.Tag == tag {
			out = append(out, string(fl.Value))
		}
	}
	return out
}

// GetInts returns every field tag as integers, in order.
func (f *Frame) GetInts(tag Tag) []int64 {
	var out []int64
	for _, fl := range f.Fields {
		if fl.Tag == tag {
			out = append(out, toInt(fl.Value))
		}
	}
	return out
}

func toInt(b []byte) int64 {
	if len(b) != 8 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(b))
}

// String describes the frame for logs.
func (f *Frame) String() string {
	return fmt.Sprintf("%s id=%d fields=%d", f.Type, f.ID, len(f.Fields))
}

// Encode returns the frame's bytes.
func (f *Frame) Encode() ([]byte, error) {
	n := 0
	for _, fl := range f.Fields {
		n += 3 + len(fl.Value)
	}
	return f.AppendEncode(make([]byte, 0, headerLen+n+trailerLen))
}

// AppendEncode appends the frame's bytes to dst.
func (f *Frame) AppendEncode(dst []byte) ([]byte, error) {
	var w Builder
	w.b = dst
	w.Begin(f.Type, f.ID)
	for _, fl := range f.Fields {
		w.field(fl.Tag, fl.Value)
	}
	return w.Finish()
}

// Builder encodes frames into a buffer it reuses, without building a
// Frame: a server answers its frequent requests with no allocation.
//
//	b.Begin(wire.HeartbeatOK, id)
//	b.Int(wire.THandle, n).Int(wire.TTTLMs, ttl)
//	frame, err := b.Finish()
type Builder struct {
	b     []byte
	start int // where the frame being built begins in b
	err   error
}

// Begin starts a frame of type t answering (or asking) request id,
// dropping what the builder held before.
func (w *Builder) Begin(t Type, id uint32) *Builder {
	w.b, w.start, w.err = w.b[:0], 0, nil
	w.b = append(w.b, magic[0], magic[1], Version, byte(t), 0, 0, 0, 0, 0, 0, 0, 0)
	binary.BigEndian.PutUint32(w.b[4:], id)
	return w
}

func (w *Builder) field(tag Tag, v []byte) {
	if len(v) > maxValue {
		if w.err == nil {
			w.err = fmt.Errorf("%w: field %s is %d bytes", ErrTooLarge, tag, len(v))
		}
		return
	}
	w.b = append(w.b, byte(tag), byte(len(v)>>8), byte(len(v)))
	w.b = append(w.b, v...)
}

// Raw appends a field of bytes as they are (a Frame's field).
func (w *Builder) Raw(tag Tag, v []byte) *Builder {
	w.field(tag, v)
	return w
}

// Str appends a string field (cut at the longest value, as Frame.Str).
func (w *Builder) Str(tag Tag, s string) *Builder {
	if len(s) > maxValue {
		s = s[:maxValue]
	}
	w.b = append(w.b, byte(tag), byte(len(s)>>8), byte(len(s)))
	w.b = append(w.b, s...)
	return w
}

// Int appends an integer field.
func (w *Builder) Int(tag Tag, n int64) *Builder {
	w.b = append(w.b, byte(tag), 0, 8)
	w.b = binary.BigEndian.AppendUint64(w.b, uint64(n))
	return w
}

// Bool appends an integer field of 1 or 0.
func (w *Builder) Bool(tag Tag, v bool) *Builder {
	if v {
		return w.Int(tag, 1)
	}
	return w.Int(tag, 0)
}

// Finish completes the frame (length and checksum) and returns its
// bytes, valid until the builder's next Begin.
func (w *Builder) Finish() ([]byte, error) {
	if w.err != nil {
		return nil, w.err
	}
	n := len(w.b) - w.start - headerLen
	if n > MaxPayload {
		return nil, fmt.Errorf("%w: %d bytes", ErrTooLarge, n)
	}
	binary.BigEndian.PutUint32(w.b[w.start+8:], uint32(n))
	w.b = binary.BigEndian.AppendUint32(w.b, crc32.ChecksumIEEE(w.b[w.start:]))
	return w.b[w.start:], nil
}

// Write encodes f to w in one write.
func Write(w io.Writer, f *Frame) error {
	b, err := f.Encode()
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("wire: write %s: %w", f.Type, err)
	}
	return nil
}

// Read reads one frame from r. io.EOF means the peer closed cleanly
// between frames.
func Read(r *bufio.Reader) (*Frame, error) {
	f := &Frame{}
	if _, err := ReadInto(r, f, nil); err != nil {
		return nil, err
	}
	return f, nil
}

// ReadInto reads one frame from r into f, reusing f's fields and buf for
// the frame's bytes, and returns the buffer to pass next time: a server
// that reads frame after frame allocates nothing for them. f's values
// alias the buffer, so they are valid until the next ReadInto with it. A
// buffer is kept only while it is small (a rare big frame's is dropped).
func ReadInto(r *bufio.Reader, f *Frame, buf []byte) ([]byte, error) {
	var hdr [headerLen]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return buf, ErrShort
		}
		return buf, err
	}
	if err := checkHeader(hdr[:]); err != nil {
		return buf, err
	}
	rest := int64(binary.BigEndian.Uint32(hdr[8:])) + trailerLen
	// The buffer grows as bytes arrive, never ahead of them: a header
	// that announces a megabyte and a client that sends ten bytes (or
	// hangs up) costs ten bytes, not a megabyte per connection.
	out := append(buf[:0], hdr[:]...)
	for got := int64(0); got < rest; {
		chunk := int(min(rest-got, readChunk))
		out = slices.Grow(out, chunk)
		k, err := io.ReadFull(r, out[len(out):len(out)+chunk])
		out, got = out[:len(out)+k], got+int64(k)
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				err = ErrShort
			}
			return keep(out), err
		}
	}
	buf = keep(out)
	_, err := decodeInto(out, f)
	return buf, err
}

// keepBuffer is the largest read buffer ReadInto hands back for reuse.
const keepBuffer = 16 << 10

func keep(b []byte) []byte {
	if cap(b) > keepBuffer {
		return nil
	}
	return b[:0]
}

// readChunk is the most Read allocates for a frame before its bytes arrive.
const readChunk = 4 << 10

func checkHeader(h []byte) error {
	if h[0] != magic[0] || h[1] != magic[1] {
		return ErrBadMagic
	}
	if h[2] != Version {
		return fmt.Errorf("%w %d", ErrVersion, h[2])
	}
	if n := binary.BigEndian.Uint32(h[8:]); n > MaxPayload {
		return fmt.Errorf("%w: %d bytes", ErrTooLarge, n)
	}
	return nil
}

// Decode decodes the frame at the start of b and reports how many bytes it
// used. ErrShort means b holds only part of a frame. The fields' values
// alias b: the caller must not reuse b while it uses the frame.
func Decode(b []byte) (*Frame, int, error) {
	f := &Frame{}
	n, err := decodeInto(b, f)
	if err != nil {
		return nil, 0, err
	}
	return f, n, nil
}

// decodeInto is Decode into f, whose fields' array is reused.
func decodeInto(b []byte, f *Frame) (int, error) {
	clear(f.Fields)
	f.Fields = f.Fields[:0]
	if len(b) < headerLen {
		return 0, ErrShort
	}
	if err := checkHeader(b); err != nil {
		return 0, err
	}
	n := int(binary.BigEndian.Uint32(b[8:]))
	total := headerLen + n + trailerLen
	if len(b) < total {
		return 0, ErrShort
	}
	if crc32.ChecksumIEEE(b[:headerLen+n]) != binary.BigEndian.Uint32(b[headerLen+n:]) {
		return 0, ErrChecksum
	}
	f.Type, f.ID = Type(b[3]), binary.BigEndian.Uint32(b[4:])
	p := b[headerLen : headerLen+n]
	for len(p) > 0 {
		if len(p) < 3 {
			return 0, fmt.Errorf("%w: truncated field header", ErrMalformed)
		}
		tag, l := Tag(p[0]), int(binary.BigEndian.Uint16(p[1:]))
		if len(p) < 3+l {
			return 0, fmt.Errorf("%w: field %s wants %d bytes, %d left", ErrMalformed, tag, l, len(p)-3)
		}
		f.Fields = append(f.Fields, Field{Tag: tag, Value: p[3 : 3+l : 3+l]})
		p = p[3+l:]
	}
	return total, nil
}
