package admin

import (
	"context"
	"encoding/json"
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

func TestLeasePages(t *testing.T) {
	b := &backend{leases: map[string]bool{}}
	for i := range 1203 {
		b.leases[fmt.Sprintf("L%05d", i)] = true
	}
	srv := httptest.NewServer(Handler(b, hclog.NewNullLogger()))
	t.Cleanup(srv.Close)

	// One page: the default size, in id order, with the next cursor.
	resp, err := http.Get(srv.URL + "/v1/leases")
	if err != nil {
		t.Fatal(err)
	}
	var page []Lease
	err = json.NewDecoder(resp.Body).Decode(&page)
	resp.Body.Close()
	if err != nil || len(page) != DefaultPage || page[0].ID != "L00000" || page[DefaultPage-1].ID != "L00999" {
		t.Fatalf("first page: %d leases, %v", len(page), err)
	}
	if resp.Header.Get(NextCursorHeader) == "" || !strings.Contains(resp.Header.Get("Link"), `rel="next"`) {
		t.Fatalf("first page without a next cursor: %v", resp.Header)
	}

	// The client follows every page, whatever their size.
	for _, size := range []int{0, 50, 1000, MaxPage} {
		all, err := NewClient(srv.URL).Leases(context.Background(), "cad", "", size)
		if err != nil || len(all) != len(b.leases) {
			t.Fatalf("page size %d: %d leases, %v; want %d", size, len(all), err, len(b.leases))
		}
		seen := map[string]bool{}
		for _, l := range all {
			if seen[l.ID] {
				t.Fatalf("page size %d: %s twice", size, l.ID)
			}
			seen[l.ID] = true
		}
	}
	// A lease removed between pages does not shift the next page.
	resp, err = http.Get(srv.URL + "/v1/leases?limit=2")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	delete(b.leases, "L00000")
	delete(b.leases, "L00001")
	resp, err = http.Get(srv.URL + "/v1/leases?limit=2&cursor=" + resp.Header.Get(NextCursorHeader))
	if err != nil {
		t.Fatal(err)
	}
	page = nil
	err = json.NewDecoder(resp.Body).Decode(&page)
	resp.Body.Close()
	if err != nil || len(page) != 2 || page[0].ID != "L00002" {
		t.Fatalf("after removals: %+v, %v", page, err)
	}

	for _, bad := range []string{"limit=0", "limit=10001", "limit=x", "cursor=%21%21", "cursor=" + strings.Repeat("A", 200)} {
		resp, err := http.Get(srv.URL + "/v1/leases?" + bad)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: HTTP %d, want 400", bad, resp.StatusCode)
		}
	}
}
