package token

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// LoadOrCreate reads the token in the file at path, or makes one and writes
// it there (mode 0600, atomically) when the file does not exist. A file that
// exists but does not hold a token is an error, never silently replaced:
// whoever uses the token it held should hear about it.
func LoadOrCreate(path string) (tok string, created bool, err error) {
	tok, err = ReadFile(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return tok, false, err
	}
	if tok, err = New(); err != nil {
		return "", false, err
	}
	if err := WriteFile(path, tok); err != nil {
		return "", false, err
	}
	return tok, true, nil
}

// ReadFile reads a token file: one token, white space around it ignored.
func ReadFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read token: %w", err)
	}
	tok, err := Parse(string(b))
	if err != nil {
		return "", fmt.Errorf("token file %s: %w", path, err)
	}
	return tok, nil
}

// WriteFile writes tok to path with mode 0600, atomically, creating the
// directory (0700) when needed.
func WriteFile(path, tok string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("token directory: %w", err)
	}
	tmp := path + ".tmp"
	_ = os.Remove(tmp) // a stale one may have a wider mode, which WriteFile keeps
	if err := os.WriteFile(tmp, []byte(tok+"\n"), 0o600); err != nil {
		return fmt.Errorf("write token: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write token: %w", err)
	}
	return nil
}
