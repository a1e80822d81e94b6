package keygenfile

import (
	"crypto/ed25519"
	"errors"
	"testing"
	"time"
)

// fuzzVendor is a fixed vendor key so that seeds issued with it verify
// and the fuzzer can reach decryption and parsing.
var fuzzVendor = ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))

// FuzzOpen feeds arbitrary files and keys through every step: nothing may
// panic, and every failure wraps one of the package's sentinel errors.
func FuzzOpen(f *testing.F) {
	good, err := Issue(fuzzVendor, Spec{ID: "lic-1", Key: "K-1", Issued: now, TTL: time.Hour})
	if err != nil {
		f.Fatal(err)
	}
	plain, _ := Issue(fuzzVendor, Spec{ID: "lic-2", Key: "K-2", Issued: now, Plain: true})
	f.Add(good, "K-1")
	f.Add(good, "K-2")
	f.Add(plain, "K-2")
	f.Add([]byte(BeginLine+"\neyJlbmMiOiJhIiwic2lnIjoiYiIsImFsZyI6ImMifQ==\n"+EndLine), "k")
	f.Add([]byte("garbage"), "")
	pub := fuzzVendor.Public().(ed25519.PublicKey)
	f.Fuzz(func(t *testing.T, data []byte, key string) {
		l, err := Open(data, key, pub, now)
		if err == nil {
			if l == nil || l.ID == "" {
				t.Fatalf("Open succeeded without a licence id: %+v", l)
			}
			return
		}
		for _, sentinel := range []error{ErrFormat, ErrAlgorithm, ErrSignature, ErrKey, ErrMismatch, ErrExpired} {
			if errors.Is(err, sentinel) {
				return
			}
		}
		t.Fatalf("Open: %v wraps no sentinel error", err)
	})
}

// FuzzParse feeds arbitrary decrypted documents to Parse.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"data":{"id":"a","type":"licenses","attributes":{"key":"k","expiry":null}},"meta":{"issued":"2026-11-29T00:00:00.000Z","expiry":"2026-12-29T00:00:00.000Z","ttl":2592000}}`))
	f.Add([]byte(`{"data":{"id":"a","type":"machines"}}`))
	f.Add([]byte(`{"data":{"id":"","type":"licenses"},"meta":{"issued":"yesterday"}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		l, err := Parse(doc)
		if err == nil && (l == nil || l.ID == "") {
			t.Fatalf("Parse succeeded without an id: %+v", l)
		}
	})
}
