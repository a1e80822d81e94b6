package token

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestNewParses(t *testing.T) {
	a, err := New()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := New()
	if a == b || len(a) != Len || !strings.HasPrefix(a, Prefix) {
		t.Fatalf("tokens %q %q", a, b)
	}
	if got, err := Parse("  " + a + "\n"); err != nil || got != a {
		t.Fatalf("Parse(own token) = %q, %v", got, err)
	}
}

func TestParseRejects(t *testing.T) {
	good, _ := New()
	tests := []struct{ name, in, want string }{
		{"empty", "", "empty"},
		{"blank", " \n", "empty"},
		{"no prefix", "abc_" + good[4:], "starts with"},
		{"truncated", good[:20], "truncated"},
		{"too long", good + "A", "a token has 47"},
		{"not base64url", Prefix + strings.Repeat("+", 43), "not base64url"},
		{"non-canonical tail", Prefix + strings.Repeat("A", 42) + "B", "not base64url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.in)
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse(%q) = %v, want ErrMalformed containing %q", tt.in, err, tt.want)
			}
			if len(tt.in) > 8 && strings.Contains(err.Error(), tt.in) {
				t.Fatalf("error repeats the input: %v", err)
			}
		})
	}
}

func TestParseDigest(t *testing.T) {
	tok, _ := New()
	h := Hash(tok)
	if d, err := ParseDigest(h.String()); err != nil || d != h {
		t.Fatalf("round trip: %v", err)
	}
	if d, err := ParseDigest(strings.ToUpper(h.String())); err != nil || d != h {
		t.Fatalf("upper case: %v", err)
	}
	for in, want := range map[string]string{
		tok:                         "plain text",
		"abc":                       "has 3 characters",
		strings.Repeat("g", 64):     "not hexadecimal",
		h.String()[:63] + " ":       "not hexadecimal",
		h.String() + h.String()[:2]: "has 66",
	} {
		if _, err := ParseDigest(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseDigest(%q) = %v, want %q", in, err, want)
		}
	}
}

func TestSetAuthenticate(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	rd, _ := New()
	wr, _ := New()
	old, _ := New()
	other, _ := New()
	s, err := NewSet(
		Entry{Name: "dash", Scope: Read, Digest: Hash(rd)},
		Entry{Name: "ops", Scope: Write, Digest: Hash(wr), Expires: now.Add(time.Hour)},
		Entry{Name: "old", Scope: Write, Digest: Hash(old), Expires: now},
	)
	if err != nil {
		t.Fatal(err)
	}
	if e, err := s.Authenticate(rd, now); err != nil || e.Name != "dash" || e.Scope != Read {
		t.Fatalf("read token: %+v %v", e, err)
	}
	if e, err := s.Authenticate(wr, now); err != nil || e.Name != "ops" {
		t.Fatalf("write token: %+v %v", e, err)
	}
	for tok, want := range map[string]error{old: ErrExpired, other: ErrUnknown, "Bearer x": ErrMalformed} {
		if _, err := s.Authenticate(tok, now); !errors.Is(err, want) {
			t.Errorf("Authenticate: %v, want %v", err, want)
		}
	}
	if _, err := NewSet(Entry{Name: "a", Digest: Hash(rd)}, Entry{Name: "b", Digest: Hash(rd)}); err == nil {
		t.Fatal("duplicate digests accepted")
	}
}

func TestScopes(t *testing.T) {
	if !Write.Allows(Read) || Read.Allows(Write) || None.Allows(Read) || Write.Allows(None) {
		t.Fatal("scope order")
	}
	for _, n := range Scopes() {
		s, err := ParseScope(n)
		if err != nil || s.String() != n {
			t.Fatalf("scope %q: %v %v", n, s, err)
		}
	}
	if _, err := ParseScope("admin"); err == nil || !strings.Contains(err.Error(), "read or write") {
		t.Fatalf("ParseScope(admin) = %v", err)
	}
}

func TestLoadOrCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "admin.token")
	tok, created, err := LoadOrCreate(path)
	if err != nil || !created {
		t.Fatalf("create: %v %v", created, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode: %v %v", fi.Mode(), err)
	}
	again, created, err := LoadOrCreate(path)
	if err != nil || created || again != tok {
		t.Fatalf("reload: %q %v %v, want %q", again, created, err, tok)
	}
	// A truncated file is an error that names it, and is left alone.
	if err := os.WriteFile(path, []byte(tok[:30]), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err = LoadOrCreate(path)
	if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("truncated: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != tok[:30] {
		t.Fatal("truncated file overwritten")
	}
}
