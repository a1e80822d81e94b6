package wire

import (
	"errors"
	"strings"
	"testing"
)

func TestParseLine(t *testing.T) {
	tests := []struct {
		name string
		line string
		verb Verb
		want map[Key]string
	}{
		{"hello", "HELLO client=cad version=2024.1 proto=1\n", Hello, map[Key]string{KeyClient: "cad", KeyVersion: "2024.1", KeyProto: "1"}},
		{"hello bare", "hello", Hello, nil},
		{"checkout", "CHECKOUT feature=cad_pro user=alice host=ws-01 id=7\r\n", Checkout,
			map[Key]string{KeyFeature: "cad_pro", KeyUser: "alice", KeyHost: "ws-01", KeyID: "7"}},
		{"checkout all keys", `checkout feature=f user=u host=h vendor=acme version=2.0 count=3 display=":0" pid=42 wait=30 bind=conn nonce=n1 pad=xxxx`, Checkout,
			map[Key]string{KeyFeature: "f", KeyUser: "u", KeyHost: "h", KeyVendor: "acme", KeyVersion: "2.0", KeyCount: "3",
				KeyDisplay: ":0", KeyPID: "42", KeyWait: "30", KeyBind: "conn", KeyNonce: "n1", KeyPad: "xxxx"}},
		{"heartbeat mixed case", "HeartBeat lease=L123", Heartbeat, map[Key]string{KeyLease: "L123"}},
		{"checkin", "CHECKIN lease=L123", Checkin, map[Key]string{KeyLease: "L123"}},
		{"cancel", "cancel ticket=T1 id=a.b-c_d", Cancel, map[Key]string{KeyTicket: "T1", KeyID: "a.b-c_d"}},
		{"status", "STATUS feature=cad vendor=acme", Status, map[Key]string{KeyFeature: "cad", KeyVendor: "acme"}},
		{"status empty", "STATUS", Status, nil},
		{"ping", "PING", Ping, nil},
		{"quit", "QUIT\r", Quit, nil},
		{"many spaces", "  PING    id=1   ", Ping, map[Key]string{KeyID: "1"}},
		{"quoted", `CHECKOUT feature=f user="Alice Smith" host=h`, Checkout, map[Key]string{KeyFeature: "f", KeyUser: "Alice Smith", KeyHost: "h"}},
		{"escapes", `CHECKOUT feature=f user="a \"b\" \\c" host=h`, Checkout, map[Key]string{KeyUser: `a "b" \c`}},
		{"empty quoted", `CHECKOUT feature="" user=u host=h`, Checkout, map[Key]string{KeyFeature: ""}},
		{"empty bare", `CHECKOUT feature= user=u`, Checkout, map[Key]string{KeyFeature: ""}},
		{"backslash bare", `CHECKOUT user=dom\alice`, Checkout, map[Key]string{KeyUser: `dom\alice`}},
		{"unknown keys ignored", "PING future=1 other=\"x y\"", Ping, nil},
		{"utf8", "CHECKOUT user=jürgen", Checkout, map[Key]string{KeyUser: "jürgen"}},
		{"id 64", "PING id=" + strings.Repeat("a", 64), Ping, map[Key]string{KeyID: strings.Repeat("a", 64)}},
		{"max line", "PING pad=" + strings.Repeat("x", MaxLine-9), Ping, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Request
			if err := ParseLine(tt.line, &r); err != nil {
				t.Fatalf("ParseLine(%q): %v", tt.line, err)
			}
			if r.Verb != tt.verb {
				t.Errorf("verb = %v, want %v", r.Verb, tt.verb)
			}
			for k, v := range tt.want {
				if got, ok := r.Get(k); !ok || got != v {
					t.Errorf("%v = %q (%v), want %q", k, got, ok, v)
				}
			}
		})
	}
}

