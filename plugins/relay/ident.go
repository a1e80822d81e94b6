package relay

import (
	"errors"
	"fmt"
)

// MaxFingerprintLen bounds a node fingerprint in bytes. It is the longest
// user name the gateway accepts, and a fingerprint is the lease's user;
// real fingerprints (machine ids, SHA-256 or HMAC digests in hex, UUIDs)
// are 32 to 64 characters.
const MaxFingerprintLen = 128

// MaxPoolLen bounds a Relay-Pool name, the longest feature name.
const MaxPoolLen = 64

// ErrInvalidFingerprint and ErrInvalidPool are what checkFingerprint and
// checkPoolName wrap.
var (
	ErrInvalidFingerprint = errors.New("invalid fingerprint")
	ErrInvalidPool        = errors.New("invalid pool")
)

// checkFingerprint accepts 1 to MaxFingerprintLen bytes of printable ASCII
// without spaces and without the path characters '/' and '\', and never
// "." or "..": a fingerprint is one path segment, the lease's user and part
// of its request key, so it must be all three.
func checkFingerprint(fp string) error {
	switch {
	case fp == "":
		return fmt.Errorf("%w: empty", ErrInvalidFingerprint)
	case len(fp) > MaxFingerprintLen:
		return fmt.Errorf("%w: longer than %d bytes", ErrInvalidFingerprint, MaxFingerprintLen)
	case fp == "." || fp == "..":
		return fmt.Errorf("%w: %q is a path element", ErrInvalidFingerprint, fp)
	}
	for i := 0; i < len(fp); i++ {
		switch c := fp[i]; {
		case c <= ' ' || c >= 0x7f:
			return fmt.Errorf("%w: only printable ASCII without spaces is allowed", ErrInvalidFingerprint)
		case c == '/' || c == '\\':
			return fmt.Errorf("%w: it contains the path character %q", ErrInvalidFingerprint, c)
		}
	}
	return nil
}

// checkPoolName accepts what the gateway accepts as a feature name:
// 1 to MaxPoolLen letters, digits, '_', '.' and '-'.
func checkPoolName(p string) error {
	if p == "" || len(p) > MaxPoolLen {
		return fmt.Errorf("%w: a pool name has 1 to %d characters", ErrInvalidPool, MaxPoolLen)
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return fmt.Errorf("%w: %q may hold only letters, digits, '_', '.' and '-'", ErrInvalidPool, p)
		}
	}
	return nil
}
