package keygenfile

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"
)

// Spec describes a licence file to issue.
type Spec struct {
	ID     string
	Name   string
	Key    string        // the licence key; it also encrypts the file
	Expiry time.Time     // the licence's own expiry; zero: none
	Issued time.Time     // zero: now
	TTL    time.Duration // the file's lifetime from Issued; 0: it does not expire
	Plain  bool          // alg base64+ed25519 instead of encrypting
}

// Issue writes a licence file for s signed with the vendor's key, the way
// Keygen checks a licence out: tests and tools use it to make real files.
func Issue(vendor ed25519.PrivateKey, s Spec) ([]byte, error) {
	issued := s.Issued
	if issued.IsZero() {
		issued = time.Now()
	}
	var d document
	d.Data.ID, d.Data.Type = s.ID, "licenses"
	d.Data.Attributes.Name, d.Data.Attributes.Key = s.Name, s.Key
	if !s.Expiry.IsZero() {
		d.Data.Attributes.Expiry = s.Expiry.UTC().Format(time.RFC3339Nano)
	}
	d.Meta.Issued = issued.UTC().Format(time.RFC3339Nano)
	ttl := int(s.TTL / time.Second)
	d.Meta.TTL = &ttl
	if ttl > 0 {
		d.Meta.Expiry = issued.Add(s.TTL).UTC().Format(time.RFC3339Nano)
	}
	plain, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	c := Certificate{Alg: AlgPlain, Enc: base64.StdEncoding.EncodeToString(plain)}
	if !s.Plain {
		if c.Enc, err = encrypt(s.Key, plain); err != nil {
			return nil, err
		}
		c.Alg = AlgEncrypted
	}
	c.Sig = base64.StdEncoding.EncodeToString(ed25519.Sign(vendor, []byte("license/"+c.Enc)))
	return Armour(c)
}

// Armour encodes an envelope as a licence file, payload lines wrapped at
// 60 characters as Keygen writes them.
func Armour(c Certificate) ([]byte, error) {
	payload, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	b64 := base64.StdEncoding.EncodeToString(payload)
	var b strings.Builder
	b.WriteString(BeginLine + "\n")
	for len(b64) > 60 {
		b.WriteString(b64[:60] + "\n")
		b64 = b64[60:]
	}
	b.WriteString(b64 + "\n" + EndLine + "\n")
	return []byte(b.String()), nil
}

func encrypt(licenseKey string, plain []byte) (string, error) {
	key := sha256.Sum256([]byte(licenseKey))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return "", err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return "", err
	}
	iv := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(iv); err != nil {
		return "", err
	}
	sealed := gcm.Seal(nil, iv, plain, nil)
	ct, tag := sealed[:len(sealed)-gcm.Overhead()], sealed[len(sealed)-gcm.Overhead():]
	enc := base64.StdEncoding
	return enc.EncodeToString(ct) + "." + enc.EncodeToString(iv) + "." + enc.EncodeToString(tag), nil
}
