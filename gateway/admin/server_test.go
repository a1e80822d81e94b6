package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

// backend is a small in-memory gateway: the API layer's own behaviour
// (routing, status codes, JSON errors, limits) is what is under test here;
// the real node behind it is exercised end to end in internal/e2e.
type backend struct {
	leases    map[string]bool
	reloadErr error
	ready     error
}

func (b *backend) Status(context.Context) Status {
	st := Status{Gateway: "gw-test", Version: "x"}
	f := Feature{Vendor: "acme", Name: "cad", Version: "1.0", Seats: 2}
	for id := range b.leases {
		f.Leases = append(f.Leases, Lease{ID: id, Feature: "cad", Vendor: "acme", Count: 1})
		f.InUse++
	}
	st.Features = []Feature{f, {Vendor: "local", Name: "viewer", Version: "1.0", Seats: 5}}
	return st
}

func (b *backend) RemoveLease(_ context.Context, id, _ string) error {
	if !b.leases[id] {
		return fmt.Errorf("lease %s: %w", id, ErrNotFound)
	}
	delete(b.leases, id)
	return nil
}

func (b *backend) Reload(context.Context) error { return b.reloadErr }
func (b *backend) Ready(context.Context) error  { return b.ready }

func serve(t *testing.T, b *backend) *Client {
	t.Helper()
	srv := httptest.NewServer(Handler(b, hclog.NewNullLogger()))
	t.Cleanup(srv.Close)
	return NewClient(srv.URL)
}

func TestClientAgainstHandler(t *testing.T) {
	b := &backend{leases: map[string]bool{"L1": true, "L2": true}}
	c := serve(t, b)
	ctx := context.Background()

	st, err := c.Status(ctx)
	if err != nil || st.Gateway != "gw-test" || len(st.Features) != 2 || st.Features[0].InUse != 2 {
		t.Fatalf("status: %+v, %v", st, err)
	}
	if err := c.RemoveLease(ctx, "L1"); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveLease(ctx, "L1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second removal: %v, want ErrNotFound", err)
	}
	if err := c.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	b.reloadErr = errors.New("config.hcl:3:5: error: Invalid seat count")
	var apiErr *APIError
	if err := c.Reload(ctx); !errors.As(err, &apiErr) || apiErr.Code != http.StatusUnprocessableEntity || !strings.Contains(apiErr.Message, "config.hcl:3:5") {
		t.Fatalf("bad reload: %v", err)
	}
	b.ready = errors.New("not connected to NATS")
	if err := c.Ready(ctx); !errors.As(err, &apiErr) || apiErr.Code != http.StatusServiceUnavailable {
		t.Fatalf("ready: %v", err)
	}
}

func TestHandlerAnswers(t *testing.T) {
	b := &backend{leases: map[string]bool{"L1": true}}
	h := Handler(b, hclog.NewNullLogger())
	tests := []struct {
		method, path, body string
		code               int
		contains           string
	}{
		{"GET", "/v1/features", "", 200, `"name": "viewer"`},
		{"GET", "/v1/leases?feature=cad", "", 200, `"id": "L1"`},
		{"GET", "/v1/leases?feature=viewer", "", 200, "[]"},
		{"GET", "/v1/queues", "", 200, "[]"},
		{"GET", "/healthz", "", 200, `"ok"`},
		{"GET", "/nope", "", 404, `"error": "no such endpoint: /nope"`},
		{"POST", "/v1/status", "", 405, `"error": "method POST not allowed`},
		{"DELETE", "/v1/leases/" + strings.Repeat("x", 65), "", 400, "1 to 64"},
		{"POST", "/v1/reload", strings.Repeat("x", MaxBody+1), 413, "too large"},
		{"DELETE", "/v1/leases/L9", "", 404, "not found"},
		{"DELETE", "/v1/leases/L1", "", 204, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path[:min(len(tt.path), 30)], func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body)))
			if rec.Code != tt.code || !strings.Contains(rec.Body.String(), tt.contains) {
				t.Fatalf("%s %s: %d %s, want %d containing %q", tt.method, tt.path, rec.Code, rec.Body, tt.code, tt.contains)
			}
			if tt.code != 204 && rec.Header().Get("Content-Type") != "application/json" {
				t.Errorf("content type %q", rec.Header().Get("Content-Type"))
			}
		})
	}
}
