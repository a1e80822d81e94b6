package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/licensegw/licensegw/gateway/token"
)

// uiBackend is a backend with a dashboard: its page answers "page" and its
// events "events".
type uiBackend struct{ actorBackend }

func (b *uiBackend) UIHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "page "+r.URL.Path)
		if r.URL.Query().Has("hold") { // a live stream: open until ended
			http.NewResponseController(w).Flush()
			<-r.Context().Done()
		}
	})
}

// call sends one request with an optional cookie and headers and returns
// the status and body.
func call(t *testing.T, method, url, cookie string, hdr map[string]string, body string) (int, string, *http.Response) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: SessionCookie, Value: cookie})
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp
}

// loginAs opens a dashboard session with tok and returns the cookie's
// value and the session's CSRF token.
func loginAs(t *testing.T, base, tok string) (cookie, csrf string) {
	t.Helper()
	code, body, resp := call(t, "POST", base+LoginPath, "", map[string]string{"Content-Type": "application/json"}, `{"token":"`+tok+`"}`)
	if code != 200 {
		t.Fatalf("login: %d %s", code, body)
	}
	var c *http.Cookie
	for _, k := range resp.Cookies() {
		if k.Name == SessionCookie {
			c = k
		}
	}
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/ui/" || c.Secure {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/ui/, not Secure over plain HTTP", c)
	}
	var info sessionInfo
	if err := json.Unmarshal([]byte(body), &info); err != nil || info.CSRF == "" || strings.Contains(body, c.Value) {
		t.Fatalf("login answer %s (%v): want the CSRF token and never the session id", body, err)
	}
	return c.Value, info.CSRF
}

