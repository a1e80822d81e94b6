package token

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Prefix starts every token, so that a token is recognisable in a file or a
// leaked log (and secret scanners can match it).
const Prefix = "lgw_"

// secretBytes is the randomness in a token; encodedLen its base64url length.
const (
	secretBytes = 32
	encodedLen  = 43
)

// Len is the length of a token's text.
const Len = len(Prefix) + encodedLen

// Errors callers branch on.
var (
	// ErrMalformed: the text is not a token at all.
	ErrMalformed = errors.New("malformed token")
	// ErrUnknown: a well-formed token that the gateway does not accept.
	ErrUnknown = errors.New("unknown token")
	// ErrExpired: a token whose expiry has passed.
	ErrExpired = errors.New("token expired")
)

// New makes a new random token.
func New() (string, error) {
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("make token: %w", err)
	}
	return Prefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// Parse checks that s is a token and returns it without surrounding white
// space. Its errors wrap ErrMalformed and say what is wrong without
// repeating the text, which may be a secret.
func Parse(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", fmt.Errorf("%w: empty", ErrMalformed)
	case !strings.HasPrefix(s, Prefix):
		return "", fmt.Errorf("%w: a token starts with %q", ErrMalformed, Prefix)
	case len(s) < Len:
		return "", fmt.Errorf("%w: %d characters, a token has %d (truncated?)", ErrMalformed, len(s), Len)
	case len(s) > Len:
		return "", fmt.Errorf("%w: %d characters, a token has %d", ErrMalformed, len(s), Len)
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s[len(Prefix):])
	if err != nil || len(b) != secretBytes {
		return "", fmt.Errorf("%w: not base64url after %q", ErrMalformed, Prefix)
	}
	return s, nil
}

// Digest is the SHA-256 of a token's text: what a configuration holds.
type Digest [sha256.Size]byte

// Hash returns the digest of the token text tok.
func Hash(tok string) Digest { return sha256.Sum256([]byte(tok)) }

// String is the digest in lowercase hex, as a configuration writes it.
func (d Digest) String() string { return hex.EncodeToString(d[:]) }

// ParseDigest reads a digest written as 64 hex digits. Handed a token
// instead, it says so: plaintext tokens do not belong in a configuration.
func ParseDigest(s string) (Digest, error) {
	var d Digest
	if strings.HasPrefix(s, Prefix) {
		return d, fmt.Errorf("is a token in plain text; write its SHA-256 instead (licensegw token hash)")
	}
	if len(s) != 2*sha256.Size {
		return d, fmt.Errorf("has %d characters; a SHA-256 in hex has 64", len(s))
	}
	if _, err := hex.Decode(d[:], []byte(strings.ToLower(s))); err != nil {
		return d, fmt.Errorf("is not hexadecimal")
	}
	return d, nil
}
