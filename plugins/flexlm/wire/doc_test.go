package wire

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"testing"
)

// TestLayoutAsDocumented builds a frame byte by byte from the layout in
// docs/flexlm.md and checks that the codec agrees both ways.
func TestLayoutAsDocumented(t *testing.T) {
	var payload []byte
	field := func(tag byte, v []byte) {
		payload = append(payload, tag)
		payload = binary.BigEndian.AppendUint16(payload, uint16(len(v)))
		payload = append(payload, v...)
	}
	field(11, binary.BigEndian.AppendUint64(nil, 103)) // HANDLE = 103
	field(7, []byte("erin"))                           // USER

	b := []byte{'F', 'X', 1, 0x11} // magic, version, HEARTBEAT
	b = binary.BigEndian.AppendUint32(b, 42)
	b = binary.BigEndian.AppendUint32(b, uint32(len(payload)))
	b = append(b, payload...)
	b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))

	f, n, err := Decode(b)
	if err != nil || n != len(b) {
		t.Fatalf("Decode = %v, %d, %v", f, n, err)
	}
	if f.Type != Heartbeat || f.ID != 42 || f.GetInt(THandle) != 103 || f.GetStr(TUser) != "erin" {
		t.Errorf("decoded %+v", f)
	}
	enc, err := New(Heartbeat, 42).Int(THandle, 103).Str(TUser, "erin").Encode()
	if err != nil || !bytes.Equal(enc, b) {
		t.Errorf("Encode = % x\nwant       % x", enc, b)
	}
}
