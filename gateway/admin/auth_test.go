package admin

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/licensegw/licensegw/gateway/token"
)

// actorBackend records who removed what.
type actorBackend struct {
	backend
	removedBy map[string]string
}

func (b *actorBackend) RemoveLease(ctx context.Context, id, by string) error {
	if err := b.backend.RemoveLease(ctx, id, by); err != nil {
		return err
	}
	b.removedBy[id] = by
	return nil
}

type tokens struct{ read, write, expired, unknown string }

func newTokens(t *testing.T) (tokens, *token.Set) {
	t.Helper()
	var tk tokens
	for _, p := range []*string{&tk.read, &tk.write, &tk.expired, &tk.unknown} {
		var err error
		if *p, err = token.New(); err != nil {
			t.Fatal(err)
		}
	}
	set, err := token.NewSet(
		token.Entry{Name: "dashboard", Scope: token.Read, Digest: token.Hash(tk.read)},
		token.Entry{Name: "ops", Scope: token.Write, Digest: token.Hash(tk.write)},
		token.Entry{Name: "old", Scope: token.Write, Digest: token.Hash(tk.expired), Expires: time.Now().Add(-time.Minute)},
	)
	if err != nil {
		t.Fatal(err)
	}
	return tk, set
}

func listen(t *testing.T, b Backend, set *token.Set, cfg *tls.Config) *Server {
	t.Helper()
	s, err := Listen(Options{Addr: "127.0.0.1:0", Auth: NewAuth(set, nil), TLS: cfg}, b, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	return s
}

// TestAuthOverHTTP drives a real listener: status codes, JSON bodies, the
// challenge header, and the actor reaching the backend.
func TestAuthOverHTTP(t *testing.T) {
	tk, set := newTokens(t)
	b := &actorBackend{backend: backend{leases: map[string]bool{"L1": true, "L2": true}}, removedBy: map[string]string{}}
	s := listen(t, b, set, nil)

	tests := []struct {
		name, method, path, auth string
		code                     int
		contains                 string
	}{
		{"health is public", "GET", "/healthz", "", 200, "ok"},
		{"ready is public", "GET", "/readyz", "", 200, "ready"},
		{"no token", "GET", "/v1/status", "", 401, "a token is required"},
		{"no token, unknown path", "GET", "/nope", "", 401, "a token is required"},
		{"not bearer", "GET", "/v1/status", "Basic dXNlcjpwdw==", 401, "not \\\"Bearer <token>\\\""},
		{"malformed", "GET", "/v1/status", "Bearer lgw_short", 401, "truncated"},
		{"unknown", "GET", "/v1/status", "Bearer " + tk.unknown, 401, "unknown token"},
		{"expired", "GET", "/v1/status", "Bearer " + tk.expired, 401, "token expired"},
		{"read reads", "GET", "/v1/status", "Bearer " + tk.read, 200, "gw-test"},
		{"read cannot remove", "DELETE", "/v1/leases/L1", "Bearer " + tk.read, 403, `token \"dashboard\" has scope read; DELETE /v1/leases/L1 needs write`},
		{"read cannot reload", "POST", "/v1/reload", "Bearer " + tk.read, 403, "needs write"},
		{"write removes", "DELETE", "/v1/leases/L1", "bearer " + tk.write, 204, ""},
		{"write reads", "GET", "/v1/leases", "Bearer " + tk.write, 200, "L2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, s.URL()+tt.path, nil)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body bytes.Buffer
			_, _ = body.ReadFrom(resp.Body)
			if resp.StatusCode != tt.code || !strings.Contains(body.String(), tt.contains) {
				t.Fatalf("%d %s, want %d containing %q", resp.StatusCode, body.String(), tt.code, tt.contains)
			}
			if tt.code == 401 && resp.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
			if tt.code >= 400 {
				var eb errorBody
				if err := json.Unmarshal([]byte(body.String()), &eb); err != nil || eb.Error == "" {
					t.Errorf("error body is not JSON {error}: %q", body.String())
				}
				if strings.Contains(body.String(), "lgw_") {
					t.Errorf("error body repeats a token: %s", body.String())
				}
			}
		})
	}
	if !strings.HasPrefix(b.removedBy["L1"], "token ops (admin-api) client 127.0.0.1:") {
		t.Fatalf("L1 removed by %q, want the token's name", b.removedBy["L1"])
	}

	// The client maps refusals to sentinel errors.
	ctx := context.Background()
	if _, err := NewClient(s.Addr()).Status(ctx); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("client without token: %v", err)
	}
	if err := NewClient(s.Addr(), WithToken(tk.read)).RemoveLease(ctx, "L2"); !errors.Is(err, ErrForbidden) {
		t.Errorf("client with read token removing: %v", err)
	}
	if err := NewClient(s.Addr(), WithToken(tk.write)).RemoveLease(ctx, "L2"); err != nil || !strings.HasPrefix(b.removedBy["L2"], "token ops ") {
		t.Errorf("client with write token: %v, actor %q", err, b.removedBy["L2"])
	}
}

