package relay

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// ClaimResponse is the body of a 201 or 202 answer to a claim. In a pool of
// plain seats LicenseFile and LicenseKey are null.
type ClaimResponse struct {
	LicenseFile *string `json:"license_file"` // the licence file's text, base64
	LicenseKey  *string `json:"license_key"`
	ExpiresAt   int64   `json:"expires_at"` // unix seconds
	ExpiresIn   int64   `json:"expires_in"` // the lease TTL in seconds
}

// ErrorResponse is the body of every error answer.
type ErrorResponse struct {
	Error string `json:"error"`
}

func claimBody(l *licence, expires time.Time, ttl time.Duration) []byte {
	r := ClaimResponse{ExpiresAt: expires.Unix(), ExpiresIn: int64(ttl / time.Second)}
	if l != nil {
		r.LicenseFile, r.LicenseKey = &l.fileB64, &l.key
	}
	b, _ := json.Marshal(r) // cannot fail: strings and integers
	return b
}

func (s *server) fail(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(ErrorResponse{Error: msg})
	s.respond(w, status, b)
}

// respond writes status and body, with Relay-Clock and, when a signing
// secret is configured, Relay-Signature over "<t>.<body>".
func (s *server) respond(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	if body != nil {
		h.Set("Content-Type", "application/json")
		body = append(body, '\n')
	}
	t := strconv.FormatInt(s.now().Unix(), 10)
	h.Set(ClockHeader, t)
	if len(s.opts.signingSecret) > 0 {
		h.Set(SignatureHeader, Signature(s.opts.signingSecret, t, body))
	}
	s.meters.answered(status)
	w.WriteHeader(status)
	w.Write(body)
}

// Signature is the Relay-Signature value for a body sent at unix time t:
// "t=<t>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with secret>".
func Signature(secret []byte, t string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(t))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "t=" + t + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}
