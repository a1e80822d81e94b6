package wire

import (
	"errors"
	"testing"
)

// FuzzParseLine: ParseLine never panics, and whatever it accepts formats
// back to a line that parses to the same request.
func FuzzParseLine(f *testing.F) {
	for _, s := range []string{
		"PING", "CHECKOUT feature=f user=u host=h id=1", `CHECKOUT user="a \"b\" \\" host=h`,
		"HEARTBEAT lease=L", "STATUS feature=x x=1 x=2", "x=1", "", "\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		var r Request
		if err := ParseLine(line, &r); err != nil {
			var we *Error
			if !errors.As(err, &we) && !errors.Is(err, ErrEmptyLine) {
				t.Fatalf("ParseLine(%q): untyped error %v", line, err)
			}
			return
		}
		out := AppendRequest(nil, &r)
		var back Request
		if err := ParseLine(string(out), &back); err != nil {
			t.Fatalf("reparse of %q (from %q): %v", out, line, err)
		}
		if back != r {
			t.Fatalf("round trip of %q: %q parses to %+v, want %+v", line, out, back, r)
		}
	})
}
