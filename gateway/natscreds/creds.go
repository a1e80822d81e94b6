package natscreds

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"unicode/utf8"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// MaxFileSize bounds a credentials file: a seed file is about 60 bytes and
// a JWT .creds file a few KiB; anything larger is not one.
const MaxFileSize = 64 << 10

// Errors callers branch on; Parse wraps them with what is wrong.
var (
	// ErrNoCredentials: the text holds neither a seed nor a JWT.
	ErrNoCredentials = errors.New("no NATS credentials")
	// ErrMalformed: the text looks like credentials but does not decode
	// (a truncated or altered file, a seed of another kind).
	ErrMalformed = errors.New("malformed NATS credentials")
)

// Kind is the form of a credentials file.
type Kind int

const (
	// NKeySeed is a user nkey seed ("SU..."), with '#' comment lines
	// allowed around it: nats --nkey FILE, nats.NkeyOptionFromSeed.
	NKeySeed Kind = iota + 1
	// JWTCreds is a decorated user JWT and seed (operator mode):
	// nats --creds FILE, nats.UserCredentials.
	JWTCreds
)

func (k Kind) String() string {
	switch k {
	case NKeySeed:
		return "nkey seed"
	case JWTCreds:
		return "JWT credentials"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Credentials are parsed credentials: their kind and the public user key
// they authenticate as (the JWT's subject for JWTCreds).
type Credentials struct {
	Kind      Kind
	PublicKey string // "U..."
}

// jwtMarker starts the JWT block of a decorated .creds file.
var jwtMarker = []byte("-----BEGIN NATS USER JWT-----")

// Parse reads the contents of a credentials file. It accepts only what
// nats.go and the nats CLI read the same way, so a file it accepts works
// with both. Its errors never repeat the file's text: it may be a secret.
func Parse(data []byte) (Credentials, error) {
	if len(data) > MaxFileSize {
		return Credentials{}, fmt.Errorf("%w: %d bytes, more than %d", ErrMalformed, len(data), MaxFileSize)
	}
	if !utf8.Valid(data) {
		return Credentials{}, fmt.Errorf("%w: not UTF-8 text", ErrMalformed)
	}
	if bytes.Contains(data, jwtMarker) {
		return parseJWTCreds(data)
	}
	return parseSeedFile(data)
}

// parseSeedFile accepts one user seed on a line of its own, with blank and
// '#' comment lines around it.
func parseSeedFile(data []byte) (Credentials, error) {
	var seed []byte
	seedLine := 0
	for i, line := range bytes.Split(data, []byte("\n")) {
		trimmed := bytes.TrimSpace(line)
		if len(trimmed) == 0 || trimmed[0] == '#' {
			continue
		}
		if seed != nil {
			return Credentials{}, fmt.Errorf("%w: line %d: a second key after the seed on line %d; a seed file holds one", ErrMalformed, i+1, seedLine)
		}
		if !bytes.HasPrefix(trimmed, []byte("SU")) {
			return Credentials{}, fmt.Errorf("%w: line %d: not a user nkey seed (one starts with \"SU\")", ErrMalformed, i+1)
		}
		// nats.go finds the seed by its trimmed prefix but decodes the
		// line as it is: white space around it would fail there.
		if len(line) != len(trimmed) {
			return Credentials{}, fmt.Errorf("%w: line %d: white space around the seed (nats.go would not read it)", ErrMalformed, i+1)
		}
		seed, seedLine = trimmed, i+1
	}
	if seed == nil {
		return Credentials{}, fmt.Errorf("%w: no seed line (empty file?)", ErrNoCredentials)
	}
	pub, err := userKey(seed)
	if err != nil {
		return Credentials{}, fmt.Errorf("%w: line %d: %w", ErrMalformed, seedLine, err)
	}
	return Credentials{Kind: NKeySeed, PublicKey: pub}, nil
}

// parseJWTCreds checks a decorated .creds file: a user JWT and the seed of
// its subject.
func parseJWTCreds(data []byte) (Credentials, error) {
	token, err := jwt.ParseDecoratedJWT(data)
	if err != nil {
		return Credentials{}, fmt.Errorf("%w: JWT: %w", ErrMalformed, err)
	}
	claims, err := jwt.DecodeUserClaims(token)
	if err != nil {
		return Credentials{}, fmt.Errorf("%w: JWT: %w", ErrMalformed, err)
	}
	kp, err := nkeys.ParseDecoratedUserNKey(data)
	if err != nil {
		return Credentials{}, fmt.Errorf("%w: seed: %w", ErrMalformed, err)
	}
	defer kp.Wipe()
	pub, err := kp.PublicKey()
	if err != nil {
		return Credentials{}, fmt.Errorf("%w: seed: %w", ErrMalformed, err)
	}
	if pub != claims.Subject {
		return Credentials{}, fmt.Errorf("%w: the seed is not the JWT subject's", ErrMalformed)
	}
	return Credentials{Kind: JWTCreds, PublicKey: pub}, nil
}

// userKey decodes a user seed and returns its public key.
func userKey(seed []byte) (string, error) {
	kp, err := nkeys.FromSeed(seed)
	if err != nil {
		return "", fmt.Errorf("seed does not decode (truncated or altered?): %w", err)
	}
	defer kp.Wipe()
	pub, err := kp.PublicKey()
	if err != nil {
		return "", err
	}
	if !nkeys.IsValidPublicUserKey(pub) {
		return "", errors.New("not a user seed")
	}
	return pub, nil
}

// ReadFile reads and parses the credentials file at path.
func ReadFile(path string) (Credentials, error) {
	data, err := readLimited(path)
	if err != nil {
		return Credentials{}, err
	}
	c, err := Parse(data)
	if err != nil {
		return Credentials{}, fmt.Errorf("NATS credentials %s: %w", path, err)
	}
	return c, nil
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("NATS credentials: %w", err)
	}
	defer f.Close()
	data := make([]byte, MaxFileSize+1)
	n, err := readFull(f, data)
	if err != nil {
		return nil, fmt.Errorf("NATS credentials %s: %w", path, err)
	}
	return data[:n], nil
}

// Option checks the credentials file at path and returns the nats.go
// option that authenticates with it. The file is read again at each
// (re)connection, as nats.go does, so a rotated file takes effect then.
func Option(path string) (nats.Option, error) {
	c, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	if c.Kind == JWTCreds {
		return nats.UserCredentials(path), nil
	}
	opt, err := nats.NkeyOptionFromSeed(path)
	if err != nil {
		return nil, fmt.Errorf("NATS credentials %s: %w", path, err)
	}
	return opt, nil
}
