package wire

import (
	"errors"
	"slices"
	"strings"
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

// FuzzParseMessage: the client-side parser never panics, and a parsed
// message formats back to a line that parses the same.
func FuzzParseMessage(f *testing.F) {
	for _, s := range []string{
		"GRANTED lease=L feature=f count=1 ttl=120 expires=2026-11-26T20:37:58Z id=7",
		`EVENT denied ticket=T reason=timeout message="wait over"`, `ERR code=bad-request message="a \"b\""`,
		"END count=0", "x y z", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		m, err := ParseMessage(line)
		if err != nil || strings.ContainsAny(line, "\n") || strings.ContainsAny(m.Word+m.Sub, "\r") {
			return // words are written raw; a CR in one would be framing
		}
		out := []byte(m.Word)
		if m.Sub != "" {
			out = append(append(out, ' '), m.Sub...)
		}
		for _, p := range m.Pairs {
			out = AppendPair(out, p.Key, p.Value)
		}
		back, err := ParseMessage(string(out))
		if err != nil {
			t.Fatalf("reparse of %q (from %q): %v", out, line, err)
		}
		if back.Word != m.Word || back.Sub != m.Sub || !slices.Equal(back.Pairs, m.Pairs) {
			t.Fatalf("round trip of %q: %q gives %+v, want %+v", line, out, back, m)
		}
	})
}
