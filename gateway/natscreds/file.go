package natscreds

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/nats-io/nkeys"
)

// LoadOrCreate reads the seed file at path, or makes a new user key and
// writes its seed there (mode 0600, atomically) when the file does not
// exist. It returns the public key. A file that exists but does not hold a
// seed is an error, never silently replaced: whoever holds the old seed
// should hear about it. header is written as '#' comment lines above the
// seed (how to use the file).
func LoadOrCreate(path string, header []string) (pub string, created bool, err error) {
	c, err := ReadFile(path)
	switch {
	case err == nil && c.Kind != NKeySeed:
		return "", false, fmt.Errorf("NATS credentials %s: %s, not the nkey seed the gateway writes there", path, c.Kind)
	case err == nil:
		return c.PublicKey, false, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", false, err
	}
	kp, err := nkeys.CreateUser()
	if err != nil {
		return "", false, fmt.Errorf("make NATS user key: %w", err)
	}
	defer kp.Wipe()
	if err := WriteSeed(path, kp, header); err != nil {
		return "", false, err
	}
	pub, err = kp.PublicKey()
	return pub, err == nil, err
}

// WriteSeed writes kp's seed to path with mode 0600, atomically, creating
// the directory (0700) when needed, with header as '#' comment lines.
func WriteSeed(path string, kp nkeys.KeyPair, header []string) error {
	seed, err := kp.Seed()
	if err != nil {
		return fmt.Errorf("NATS user key: %w", err)
	}
	var b []byte
	for _, h := range header {
		b = append(b, "# "+h+"\n"...)
	}
	b = append(append(b, seed...), '\n')
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("NATS credentials directory: %w", err)
	}
	tmp := path + ".tmp"
	_ = os.Remove(tmp) // a stale one may have a wider mode, which WriteFile keeps
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("write NATS credentials: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write NATS credentials: %w", err)
	}
	return nil
}

// readFull reads into buf until it is full or the reader ends.
func readFull(r io.Reader, buf []byte) (int, error) {
	n, err := io.ReadFull(r, buf)
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return n, nil
	}
	return n, err
}
