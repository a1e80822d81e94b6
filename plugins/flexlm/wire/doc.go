// Package wire is the framed binary protocol of the licensegw flexlm
// plugin, shared by its server and its client library.
//
// A frame is a fixed 12-byte header, a payload of tagged fields and a
// CRC-32 trailer:
//
//	offset  size  field
//	0       2     magic "FX"
//	2       1     protocol version (1)
//	3       1     message type
//	4       4     request id, big-endian (0: unsolicited)
//	8       4     payload length n, big-endian (at most MaxPayload)
//	12      n     fields: tag (1 byte), length (2 bytes, big-endian), value
//	12+n    4     CRC-32 (IEEE) of bytes 0 .. 12+n-1, big-endian
//
// Strings are UTF-8; integers are 8-byte big-endian two's complement. A
// tag may repeat (lists). docs/flexlm.md lists the message types and tags.
package wire
