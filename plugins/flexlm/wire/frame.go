package wire

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
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
		if len(fl.Value) > maxValue {
			return nil, fmt.Errorf("%w: field %s is %d bytes", ErrTooLarge, fl.Tag, len(fl.Value))
		}
		n += 3 + len(fl.Value)
	}
	if n > MaxPayload {
		return nil, fmt.Errorf("%w: %d bytes", ErrTooLarge, n)
	}
	b := make([]byte, headerLen, headerLen+n+trailerLen)
	b[0], b[1], b[2], b[3] = magic[0], magic[1], Version, byte(f.Type)
	binary.BigEndian.PutUint32(b[4:], f.ID)
	binary.BigEndian.PutUint32(b[8:], uint32(n))
	for _, fl := range f.Fields {
		b = append(b, byte(fl.Tag))
		b = binary.BigEndian.AppendUint16(b, uint16(len(fl.Value)))
		b = append(b, fl.Value...)
	}
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b)), nil
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
	var hdr [headerLen]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, ErrShort
		}
		return nil, err
	}
	if err := checkHeader(hdr[:]); err != nil {
		return nil, err
	}
	rest := int64(binary.BigEndian.Uint32(hdr[8:])) + trailerLen
	// The buffer grows as bytes arrive, never ahead of them: a header
	// that announces a megabyte and a client that sends ten bytes (or
	// hangs up) costs ten bytes, not a megabyte per connection.
	var buf bytes.Buffer
	buf.Grow(headerLen + int(min(rest, readChunk)))
	buf.Write(hdr[:])
	got, err := io.CopyN(&buf, r, rest)
	if got < rest {
		if err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, ErrShort
		}
		return nil, err
	}
	f, _, err := Decode(buf.Bytes())
	return f, err
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
	if len(b) < headerLen {
		return nil, 0, ErrShort
	}
	if err := checkHeader(b); err != nil {
		return nil, 0, err
	}
	n := int(binary.BigEndian.Uint32(b[8:]))
	total := headerLen + n + trailerLen
	if len(b) < total {
		return nil, 0, ErrShort
	}
	if crc32.ChecksumIEEE(b[:headerLen+n]) != binary.BigEndian.Uint32(b[headerLen+n:]) {
		return nil, 0, ErrChecksum
	}
	f := &Frame{Type: Type(b[3]), ID: binary.BigEndian.Uint32(b[4:])}
	p := b[headerLen : headerLen+n]
	for len(p) > 0 {
		if len(p) < 3 {
			return nil, 0, fmt.Errorf("%w: truncated field header", ErrMalformed)
		}
		tag, l := Tag(p[0]), int(binary.BigEndian.Uint16(p[1:]))
		if len(p) < 3+l {
			return nil, 0, fmt.Errorf("%w: field %s wants %d bytes, %d left", ErrMalformed, tag, l, len(p)-3)
		}
		f.Fields = append(f.Fields, Field{Tag: tag, Value: p[3 : 3+l : 3+l]})
		p = p[3+l:]
	}
	return f, total, nil
}
