// Package wire is the codec of licensegw's Sentinel-style UDP protocol
// (docs/sentinel.md, "Wire format"): one binary datagram per request and one
// per answer, each starting with a 12-byte header of magic, version, message
// type and a client-chosen 64-bit request id.
//
// Decoders never panic: anything that is not a well-formed message is an
// error wrapping ErrMalformed. Encoders enforce the protocol's size rules:
// a request is padded to at least MinRequest bytes and no datagram exceeds
// MaxDatagram; an answer never exceeds the limit the server gives
// (three times its request), list answers are cut to fit and say where the
// next page starts.
package wire
