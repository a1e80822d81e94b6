package wire

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"
)

func sample() *Frame {
	return New(Checkout, 7).Str(TFeature, "cad_pro").Str(TVersion, "2024.1").Int(TCount, 2).
		Int(TWaitMs, -1).Str(TUser, "alice").Str(TLicenseFile, "a").Str(TLicenseFile, "b").Bool(TUp, true)
}

func TestRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	in := sample()
	if err := Write(&buf, in); err != nil {
		t.Fatal(err)
	}
	if err := Write(&buf, New(OK, 8)); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(&buf)
	out, err := Read(r)
	if err != nil {
		t.Fatal(err)
	}
	if out.Type != Checkout || out.ID != 7 || out.GetStr(TFeature) != "cad_pro" || out.GetInt(TCount) != 2 ||
		out.GetInt(TWaitMs) != -1 || !out.GetBool(TUp) || len(out.GetStrs(TLicenseFile)) != 2 || out.Has(TPort) {
		t.Errorf("decoded %+v", out)
	}
	empty, err := Read(r)
	if err != nil || empty.Type != OK || len(empty.Fields) != 0 {
		t.Errorf("second frame = %v, %v", empty, err)
	}
	if _, err := Read(r); !errors.Is(err, io.EOF) {
		t.Errorf("at end: %v, want io.EOF", err)
	}
}

func TestDecodeErrors(t *testing.T) {
	good, err := sample().Encode()
	if err != nil {
		t.Fatal(err)
	}
	mutate := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"magic", mutate(func(b []byte) []byte { b[0] = 'Z'; return b }), ErrBadMagic},
		{"version", mutate(func(b []byte) []byte { b[2] = 9; return b }), ErrVersion},
		{"checksum", mutate(func(b []byte) []byte { b[len(b)-1] ^= 1; return b }), ErrChecksum},
		{"payload bit", mutate(func(b []byte) []byte { b[14] ^= 0x40; return b }), ErrChecksum},
		{"short", good[:len(good)-1], ErrShort},
		{"header only", good[:5], ErrShort},
		{"too large", mutate(func(b []byte) []byte { b[8] = 0x7f; return b }), ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := Decode(tt.b); !errors.Is(err, tt.want) {
				t.Errorf("Decode = %v, want %v", err, tt.want)
			}
		})
	}
	// A field longer than the payload is malformed even with a valid CRC.
	bad := New(OK, 1)
	bad.Fields = []Field{{Tag: TUser, Value: []byte("abc")}}
	b, _ := bad.Encode()
	b[headerLen+2] = 9 // claim 9 bytes
	b = b[:len(b)-4]
	b = appendCRC(b)
	if _, _, err := Decode(b); !errors.Is(err, ErrMalformed) {
		t.Errorf("overlong field: %v, want ErrMalformed", err)
	}
}

func TestEncodeTooLarge(t *testing.T) {
	f := New(OK, 1)
	f.Fields = []Field{{Tag: TMessage, Value: make([]byte, maxValue+1)}}
	if _, err := f.Encode(); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Encode = %v, want ErrTooLarge", err)
	}
}
