package relay

import (
	"errors"
	"fmt"
	"strings"

	"github.com/licensegw/licensegw/sdk"
)

// MaxFingerprintLen bounds a node fingerprint in bytes: the longest user
// the gateway accepts (sdk.IdentUser), since a fingerprint is the lease's
// user. Real fingerprints (machine ids, SHA-256 or HMAC digests in hex,
// UUIDs) are 32 to 64 characters.
const MaxFingerprintLen = 128

// ErrInvalidFingerprint and ErrInvalidPool are what checkFingerprint and
// checkPoolName wrap.
var (
	ErrInvalidFingerprint = errors.New("invalid fingerprint")
	ErrInvalidPool        = errors.New("invalid pool")
)

// checkFingerprint accepts what is at once one path segment, a user and,
// prefixed with RequestKeyPrefix, a request key by the SDK's identifier
// rules: 1 to MaxFingerprintLen bytes of printable ASCII without spaces,
// without the path characters '/' and '\', and never "." or "..".
func checkFingerprint(fp string) error {
	switch {
	case fp == "":
		return fmt.Errorf("%w: empty", ErrInvalidFingerprint)
	case len(fp) > MaxFingerprintLen:
		return fmt.Errorf("%w: longer than %d bytes", ErrInvalidFingerprint, MaxFingerprintLen)
	case fp == "." || fp == "..":
		return fmt.Errorf("%w: %q is a path element", ErrInvalidFingerprint, fp)
	case strings.ContainsAny(fp, `/\`):
		return fmt.Errorf("%w: it contains a path character ('/' or '\\')", ErrInvalidFingerprint)
	}
	for _, check := range []struct {
		k sdk.Ident
		s string
	}{{sdk.IdentUser, fp}, {sdk.IdentRequestKey, RequestKeyPrefix + fp}} {
		if err := sdk.CheckIdent(check.k, check.s); err != nil {
			return fmt.Errorf("%w: it %s", ErrInvalidFingerprint, reason(err))
		}
	}
	return nil
}

// checkPoolName accepts what the gateway accepts as a feature name:
// 1 to 64 letters, digits, '_', '.' and '-'.
func checkPoolName(p string) error {
	if p == "" {
		return fmt.Errorf("%w: empty", ErrInvalidPool)
	}
	if err := sdk.CheckIdent(sdk.IdentFeature, p); err != nil {
		return fmt.Errorf("%w %q: it %s", ErrInvalidPool, p, reason(err))
	}
	return nil
}

// reason is the rule an identifier broke, without the identifier's name.
func reason(err error) string {
	var ie *sdk.InvalidError
	if errors.As(err, &ie) {
		return ie.Reason
	}
	return err.Error()
}
