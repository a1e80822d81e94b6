package client

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// MaxBody bounds an answer's body: a claim carries one licence file.
const MaxBody = 2 << 20

// Errors callers branch on; an *Error wraps the one its status means.
var (
	ErrNoLicenses = errors.New("no licenses available")  // 410
	ErrNotFound   = errors.New("claim not found")        // 404
	ErrConflict   = errors.New("conflict")               // 409
	ErrBadRequest = errors.New("bad request")            // 400
	ErrSignature  = errors.New("bad response signature") // Relay-Signature does not verify
)

// Error is an error answer.
type Error struct {
	Status  int
	Message string // the body's "error"
}

func (e *Error) Error() string { return fmt.Sprintf("relay: %d %s", e.Status, e.Message) }

// Unwrap maps the status to the package's sentinel errors.
func (e *Error) Unwrap() error {
	switch e.Status {
	case http.StatusGone:
		return ErrNoLicenses
	case http.StatusNotFound:
		return ErrNotFound
	case http.StatusConflict:
		return ErrConflict
	case http.StatusBadRequest:
		return ErrBadRequest
	}
	return nil
}

// Options configure a Client.
type Options struct {
	Pool          string        // the Relay-Pool header; "" sends none
	SigningSecret []byte        // when set, every answer's Relay-Signature must verify
	MaxSkew       time.Duration // accepted age of a signature; default 5 minutes
	HTTP          *http.Client  // default http.DefaultClient
}

// Client talks to one relay server.
type Client struct {
	base string
	opts Options
}

// New returns a client of the server at base, e.g. "http://127.0.0.1:6349".
func New(base string, opts Options) *Client {
	if opts.HTTP == nil {
		opts.HTTP = http.DefaultClient
	}
	if opts.MaxSkew == 0 {
		opts.MaxSkew = 5 * time.Minute
	}
	return &Client{base: strings.TrimSuffix(base, "/"), opts: opts}
}

// Claim is a granted claim.
type Claim struct {
	Created     bool      // 201: a new lease; false: 202, the lease was extended
	LicenseFile []byte    // the licence file's text; nil in a pool of plain seats
	LicenseKey  string    // its licence key
	ExpiresAt   time.Time // when the lease ends unless claimed again
	ExpiresIn   time.Duration
}

type claimJSON struct {
	LicenseFile *string `json:"license_file"`
	LicenseKey  *string `json:"license_key"`
	ExpiresAt   int64   `json:"expires_at"`
	ExpiresIn   int64   `json:"expires_in"`
}

// Claim claims a lease for the node fingerprint, or extends the one it
// holds (the heartbeat).
func (c *Client) Claim(ctx context.Context, fingerprint string) (*Claim, error) {
	status, body, err := c.do(ctx, http.MethodPut, fingerprint)
	if err != nil {
		return nil, err
	}
	if status != http.StatusCreated && status != http.StatusAccepted {
		return nil, errorOf(status, body)
	}
	var j claimJSON
	if err := json.Unmarshal(body, &j); err != nil {
		return nil, fmt.Errorf("relay: claim answer: %w", err)
	}
	cl := &Claim{Created: status == http.StatusCreated, ExpiresAt: time.Unix(j.ExpiresAt, 0), ExpiresIn: time.Duration(j.ExpiresIn) * time.Second}
	if j.LicenseFile != nil {
		if cl.LicenseFile, err = base64.StdEncoding.DecodeString(*j.LicenseFile); err != nil {
			return nil, fmt.Errorf("relay: license_file is not base64: %w", err)
		}
	}
	if j.LicenseKey != nil {
		cl.LicenseKey = *j.LicenseKey
	}
	return cl, nil
}

// Release gives the node's lease back; ErrNotFound when it holds none.
func (c *Client) Release(ctx context.Context, fingerprint string) error {
	status, body, err := c.do(ctx, http.MethodDelete, fingerprint)
	if err != nil {
		return err
	}
	if status != http.StatusNoContent {
		return errorOf(status, body)
	}
	return nil
}

// Health checks GET /v1/health.
func (c *Client) Health(ctx context.Context) error {
	status, body, err := c.send(ctx, http.MethodGet, c.base+"/v1/health")
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return errorOf(status, body)
	}
	return nil
}

func (c *Client) do(ctx context.Context, method, fingerprint string) (int, []byte, error) {
	return c.send(ctx, method, c.base+"/v1/nodes/"+url.PathEscape(fingerprint))
}

func (c *Client) send(ctx context.Context, method, u string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return 0, nil, err
	}
	if c.opts.Pool != "" {
		req.Header.Set("Relay-Pool", c.opts.Pool)
	}
	resp, err := c.opts.HTTP.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	if err != nil {
		return 0, nil, err
	}
	if len(body) > MaxBody {
		return 0, nil, fmt.Errorf("relay: answer larger than %d bytes", MaxBody)
	}
	if len(c.opts.SigningSecret) > 0 {
		if err := Verify(c.opts.SigningSecret, resp.Header.Get("Relay-Signature"), body, time.Now(), c.opts.MaxSkew); err != nil {
			return 0, nil, err
		}
	}
	return resp.StatusCode, body, nil
}

func errorOf(status int, body []byte) error {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error == "" {
		e.Error = strings.TrimSpace(string(bytes.ToValidUTF8(body, nil)))
	}
	return &Error{Status: status, Message: e.Error}
}

// ParseSignature reads a Relay-Signature header: "t=<unix>,v1=<hex>".
// Unknown fields are ignored, so a later scheme may be added beside v1.
func ParseSignature(h string) (t int64, v1 []byte, err error) {
	var haveT bool
	for _, part := range strings.Split(h, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return 0, nil, fmt.Errorf("%w: %q is not key=value", ErrSignature, part)
		}
		switch k {
		case "t":
			if t, err = strconv.ParseInt(v, 10, 64); err != nil || t < 0 {
				return 0, nil, fmt.Errorf("%w: t=%q is not a unix time", ErrSignature, v)
			}
			haveT = true
		case "v1":
			if v1, err = hex.DecodeString(v); err != nil || len(v1) != sha256.Size {
				return 0, nil, fmt.Errorf("%w: v1 is not a hex SHA-256 HMAC", ErrSignature)
			}
		}
	}
	if !haveT || v1 == nil {
		return 0, nil, fmt.Errorf("%w: %q lacks t or v1", ErrSignature, h)
	}
	return t, v1, nil
}

// Verify checks a Relay-Signature header against body: the HMAC-SHA256
// of "<t>.<body>" keyed with secret, t within maxSkew of now.
func Verify(secret []byte, header string, body []byte, now time.Time, maxSkew time.Duration) error {
	t, v1, err := ParseSignature(header)
	if err != nil {
		return err
	}
	if d := now.Sub(time.Unix(t, 0)); d > maxSkew || d < -maxSkew {
		return fmt.Errorf("%w: signed at %d, %v from now", ErrSignature, t, d.Round(time.Second))
	}
	mac := hmac.New(sha256.New, secret)
	fmt.Fprintf(mac, "%d.", t)
	mac.Write(body)
	if !hmac.Equal(mac.Sum(nil), v1) {
		return fmt.Errorf("%w: the HMAC does not match", ErrSignature)
	}
	return nil
}
