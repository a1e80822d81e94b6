package wire

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// ErrBadField is what Check returns: the frame decoded (its framing and
// checksum are sound, so the connection can go on) but a field does not
// have its tag's type. The server answers ERROR -4 with the frame's id.
var ErrBadField = errors.New("wire: bad field")

// kind is the type of a tag's value.
type kind uint8

const (
	kindUnknown kind = iota // a tag this version does not know: ignored
	kindStr                 // UTF-8 text
	kindInt                 // exactly 8 bytes
)

// tagKinds is the type column of the field tag table in docs/flexlm.md.
var tagKinds = [...]kind{
	TFeature: kindStr, TVendor: kindStr, TVersion: kindStr, TCount: kindInt, TWaitMs: kindInt,
	TBorrowS: kindInt, TUser: kindStr, THost: kindStr, TDisplay: kindStr, TProject: kindStr,
	THandle: kindInt, TLease: kindStr, TTTLMs: kindInt, TExpires: kindInt, TTicket: kindInt,
	TPosition: kindInt, TReason: kindStr, TMessage: kindStr, TInUse: kindInt, TSeats: kindInt,
	TPort: kindInt, TLicenseFile: kindStr, TUp: kindInt, TStart: kindInt, TQueued: kindInt,
	TKind: kindStr, TName: kindStr, TCode: kindInt, TServerHost: kindStr, TServerVer: kindStr,
	TDescription: kindStr, TReserved: kindInt, TBorrowed: kindInt, TProtocol: kindStr,
	TProgram: kindStr, TRole: kindStr, TStartDate: kindInt, TZoneName: kindStr, TZoneOffset: kindInt,
	TRequestKey: kindStr,
}

func (t Tag) kind() kind {
	if int(t) < len(tagKinds) {
		return tagKinds[t]
	}
	return kindUnknown
}

// IsRequest reports whether t is a request type (below 0x80).
func (t Type) IsRequest() bool { return t < 0x80 }

// Check checks what Decode cannot see without knowing the tags: every
// string field is valid UTF-8, every integer field is exactly 8 bytes
// (a shorter one is not read as 0), and a request's id is not 0 (which
// is reserved for unsolicited frames, so its answer could not be told
// from one). Unknown tags are not checked: receivers ignore them. The
// error wraps ErrBadField.
func (f *Frame) Check() error {
	if f.Type.IsRequest() && f.ID == 0 {
		return fmt.Errorf("%w: request id 0 is reserved for unsolicited frames", ErrBadField)
	}
	for _, fl := range f.Fields {
		switch fl.Tag.kind() {
		case kindStr:
			if !utf8.Valid(fl.Value) {
				return fmt.Errorf("%w: field %s is not valid UTF-8", ErrBadField, fl.Tag)
			}
		case kindInt:
			if len(fl.Value) != 8 {
				return fmt.Errorf("%w: integer field %s has %d bytes, not 8", ErrBadField, fl.Tag, len(fl.Value))
			}
		}
	}
	return nil
}
