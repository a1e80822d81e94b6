package client

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
	"time"
)

func sign(secret []byte, t int64, body string) string {
	mac := hmac.New(sha256.New, secret)
	fmt.Fprintf(mac, "%d.%s", t, body)
	return fmt.Sprintf("t=%d,v1=%s", t, hex.EncodeToString(mac.Sum(nil)))
}

func TestVerify(t *testing.T) {
	secret := []byte("s3cret")
	now := time.Unix(1_800_000_000, 0)
	good := sign(secret, now.Unix(), `{"a":1}`)
	tests := []struct {
		name, header, body string
		ok                 bool
	}{
		{"good", good, `{"a":1}`, true},
		{"extra field", good + ",v0=abc", `{"a":1}`, true},
		{"other body", good, `{"a":2}`, false},
		{"old", sign(secret, now.Unix()-600, "x"), "x", false},
		{"future", sign(secret, now.Unix()+600, "x"), "x", false},
		{"other secret", sign([]byte("other"), now.Unix(), "x"), "x", false},
		{"missing", "", "x", false},
		{"no v1", "t=1", "x", false},
		{"bad t", "t=x,v1=00", "x", false},
		{"short v1", fmt.Sprintf("t=%d,v1=abcd", now.Unix()), "x", false},
		{"not pairs", "garbage", "x", false},
	}
	for _, tt := range tests {
		err := Verify(secret, tt.header, []byte(tt.body), now, time.Minute)
		if (err == nil) != tt.ok || err != nil && !errors.Is(err, ErrSignature) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}

// FuzzParseSignature: any header parses or fails with ErrSignature, and
// what parses has a 32-byte v1.
func FuzzParseSignature(f *testing.F) {
	f.Add("t=1800000000,v1=" + hex.EncodeToString(make([]byte, 32)))
	f.Add("t=1,v1=zz")
	f.Add("v1=00,t=-1")
	f.Add(",,,")
	f.Add("t=99999999999999999999999,v1=")
	f.Fuzz(func(t *testing.T, h string) {
		ts, v1, err := ParseSignature(h)
		if err != nil {
			if !errors.Is(err, ErrSignature) {
				t.Fatalf("%q: %v", h, err)
			}
			return
		}
		if len(v1) != 32 || ts < 0 {
			t.Fatalf("%q parsed to t=%d v1 of %d bytes", h, ts, len(v1))
		}
	})
}
