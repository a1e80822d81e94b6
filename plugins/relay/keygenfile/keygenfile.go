package keygenfile

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The armour lines around a licence file's payload.
const (
	BeginLine = "-----BEGIN LICENSE FILE-----"
	EndLine   = "-----END LICENSE FILE-----"
)

// The algorithms a licence file may name.
const (
	AlgEncrypted = "aes-256-gcm+ed25519"
	AlgPlain     = "base64+ed25519"
)

// MaxFileSize bounds a licence file: real ones are a few kilobytes, so
// anything larger is refused before it is decoded.
const MaxFileSize = 1 << 20

// Errors Open wraps, so callers can say what is wrong with a file.
var (
	ErrFormat    = errors.New("not a licence file")
	ErrAlgorithm = errors.New("unsupported algorithm")
	ErrSignature = errors.New("signature does not verify with the public key")
	ErrKey       = errors.New("the licence key does not decrypt the file")
	ErrMismatch  = errors.New("the file does not belong to the licence key")
	ErrExpired   = errors.New("expired")
	ErrPublicKey = errors.New("invalid public key")
)

// Certificate is a licence file's signed envelope.
type Certificate struct {
	Enc string `json:"enc"`
	Sig string `json:"sig"`
	Alg string `json:"alg"`
}

// License is what a verified and decrypted licence file says.
type License struct {
	ID      string    // the licence's id (data.id)
	Name    string    // data.attributes.name, if any
	Key     string    // data.attributes.key
	Expiry  time.Time // the licence's own expiry; zero: none
	Issued  time.Time // meta.issued
	FileTTL int       // meta.ttl in seconds; 0: the file does not expire
	// FileExpiry is meta.expiry, after which the file must not be used;
	// zero when the file does not expire.
	FileExpiry time.Time
}

// ParsePublicKey decodes a Keygen account's Ed25519 verify key, given in
// hex as Keygen shows it (64 hex digits).
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("%w: not hex: %v", ErrPublicKey, err)
	}
	if len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: %d bytes, an Ed25519 key has %d (%d hex digits)",
			ErrPublicKey, len(b), ed25519.PublicKeySize, 2*ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(b), nil
}

// Decode reads the armour and the envelope of a licence file without
// verifying or decrypting it.
func Decode(data []byte) (*Certificate, error) {
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrFormat, len(data), MaxFileSize)
	}
	text := strings.TrimSpace(strings.ReplaceAll(string(data), "\r\n", "\n"))
	body, ok := strings.CutPrefix(text, BeginLine)
	if !ok {
		return nil, fmt.Errorf("%w: it does not start with %q", ErrFormat, BeginLine)
	}
	body, ok = strings.CutSuffix(body, EndLine)
	if !ok {
		return nil, fmt.Errorf("%w: it does not end with %q", ErrFormat, EndLine)
	}
	payload, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(body), ""))
	if err != nil {
		return nil, fmt.Errorf("%w: payload is not base64: %v", ErrFormat, err)
	}
	var c Certificate
	// Fields beside enc, sig and alg are ignored: the signature covers
	// enc alone, and a later Keygen may add some.
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, fmt.Errorf("%w: payload is not the JSON envelope: %v", ErrFormat, err)
	}
	if c.Enc == "" || c.Sig == "" || c.Alg == "" {
		return nil, fmt.Errorf("%w: the envelope lacks enc, sig or alg", ErrFormat)
	}
	return &c, nil
}

// Verify checks the vendor's signature of "license/" + enc.
func (c *Certificate) Verify(pub ed25519.PublicKey) error {
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("%w: %d bytes", ErrPublicKey, len(pub))
	}
	if c.Alg != AlgEncrypted && c.Alg != AlgPlain {
		return fmt.Errorf("%w %q (want %q or %q)", ErrAlgorithm, c.Alg, AlgEncrypted, AlgPlain)
	}
	sig, err := base64.StdEncoding.DecodeString(c.Sig)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return fmt.Errorf("%w: sig is not a base64 Ed25519 signature", ErrSignature)
	}
	if !ed25519.Verify(pub, []byte("license/"+c.Enc), sig) {
		return ErrSignature
	}
	return nil
}

