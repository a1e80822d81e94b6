package signing

import (
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestLoadOrCreateKeepsTheKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "signing.key")
	k1, err := LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	k2, err := LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	if !k1.Equal(k2) {
		t.Fatal("second load made a new key")
	}
	sig := ed25519.Sign(k2, []byte("x"))
	if !ed25519.Verify(k1.Public().(ed25519.PublicKey), []byte("x"), sig) {
		t.Fatal("signature does not verify")
	}
	if len(PublicText(k1)) != 43 {
		t.Errorf("public text %q is not 43 base64url characters", PublicText(k1))
	}
}

func TestLoadOrCreateRejectsGarbage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signing.key")
	if err := os.WriteFile(path, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreate(path); !errors.Is(err, ErrBadKey) {
		t.Fatalf("err = %v, want ErrBadKey", err)
	}
}

// Nodes of a cluster started together on one key file all end with the
// same key, and no temporary file is left behind (a shared ".tmp" name
// made one of them fail with "rename ...: no such file or directory").
func TestLoadOrCreateTogether(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "signing.key")
	const n = 16
	keys := make(chan ed25519.PrivateKey, n)
	errs := make(chan error, n)
	start := make(chan struct{})
	for range n {
		go func() {
			<-start
			k, err := LoadOrCreate(path)
			if err != nil {
				errs <- err
				return
			}
			keys <- k
		}()
	}
	close(start)
	var first ed25519.PrivateKey
	for range n {
		select {
		case err := <-errs:
			t.Fatal(err)
		case k := <-keys:
			if first == nil {
				first = k
			} else if !first.Equal(k) {
				t.Fatal("two callers got different keys")
			}
		}
	}
	onDisk, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !onDisk.Equal(first) {
		t.Fatal("the key on disk is not the one the callers got")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("%d files in the key's directory, want 1", len(ents))
	}
}