func TestParseLineErrors(t *testing.T) {
	tests := []struct {
		name, line, code string
		id               string // the id still available for the ERR
	}{
		{"unknown verb", "FROB x=1 id=9", CodeUnknownVerb, "9"},
		{"duplicate key", "CHECKOUT id=3 feature=a feature=b", CodeBadRequest, "3"},
		{"duplicate unknown key", "PING x=1 x=2", CodeBadRequest, ""},
		{"duplicate past inline set", "PING " + manyKeys(20) + " k5=1", CodeBadRequest, ""},
		{"upper-case key", "PING Feature=x", CodeBadRequest, ""},
		{"bare word", "CHECKOUT feature", CodeBadRequest, ""},
		{"quote in bare", `CHECKOUT user=a"b`, CodeBadRequest, ""},
		{"equals in bare", `CHECKOUT user=a=b`, CodeBadRequest, ""},
		{"unterminated", `CHECKOUT user="abc`, CodeBadRequest, ""},
		{"bad escape", `CHECKOUT user="a\nb"`, CodeBadRequest, ""},
		{"junk after quote", `CHECKOUT user="a"b`, CodeBadRequest, ""},
		{"empty key", `CHECKOUT =x`, CodeBadRequest, ""},
		{"bad id chars", "PING id=a/b", CodeBadRequest, ""},
		{"id too long", "PING id=" + strings.Repeat("a", 65), CodeBadRequest, ""},
		{"empty id", "PING id=", CodeBadRequest, ""},
		{"too long", "PING pad=" + strings.Repeat("x", MaxLine), CodeLineTooLong, ""},
		{"inner LF", "PING\nPING", CodeBadRequest, ""},
		{"not utf8", "PING x=\xff", CodeBadRequest, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Request
			err := ParseLine(tt.line, &r)
			var we *Error
			if !errors.As(err, &we) || we.Code != tt.code {
				t.Fatalf("ParseLine(%q) = %v, want code %s", tt.line, err, tt.code)
			}
			if r.ID() != tt.id {
				t.Errorf("id = %q, want %q", r.ID(), tt.id)
			}
		})
	}
	var r Request
	if err := ParseLine("   \r\n", &r); !errors.Is(err, ErrEmptyLine) {
		t.Errorf("blank line: %v", err)
	}
	if err := ParseLine(strings.Repeat("x", MaxLine+1), &r); !errors.Is(err, ErrLineTooLong) {
		t.Errorf("errors.Is(line-too-long): %v", err)
	}
}

func manyKeys(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(" k")
		b.WriteString(string(rune('a' + i)))
		b.WriteString("=1")
	}
	// k5 is among none of those; add it once so the trailing k5 duplicates.
	b.WriteString(" k5=0")
	return b.String()
}

func TestParseMessage(t *testing.T) {
	m, err := ParseMessage(`EVENT granted ticket=T lease=L feature=f count=1 ttl=120 expires=2026-11-26T20:37:58Z id=4` + "\n")
	if err != nil {
		t.Fatal(err)
	}
	if m.Word != "EVENT" || m.Sub != "granted" || m.Get("lease") != "L" || m.Get("id") != "4" {
		t.Fatalf("got %+v", m)
	}
	if n, ok := m.Int("ttl"); !ok || n != 120 {
		t.Errorf("ttl = %d %v", n, ok)
	}
	if tm, ok := m.Time("expires"); !ok || tm.Unix() != 1795725478 {
		t.Errorf("expires = %v %v", tm, ok)
	}
	m, err = ParseMessage(`err code=bad-request message="no \"feature\""`)
	if err != nil || m.Word != "ERR" || m.Get("message") != `no "feature"` {
		t.Fatalf("got %+v, %v", m, err)
	}
	if _, err := ParseMessage("EVENT a b"); err == nil {
		t.Error("two bare words accepted")
	}
}

func TestParseNumber(t *testing.T) {
	tests := []struct {
		in   string
		max  uint64
		want uint64
		ok   bool
	}{
		{"0", 10, 0, true},
		{"1", 10, 1, true},
		{"10", 10, 10, true},
		{"11", 10, 0, false},
		{"1000000", 1000000, 1000000, true},
		{"1000001", 1000000, 0, false},
		{"18446744073709551615", ^uint64(0), ^uint64(0), true},
		{"18446744073709551616", ^uint64(0), 0, false},
		{"99999999999999999999", ^uint64(0), 0, false},
		{"", 10, 0, false},
		{"+1", 10, 0, false},
		{"-1", 10, 0, false},
		{"0001", 10, 0, false},
		{"00", 10, 0, false},
		{"1e3", 10000, 0, false},
		{" 1", 10, 0, false},
		{"1 ", 10, 0, false},
		{"١", 10, 0, false}, // an Arabic-Indic digit is not a digit here
		{"7", 0, 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseNumber(tt.in, tt.max)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseNumber(%q, %d) = %d, %v; want %d, %v", tt.in, tt.max, got, ok, tt.want, tt.ok)
		}
	}
}
