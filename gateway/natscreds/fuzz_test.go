package natscreds

import (
	"bytes"
	"testing"

	"github.com/nats-io/nkeys"
)

// FuzzParse: Parse never panics, and what it accepts as a seed file nats.go
// (nkeys.ParseDecoratedNKey, what nats.NkeyOptionFromSeed and the nats CLI
// use) reads as the same user: a file the gateway accepts works with both.
// The corpus is in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	kp, _ := nkeys.CreateUser()
	seed, _ := kp.Seed()
	f.Add(seed)
	f.Add(append([]byte("# comment\n"), seed...))
	f.Add([]byte("-----BEGIN NATS USER JWT-----\nx\n------END NATS USER JWT------\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			return
		}
		if !nkeys.IsValidPublicUserKey(c.PublicKey) {
			t.Fatalf("accepted public key %q", c.PublicKey)
		}
		theirs, err := nkeys.ParseDecoratedNKey(data)
		if err != nil {
			t.Fatalf("accepted %v that nats.go refuses: %v", c.Kind, err)
		}
		pub, _ := theirs.PublicKey()
		if pub != c.PublicKey {
			t.Fatalf("Parse reads user %s, nats.go %s", c.PublicKey, pub)
		}
		if c.Kind == NKeySeed && bytes.Contains(data, jwtMarker) {
			t.Fatal("a JWT file read as a seed file")
		}
	})
}
