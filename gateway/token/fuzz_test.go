package token

import (
	"strings"
	"testing"
	"time"
)

// FuzzParse: Parse never panics, accepts only texts of the token shape, and
// what it accepts authenticates against a set holding its hash.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "lgw_", "lgw_" + strings.Repeat("A", 43), " lgw_" + strings.Repeat("_", 43) + "\n", "Bearer lgw_x", "lgw_\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := Parse(s)
		if err != nil {
			return
		}
		if len(tok) != Len || !strings.HasPrefix(tok, Prefix) {
			t.Fatalf("accepted %q", tok)
		}
		set, _ := NewSet(Entry{Name: "x", Scope: Read, Digest: Hash(tok)})
		if e, err := set.Authenticate(s, time.Now()); err != nil || e.Name != "x" {
			t.Fatalf("accepted token does not authenticate: %v", err)
		}
	})
}

// FuzzParseDigest: ParseDigest never panics and what it accepts prints back
// as the same hex, lower-cased.
func FuzzParseDigest(f *testing.F) {
	for _, s := range []string{"", strings.Repeat("a", 64), strings.Repeat("F", 64), "lgw_abc", strings.Repeat("z", 64)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDigest(s)
		if err != nil {
			return
		}
		if d.String() != strings.ToLower(s) {
			t.Fatalf("ParseDigest(%q) prints %q", s, d.String())
		}
	})
}
