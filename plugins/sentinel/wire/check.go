package wire

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// ErrNotText is what Request.Check returns: a string of a request that
// decoded is not valid UTF-8. The datagram is well-formed, so the server
// answers it with status bad-request rather than dropping it.
var ErrNotText = errors.New("wire: string is not UTF-8")

// Check reports a string field of r that is not valid UTF-8 (the wire
// format's strings are UTF-8; the decoder only checks their lengths).
func (r *Request) Check() error {
	for _, f := range [...]struct{ name, s string }{
		{"feature", r.Feature}, {"version", r.Version}, {"user", r.User},
		{"host", r.Host}, {"display", r.Display}, {"handle", r.Handle},
	} {
		if !utf8.ValidString(f.s) {
			return fmt.Errorf("%w: %s", ErrNotText, f.name)
		}
	}
	return nil
}