// TestDashboardSession drives the session endpoints and what a session
// cookie may and may not do, over a real listener.
func TestDashboardSession(t *testing.T) {
	tk, set := newTokens(t)
	b := &uiBackend{actorBackend{backend: backend{leases: map[string]bool{"L1": true, "L2": true}}, removedBy: map[string]string{}}}
	a := NewAuth(set, nil)
	s, err := Listen(Options{Addr: "127.0.0.1:0", Auth: a}, b, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(t.Context()) })
	base := s.URL()
	asJSON := map[string]string{"Content-Type": "application/json"}

	readCookie, readCSRF := loginAs(t, base, tk.read)
	writeCookie, writeCSRF := loginAs(t, base, tk.write)
	tests := []struct {
		name, method, path, cookie string
		hdr                        map[string]string
		body                       string
		code                       int
		contains                   string
	}{
		{"page is public", "GET", "/ui/", "", nil, "", 200, "page /ui/"},
		{"assets are public", "GET", "/ui/assets/app.js", "", nil, "", 200, "page /ui/assets/app.js"},
		{"events need a session", "GET", "/ui/events", "", nil, "", 401, "a token is required"},
		{"charts need a session", "GET", "/ui/usage.svg", "", nil, "", 401, "a token is required"},
		{"data needs a session", "GET", "/ui/api/status", "", nil, "", 401, "a token is required"},
		{"unknown session", "GET", "/ui/api/status", "bogus", nil, "", 401, "no dashboard session"},
		{"session reads data", "GET", "/ui/api/status", readCookie, nil, "", 200, "gw-test"},
		{"session reads events", "GET", "/ui/events", readCookie, nil, "", 200, "page /ui/events"},
		{"session is not a /v1 token", "GET", "/v1/status", writeCookie, nil, "", 401, "a token is required"},
		{"session cannot reload", "POST", "/v1/reload", writeCookie, map[string]string{CSRFHeader: writeCSRF}, "", 401, "a token is required"},
		{"read session cannot remove", "DELETE", "/ui/api/leases/L1", readCookie, map[string]string{CSRFHeader: readCSRF}, "", 403, "needs write"},
		{"write without CSRF", "DELETE", "/ui/api/leases/L1", writeCookie, nil, "", 403, CSRFHeader},
		{"write with another session's CSRF", "DELETE", "/ui/api/leases/L1", writeCookie, map[string]string{CSRFHeader: readCSRF}, "", 403, CSRFHeader},
		{"write from another origin", "DELETE", "/ui/api/leases/L1", writeCookie, map[string]string{CSRFHeader: writeCSRF, "Origin": "http://evil.example"}, "", 403, "cross-origin"},
		{"write removes", "DELETE", "/ui/api/leases/L1", writeCookie, map[string]string{CSRFHeader: writeCSRF}, "", 204, ""},
		{"session answers", "GET", SessionPath, readCookie, nil, "", 200, `"scope": "read"`},
		{"no session", "GET", SessionPath, "", nil, "", 401, "no dashboard session"},
		{"login by GET", "GET", LoginPath, "", nil, "", 405, "POST"},
		{"login as a form", "POST", LoginPath, "", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, "token=" + tk.read, 415, "JSON body"},
		{"login not JSON", "POST", LoginPath, "", asJSON, `{"token":`, 400, "not {"},
		{"login unknown field", "POST", LoginPath, "", asJSON, `{"token":"x","user":"y"}`, 400, "not {"},
		{"login oversized", "POST", LoginPath, "", asJSON, `{"token":"` + strings.Repeat("a", 8<<10) + `"}`, 400, "4 KiB"},
		{"login unknown token", "POST", LoginPath, "", asJSON, `{"token":"` + tk.unknown + `"}`, 401, "unknown token"},
		{"login expired token", "POST", LoginPath, "", asJSON, `{"token":"` + tk.expired + `"}`, 401, "expired"},
		{"login malformed token", "POST", LoginPath, "", asJSON, `{"token":"lgw_x"}`, 401, "malformed"},
		{"login cross-origin", "POST", LoginPath, "", map[string]string{"Content-Type": "application/json", "Origin": "http://evil.example"}, `{"token":"` + tk.read + `"}`, 403, "cross-origin"},
		{"logout without CSRF", "POST", LogoutPath, readCookie, nil, "", 403, CSRFHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body, _ := call(t, tt.method, base+tt.path, tt.cookie, tt.hdr, tt.body)
			if code != tt.code || !strings.Contains(body, tt.contains) {
				t.Fatalf("%d %s, want %d containing %q", code, body, tt.code, tt.contains)
			}
			if code >= 400 {
				var eb errorBody
				if err := jsonUnmarshal(body, &eb); err != nil || eb.Error == "" {
					t.Errorf("error body is not JSON {error}: %q", body)
				}
				if strings.Contains(body, "lgw_") {
					t.Errorf("error body repeats a token: %s", body)
				}
			}
		})
	}
	if by := b.removedBy["L1"]; !strings.HasPrefix(by, "token ops (dashboard) client 127.0.0.1:") {
		t.Errorf("L1 removed by %q, want the session's token and the dashboard", by)
	}

	// Logging out ends the session.
	if code, body, resp := call(t, "POST", base+LogoutPath, readCookie, map[string]string{CSRFHeader: readCSRF}, ""); code != 204 || !bytes.Contains([]byte(resp.Header.Get("Set-Cookie")), []byte("Max-Age=0")) {
		t.Fatalf("logout: %d %s, Set-Cookie %q", code, body, resp.Header.Get("Set-Cookie"))
	}
	if code, _, _ := call(t, "GET", base+"/ui/api/status", readCookie, nil, ""); code != 401 {
		t.Errorf("after logout: %d, want 401", code)
	}

	// A reload that drops or rescopes the token ends its sessions.
	other, err := token.New()
	if err != nil {
		t.Fatal(err)
	}
	rescoped, _ := token.NewSet(token.Entry{Name: "ops", Scope: token.Read, Digest: token.Hash(tk.write)}, token.Entry{Name: "x", Scope: token.Read, Digest: token.Hash(other)})
	a.SetTokens(rescoped)
	if code, _, _ := call(t, "GET", base+"/ui/api/status", writeCookie, nil, ""); code != 401 {
		t.Errorf("session of a rescoped token: %d, want 401", code)
	}
	a.SetTokens(set)
	if code, _, _ := call(t, "GET", base+"/ui/api/status", writeCookie, nil, ""); code != 401 {
		t.Errorf("a closed session came back with the old set: %d, want 401", code)
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// TestSessionExpiry: a session ends after SessionTTL, or at its token's
// expiry when that is sooner.
func TestSessionExpiry(t *testing.T) {
	tk, _ := newTokens(t)
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	soon := now.Add(time.Hour)
	set, err := token.NewSet(
		token.Entry{Name: "long", Scope: token.Read, Digest: token.Hash(tk.read)},
		token.Entry{Name: "short", Scope: token.Read, Digest: token.Hash(tk.write), Expires: soon},
	)
	if err != nil {
		t.Fatal(err)
	}
	a := NewAuth(set, nil)
	a.now = func() time.Time { return now }
	tests := []struct {
		name    string
		tok     string
		at      time.Duration
		wantErr bool
	}{
		{"fresh", tk.read, 0, false},
		{"before TTL", tk.read, SessionTTL - time.Second, false},
		{"at TTL", tk.read, SessionTTL, true},
		{"before the token's expiry", tk.write, 59 * time.Minute, false},
		{"at the token's expiry", tk.write, time.Hour, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := set.Authenticate(tt.tok, now)
			if err != nil {
				t.Fatal(err)
			}
			id, _, err := a.sessions.open(e, now)
			if err != nil {
				t.Fatal(err)
			}
			a.now = func() time.Time { return now.Add(tt.at) }
			defer func() { a.now = func() time.Time { return now } }()
			req, _ := http.NewRequest("GET", "http://x/ui/api/status", nil)
			req.AddCookie(&http.Cookie{Name: SessionCookie, Value: id})
			_, err = a.fromSession(req, token.Read)
			if (err != nil) != tt.wantErr {
				t.Fatalf("after %v: %v, want error %v", tt.at, err, tt.wantErr)
			}
		})
	}
}