// TestAuthSetTokens: a replaced set takes effect for the next request.
func TestAuthSetTokens(t *testing.T) {
	tk, set := newTokens(t)
	a := NewAuth(set, nil)
	s, err := Listen(Options{Addr: "127.0.0.1:0", Auth: a}, &backend{}, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	c := NewClient(s.Addr(), WithToken(tk.read))
	if _, err := c.Status(context.Background()); err != nil {
		t.Fatal(err)
	}
	empty, _ := token.NewSet()
	a.SetTokens(empty)
	if _, err := c.Status(context.Background()); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("revoked token: %v", err)
	}
}

func TestListenNeedsAuth(t *testing.T) {
	if _, err := Listen(Options{Addr: "127.0.0.1:0"}, &backend{}, hclog.NewNullLogger()); err == nil {
		t.Fatal("an API without Auth was started")
	}
}

// TestTLSClientCertificates: with a client CA, a client without a
// certificate fails the handshake; with one it still needs a token.
func TestTLSClientCertificates(t *testing.T) {
	ca := newCA(t)
	serverCert := ca.issue(t, "127.0.0.1", true)
	clientCert := ca.issue(t, "ops-laptop", false)
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	tk, set := newTokens(t)
	s := listen(t, &backend{}, set, &tls.Config{
		Certificates: []tls.Certificate{serverCert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert,
	})
	if !strings.HasPrefix(s.URL(), "https://") {
		t.Fatalf("URL %s", s.URL())
	}
	ctx := context.Background()
	noCert := NewClient(s.Addr(), WithToken(tk.read), WithTLS(&tls.Config{RootCAs: pool}))
	if _, err := noCert.Status(ctx); err == nil {
		t.Fatal("a client without a certificate was served")
	}
	withCert := &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{clientCert}}
	if _, err := NewClient(s.Addr(), WithTLS(withCert)).Status(ctx); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("certificate without token: %v", err)
	}
	if st, err := NewClient(s.Addr(), WithToken(tk.read), WithTLS(withCert)).Status(ctx); err != nil || st.Gateway != "gw-test" {
		t.Fatalf("certificate and token: %v", err)
	}
}

type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newCA(t *testing.T) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key}
}

func (ca *testCA) issue(t *testing.T, name string, server bool) tls.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP(name)}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func TestNeed(t *testing.T) {
	for _, tt := range []struct {
		method, path string
		want         token.Scope
	}{
		{"GET", "/healthz", token.None},
		{"GET", "/readyz", token.None},
		{"GET", "/v1/status", token.Read},
		{"HEAD", "/v1/leases", token.Read},
		{"GET", "/metrics", token.Read},
		{"POST", "/v1/simulate", token.Read},
		{"POST", "/v1/reload", token.Write},
		{"DELETE", "/v1/leases/x", token.Write},
		{"POST", "/v1/anything-new", token.Write},
		{"PUT", "/v1/status", token.Write},
	} {
		if got := Need(httptest.NewRequest(tt.method, tt.path, nil)); got != tt.want {
			t.Errorf("%s %s needs %s, want %s", tt.method, tt.path, got, tt.want)
		}
	}
}
