package wire

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"testing"
)

func appendCRC(b []byte) []byte { return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b)) }

// FuzzDecode checks that the decoder never panics and that whatever it
// accepts encodes back to the same bytes.
func FuzzDecode(f *testing.F) {
	for _, fr := range []*Frame{sample(), New(OK, 0), New(StatusEnd, 9).Int(TCount, 3)} {
		b, _ := fr.Encode()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, n, err := Decode(b)
		if err != nil {
			return
		}
		again, err := fr.Encode()
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if !bytes.Equal(again, b[:n]) {
			t.Fatalf("re-encoded frame differs")
		}
	})
}

// FuzzBuilder: a frame built field by field encodes to the bytes of the
// same Frame's Encode, and ReadInto reads it back into a reused frame.
func FuzzBuilder(f *testing.F) {
	f.Add(uint8(Granted), uint32(7), "lease-1", int64(-3), true)
	f.Add(uint8(OK), uint32(0), "", int64(0), false)
	f.Fuzz(func(t *testing.T, typ uint8, id uint32, s string, n int64, v bool) {
		var w Builder
		w.Begin(Type(typ), id).Str(TLease, s).Int(THandle, n).Bool(TBorrowed, v)
		got, err := w.Finish()
		if err != nil {
			t.Fatal(err)
		}
		want, err := New(Type(typ), id).Str(TLease, s).Int(THandle, n).Bool(TBorrowed, v).Encode()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("builder %x, Encode %x", got, want)
		}
		reused := New(Error, 1).Str(TMessage, "old")
		if _, err := ReadInto(bufio.NewReader(bytes.NewReader(got)), reused, make([]byte, 3)); err != nil {
			t.Fatal(err)
		}
		again, _ := reused.Encode()
		if !bytes.Equal(again, want) {
			t.Fatalf("read back %x, want %x", again, want)
		}
	})
}
