package signing

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

const pemType = "LICENSEGW ED25519 PRIVATE KEY"

// ErrBadKey: the key file exists but does not hold a key.
var ErrBadKey = errors.New("not a licensegw signing key")

// LoadOrCreate reads the private key at path, or makes one and writes it
// there (mode 0600, written atomically) when the file does not exist.
// Processes that start together on one key file (the nodes of a cluster on
// one host) all end with the same key: the first to link its key into
// place wins and the others read it.
func LoadOrCreate(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return decode(path, b)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read signing key: %w", err)
	}
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate signing key: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("signing key directory: %w", err)
	}
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".*.tmp") // mode 0600
	if err != nil {
		return nil, fmt.Errorf("write signing key: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(pem.EncodeToMemory(&pem.Block{Type: pemType, Bytes: key.Seed()}))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("write signing key: %w", err)
	}
	// A link, unlike a rename, never replaces a key another process has
	// just put there.
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return Load(path)
		}
		return nil, fmt.Errorf("write signing key: %w", err)
	}
	return key, nil
}

func decode(path string, b []byte) (ed25519.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != pemType || len(blk.Bytes) != ed25519.SeedSize {
		return nil, fmt.Errorf("%s: %w", path, ErrBadKey)
	}
	return ed25519.NewKeyFromSeed(blk.Bytes), nil
}

// PublicText is the public key as the protocols show it: base64url without
// padding.
func PublicText(key ed25519.PrivateKey) string {
	return base64.RawURLEncoding.EncodeToString(key.Public().(ed25519.PublicKey))
}

// Load reads the private key at path; unlike LoadOrCreate it never makes
// one.
func Load(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read signing key: %w", err)
	}
	return decode(path, b)
}

// Previous returns the public keys of the earlier keys kept beside path
// after rotations (path.prev, path.prev.*): seals and grants they signed
// still verify. A file that does not hold a key is skipped.
func Previous(path string) []ed25519.PublicKey {
	files, _ := filepath.Glob(path + ".prev*")
	var keys []ed25519.PublicKey
	for _, f := range files {
		if k, err := Load(f); err == nil {
			keys = append(keys, k.Public().(ed25519.PublicKey))
		}
	}
	return keys
}
