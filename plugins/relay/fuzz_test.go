package relay

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/licensegw/licensegw/sdk"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

// fuzzServer is a server over in-memory seats, answering through
// ServeHTTP without sockets.
func fuzzServer(tb testing.TB) (*server, *sdktest.Seats) {
	seats := sdktest.NewSeats(sdktest.Feature{Name: "cad", Seats: 2}, sdktest.Feature{Name: "dev", Seats: 1})
	opts, err := parseOptions(sdk.NewConfig(map[string]any{"pool": "cad", "pools": []string{"dev"}, "rate": 0.0, "signing_secret": "s"}))
	if err != nil {
		tb.Fatal(err)
	}
	s := &server{
		opts: opts, seats: seats, log: hclog.NewNullLogger(), now: time.Now, instance: Name,
		nodes: newNodeTable(), files: map[string]*licencePool{}, allowed: map[string]bool{"cad": true, "dev": true},
		limiter: newIPLimiter(0, 0), meters: newMeters(sdk.NewMetrics()), reported: map[string]bool{},
	}
	return s, seats
}

// FuzzRequest sends arbitrary methods, paths and Relay-Pool headers to the
// handler: every answer has a known status and a JSON body (an "error"
// unless it succeeded), and no pool ever has more seats in use than it
// has, however the requests interleave.
func FuzzRequest(f *testing.F) {
	for _, seed := range []struct{ method, path, pool string }{
		{"PUT", "/v1/nodes/node-1", ""},
		{"PUT", "/v1/nodes/node-1", "dev"},
		{"DELETE", "/v1/nodes/node-1", ""},
		{"GET", "/v1/health", ""},
		{"PUT", "/v1/nodes/a%2Fb", ""},
		{"PUT", "/v1/nodes/%2E%2E", "cad"},
		{"PUT", "/v1/nodes/" + strings.Repeat("x", 200), ""},
		{"PATCH", "/v1/nodes/n", "prod"},
		{"PUT", "/v1/nodes/n/extra", ""},
		{"DELETE", "/v1/nodes/n", "a b"},
	} {
		f.Add(seed.method, seed.path, seed.pool)
	}
	s, seats := fuzzServer(f)
	known := map[int]bool{200: true, 201: true, 202: true, 204: true, 400: true, 403: true, 404: true, 405: true, 409: true, 410: true, 431: true}
	f.Fuzz(func(t *testing.T, method, path, pool string) {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \r\n") {
			path = "/" + strings.NewReplacer(" ", "%20", "\r", "", "\n", "").Replace(path)
		}
		req, err := http.NewRequest(method, "http://relay"+path, nil)
		if err != nil {
			return // not a request a client could send
		}
		req.RequestURI = req.URL.RequestURI()
		req.RemoteAddr = "127.0.0.1:1234"
		if pool != "" {
			req.Header["Relay-Pool"] = []string{pool}
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if !known[w.Code] {
			t.Fatalf("%s %q pool %q: status %d", method, path, pool, w.Code)
		}
		if w.Code >= 400 {
			var e ErrorResponse
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error == "" {
				t.Fatalf("%s %q: %d with body %q", method, path, w.Code, w.Body)
			}
		}
		for _, f := range []string{"cad", "dev"} {
			fss, _ := seats.Status(t.Context(), sdk.StatusQuery{Feature: f, CountsOnly: true})
			if len(fss) == 1 && fss[0].InUse > fss[0].Seats {
				t.Fatalf("%s: %d seats in use of %d", f, fss[0].InUse, fss[0].Seats)
			}
		}
	})
}

// FuzzCheckFingerprint: an accepted fingerprint is one path segment that
// the gateway accepts as a user and, prefixed, as a request key.
func FuzzCheckFingerprint(f *testing.F) {
	for _, s := range []string{"node-1", "..", ".", "a/b", `a\b`, "é", strings.Repeat("f", 129), "6f9d3b2e-1c1a-4f0e-9d7e-3c2b1a0f9e8d", "a b", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, fp string) {
		if checkFingerprint(fp) != nil {
			return
		}
		if len(fp) == 0 || len(fp) > MaxFingerprintLen || strings.ContainsAny(fp, "/\\ ") || fp == "." || fp == ".." {
			t.Fatalf("accepted %q", fp)
		}
		for i := 0; i < len(fp); i++ {
			if fp[i] < 0x21 || fp[i] > 0x7e {
				t.Fatalf("accepted %q with byte %#x", fp, fp[i])
			}
		}
		if len(RequestKeyPrefix+fp) > 160 {
			t.Fatalf("request key of %d bytes", len(RequestKeyPrefix+fp))
		}
	})
}
