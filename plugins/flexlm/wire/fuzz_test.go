package wire

import (
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