// TestSessionsBounded: opening one more than MaxSessions closes the oldest.
func TestSessionsBounded(t *testing.T) {
	s := newSessions()
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	e := token.Entry{Name: "n", Scope: token.Read}
	first, _, err := s.open(e, now)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= MaxSessions; i++ {
		if _, _, err := s.open(e, now.Add(time.Duration(i)*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
	if len(s.byID) != MaxSessions {
		t.Errorf("%d sessions kept, want %d", len(s.byID), MaxSessions)
	}
	if _, ok := s.get(first, now); ok {
		t.Error("the oldest session survived")
	}
}

// TestLiveEventsEndWithTheSession: an open event stream is closed when a
// reload revokes its session's token, or its bearer token.
func TestLiveEventsEndWithTheSession(t *testing.T) {
	tk, set := newTokens(t)
	a := NewAuth(set, nil)
	a.recheck = 20 * time.Millisecond
	b := &uiBackend{actorBackend{backend: backend{}, removedBy: map[string]string{}}}
	s, err := Listen(Options{Addr: "127.0.0.1:0", Auth: a}, b, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Bounded: a stream left open by a failure must not hang the test.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	cookie, _ := loginAs(t, s.URL(), tk.read)

	open := func(auth func(*http.Request)) <-chan error {
		req, _ := http.NewRequest("GET", s.URL()+"/ui/events?hold", nil)
		auth(req)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 {
			t.Fatalf("stream: %d", resp.StatusCode)
		}
		ended := make(chan error, 1)
		go func() {
			defer resp.Body.Close()
			_, err := io.Copy(io.Discard, resp.Body)
			ended <- err
		}()
		return ended
	}
	bySession := open(func(r *http.Request) { r.AddCookie(&http.Cookie{Name: SessionCookie, Value: cookie}) })
	byBearer := open(func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tk.write) })
	select {
	case err := <-bySession:
		t.Fatalf("the stream ended while its session was valid: %v", err)
	case err := <-byBearer:
		t.Fatalf("the stream ended while its token was valid: %v", err)
	case <-time.After(200 * time.Millisecond): // ten rechecks passed
	}
	empty, _ := token.NewSet()
	a.SetTokens(empty)
	for name, ch := range map[string]<-chan error{"session": bySession, "bearer": byBearer} {
		select {
		case <-ch:
		case <-time.After(30 * time.Second):
			t.Fatalf("the %s stream stayed open after its token was revoked", name)
		}
	}
}