// Decrypt returns the plaintext document. It does not verify; call Verify
// first (Open does).
func (c *Certificate) Decrypt(licenseKey string) ([]byte, error) {
	switch c.Alg {
	case AlgPlain:
		b, err := base64.StdEncoding.DecodeString(c.Enc)
		if err != nil {
			return nil, fmt.Errorf("%w: enc is not base64", ErrFormat)
		}
		return b, nil
	case AlgEncrypted:
	default:
		return nil, fmt.Errorf("%w %q", ErrAlgorithm, c.Alg)
	}
	parts := strings.Split(c.Enc, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("%w: enc has %d parts, want ciphertext.iv.tag", ErrFormat, len(parts))
	}
	var raw [3][]byte
	for i, p := range parts {
		b, err := base64.StdEncoding.DecodeString(p)
		if err != nil {
			return nil, fmt.Errorf("%w: enc part %d is not base64", ErrFormat, i+1)
		}
		raw[i] = b
	}
	ciphertext, iv, tag := raw[0], raw[1], raw[2]
	if len(iv) == 0 || len(iv) > 64 || len(tag) != 16 {
		return nil, fmt.Errorf("%w: iv of %d bytes, tag of %d (want 16)", ErrFormat, len(iv), len(tag))
	}
	key := sha256.Sum256([]byte(licenseKey))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCMWithNonceSize(block, len(iv))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	plain, err := gcm.Open(nil, iv, append(ciphertext, tag...), nil)
	if err != nil {
		return nil, ErrKey
	}
	return plain, nil
}

// document is the part of the plaintext JSON:API document a licence file
// carries that this package reads.
type document struct {
	Meta struct {
		Issued string `json:"issued"`
		Expiry string `json:"expiry"`
		TTL    *int   `json:"ttl"`
	} `json:"meta"`
	Data struct {
		ID         string `json:"id"`
		Type       string `json:"type"`
		Attributes struct {
			Name   string `json:"name"`
			Key    string `json:"key"`
			Expiry string `json:"expiry"`
		} `json:"attributes"`
	} `json:"data"`
}

// Parse reads a decrypted licence document.
func Parse(plaintext []byte) (*License, error) {
	var d document
	if err := json.Unmarshal(plaintext, &d); err != nil {
		return nil, fmt.Errorf("%w: the decrypted document is not JSON: %v", ErrFormat, err)
	}
	if d.Data.Type != "licenses" && d.Data.Type != "license" {
		return nil, fmt.Errorf("%w: data.type is %q, not licenses", ErrMismatch, d.Data.Type)
	}
	if d.Data.ID == "" {
		return nil, fmt.Errorf("%w: the document has no data.id", ErrFormat)
	}
	l := &License{ID: d.Data.ID, Name: d.Data.Attributes.Name, Key: d.Data.Attributes.Key}
	var err error
	if l.Issued, err = parseTime("meta.issued", d.Meta.Issued); err != nil {
		return nil, err
	}
	if l.FileExpiry, err = parseTime("meta.expiry", d.Meta.Expiry); err != nil {
		return nil, err
	}
	if l.Expiry, err = parseTime("data.attributes.expiry", d.Data.Attributes.Expiry); err != nil {
		return nil, err
	}
	if d.Meta.TTL != nil {
		l.FileTTL = *d.Meta.TTL
		if l.FileTTL == 0 {
			l.FileExpiry = time.Time{} // ttl 0: the file is not checked for expiry
		}
	}
	return l, nil
}

func parseTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s %q is not an RFC 3339 time", ErrFormat, field, s)
	}
	return t, nil
}

// Valid reports whether l may be used at now: ErrExpired when its file or
// the licence itself has expired.
func (l *License) Valid(now time.Time) error {
	if !l.FileExpiry.IsZero() && now.After(l.FileExpiry) {
		return fmt.Errorf("%w: the file expired at %s", ErrExpired, l.FileExpiry.UTC().Format(time.RFC3339))
	}
	if !l.Expiry.IsZero() && now.After(l.Expiry) {
		return fmt.Errorf("%w: the licence expired at %s", ErrExpired, l.Expiry.UTC().Format(time.RFC3339))
	}
	return nil
}

// Open verifies data with pub, decrypts it with licenseKey, parses it and
// checks that it belongs to licenseKey and is valid at now.
func Open(data []byte, licenseKey string, pub ed25519.PublicKey, now time.Time) (*License, error) {
	c, err := Decode(data)
	if err != nil {
		return nil, err
	}
	if err := c.Verify(pub); err != nil {
		return nil, err
	}
	plain, err := c.Decrypt(licenseKey)
	if err != nil {
		return nil, err
	}
	l, err := Parse(plain)
	if err != nil {
		return nil, err
	}
	if l.Key != "" && l.Key != licenseKey {
		return nil, fmt.Errorf("%w: it is licence %s, whose key is not the one given", ErrMismatch, l.ID)
	}
	if err := l.Valid(now); err != nil {
		return l, err
	}
	return l, nil
}
