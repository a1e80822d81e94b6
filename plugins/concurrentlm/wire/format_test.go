package wire

import (
	"testing"
	"time"
)

func TestAppendPair(t *testing.T) {
	tests := []struct{ key, val, want string }{
		{"feature", "cad_pro", " feature=cad_pro"},
		{"message", "no seats left", ` message="no seats left"`},
		{"m", "", ` m=""`},
		{"m", `a"b\c`, ` m="a\"b\\c"`},
		{"m", "a=b", ` m="a=b"`},
		{"m", "two\nlines", ` m="two lines"`},
		{"m", "tab\there", " m=\"tab\there\""},
		{"m", `back\slash`, ` m=back\slash`},
	}
	for _, tt := range tests {
		if got := string(AppendPair(nil, tt.key, tt.val)); got != tt.want {
			t.Errorf("AppendPair(%q, %q) = %s, want %s", tt.key, tt.val, got, tt.want)
		}
	}
}

func TestAppendResponse(t *testing.T) {
	exp := time.Date(2026, 11, 26, 21, 37, 58, 900_000_000, time.FixedZone("CET", 3600))
	b := append([]byte(nil), "GRANTED"...)
	b = AppendPair(b, "lease", "L1")
	b = AppendInt(b, "count", 2)
	b = AppendSeconds(b, "ttl", 120*time.Second+500*time.Millisecond)
	b = AppendTime(b, "expires", exp)
	if got, want := string(b), "GRANTED lease=L1 count=2 ttl=120 expires=2026-11-26T20:37:58Z"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got, want := string(AppendError(nil, CodeBadRequest, "no feature", "7")), `ERR code=bad-request message="no feature" id=7`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestAppendRequestRoundTrip(t *testing.T) {
	var r Request
	r.Verb = Checkout
	r.Set(KeyFeature, "f")
	r.Set(KeyUser, `Ann "the" User`)
	r.Set(KeyHost, "")
	r.Set(KeyID, "x1")
	line := string(AppendRequest(nil, &r))
	if want := `CHECKOUT feature=f user="Ann \"the\" User" host="" id=x1`; line != want {
		t.Fatalf("got %s, want %s", line, want)
	}
	var back Request
	if err := ParseLine(line, &back); err != nil || back != r {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
}
