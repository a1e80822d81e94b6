package admin

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/licensegw/licensegw/gateway/token"
)

// Dashboard sessions. A browser cannot put a bearer token on an
// EventSource or an <img>, and a token kept in page script is a token any
// injected script can steal. So the dashboard trades a token for a session
// once: the user pastes the token into the login form, POST /ui/login
// checks it and sets an HttpOnly, SameSite=Strict cookie naming a session
// bound to that token (its digest, name and scope). Auth accepts the cookie
// only under /ui/ (the dashboard's own data, live events and charts), never
// for the /v1 API, and a request that changes something (removing a lease)
// must also carry the session's CSRF token in the CSRFHeader header, which
// only the page's own script can read (GET /ui/session).
const (
	// SessionCookie names the dashboard's session cookie.
	SessionCookie = "licensegw_session"
	// CSRFHeader carries a session's CSRF token on requests that change
	// something.
	CSRFHeader = "X-CSRF-Token"

	// The session endpoints Auth serves itself.
	LoginPath   = "/ui/login"
	LogoutPath  = "/ui/logout"
	SessionPath = "/ui/session"

	// SessionTTL is how long a session lasts (never past its token's
	// expiry); the user logs in again after it.
	SessionTTL = 12 * time.Hour
	// MaxSessions bounds the sessions kept; opening one more closes the
	// oldest.
	MaxSessions = 1000

	maxLoginBody = 4 << 10
)

// Errors of a session check; Auth answers them with 401 or 403.
var (
	errNoSession = errors.New("no dashboard session (log in at /ui/)")
	errCSRF      = errors.New("missing or wrong " + CSRFHeader + " header")
	errOrigin    = errors.New("cross-origin request refused")
)

// session is one logged-in dashboard.
type session struct {
	digest  token.Digest // of the token it was opened with
	name    string
	scope   token.Scope
	csrf    string
	opened  time.Time
	expires time.Time
}

// sessions is the set of open sessions, keyed by the SHA-256 of the
// cookie's value (the value itself is never kept).
type sessions struct {
	mu   sync.Mutex
	byID map[token.Digest]*session
}

func newSessions() *sessions { return &sessions{byID: map[token.Digest]*session{}} }

// randomText is n random bytes in base64url.
func randomText(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("session: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func sessionKey(id string) token.Digest { return sha256.Sum256([]byte(id)) }

// open starts a session for e; it returns the cookie's value.
func (s *sessions) open(e token.Entry, now time.Time) (string, session, error) {
	id, err := randomText(32)
	if err != nil {
		return "", session{}, err
	}
	csrf, err := randomText(32)
	if err != nil {
		return "", session{}, err
	}
	ss := &session{digest: e.Digest, name: e.Name, scope: e.Scope, csrf: csrf, opened: now, expires: now.Add(SessionTTL)}
	if !e.Expires.IsZero() && e.Expires.Before(ss.expires) {
		ss.expires = e.Expires
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked(now)
	s.byID[sessionKey(id)] = ss
	return id, *ss, nil
}

// pruneLocked drops expired sessions and, when the set is still full, the
// oldest one.
func (s *sessions) pruneLocked(now time.Time) {
	if len(s.byID) < MaxSessions {
		return
	}
	var oldest token.Digest
	var first time.Time
	for k, v := range s.byID {
		if !now.Before(v.expires) {
			delete(s.byID, k)
			continue
		}
		if first.IsZero() || v.opened.Before(first) {
			oldest, first = k, v.opened
		}
	}
	if len(s.byID) >= MaxSessions {
		delete(s.byID, oldest)
	}
}

// get returns the live session of a cookie's value.
func (s *sessions) get(id string, now time.Time) (session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := sessionKey(id)
	ss, ok := s.byID[k]
	if !ok {
		return session{}, false
	}
	if !now.Before(ss.expires) {
		delete(s.byID, k)
		return session{}, false
	}
	return *ss, true
}

func (s *sessions) close(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byID, sessionKey(id))
}

// sessionPath: the paths a session cookie is good for.
func sessionPath(p string) bool { return strings.HasPrefix(p, "/ui/") }

// fromSession authenticates r by its session cookie: the session must be
// open, its token still in the set with the same name and scope, and a
// request needing write scope must come from the same origin with the
// session's CSRF token.
func (a *Auth) fromSession(r *http.Request, need token.Scope) (token.Entry, error) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || !sessionPath(r.URL.Path) {
		return token.Entry{}, errNoToken
	}
	now := a.now()
	ss, ok := a.sessions.get(c.Value, now)
	if !ok {
		return token.Entry{}, errNoSession
	}
	e, err := a.tokens.Load().Lookup(ss.digest, now)
	if err != nil || e.Name != ss.name || e.Scope != ss.scope {
		// The token was removed, renamed or rescoped by a reload.
		a.sessions.close(c.Value)
		return token.Entry{}, errNoSession
	}
	if need == token.Write {
		if !sameOrigin(r) {
			return e, errOrigin
		}
		got := r.Header.Get(CSRFHeader)
		if subtle.ConstantTimeCompare([]byte(got), []byte(ss.csrf)) != 1 {
			return e, errCSRF
		}
	}
	return e, nil
}

// sameOrigin: a request without an Origin header (not sent by every
// browser on same-origin requests) passes; one with an Origin must name
// the host the request was sent to.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

// sessionInfo is what the login and session endpoints answer.
type sessionInfo struct {
	Name    string    `json:"name"`
	Scope   string    `json:"scope"`
	CSRF    string    `json:"csrf"`
	Expires time.Time `json:"expires"`
}

func infoOf(ss session) sessionInfo {
	return sessionInfo{Name: ss.name, Scope: ss.scope.String(), CSRF: ss.csrf, Expires: ss.expires.UTC()}
}

// serveSession answers the session endpoints; it reports false for any
// other path.
func (a *Auth) serveSession(w http.ResponseWriter, r *http.Request) bool {
	switch r.URL.Path {
	case LoginPath:
		a.login(w, r)
	case LogoutPath:
		a.logout(w, r)
	case SessionPath:
		a.current(w, r)
	default:
		return false
	}
	return true
}

// login trades a token for a session: POST {"token": "lgw_..."} as JSON.
// Requiring a JSON body means a cross-site form cannot post it, and a
// cross-site script cannot without a CORS preflight the API never grants.
func (a *Auth) login(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed on "+r.URL.Path+"; POST {\"token\": ...}")
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "POST "+LoginPath+" takes a JSON body {\"token\": \"<token>\"}")
		return
	}
	if !sameOrigin(r) {
		writeError(w, http.StatusForbidden, errOrigin.Error())
		return
	}
	var body struct {
		Token string `json:"token"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxLoginBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, "the body is not {\"token\": \"<token>\"} (at most 4 KiB of JSON)")
		return
	}
	now := a.now()
	e, err := a.tokens.Load().Authenticate(body.Token, now)
	if err != nil {
		a.log.Warn("dashboard login refused", "remote", r.RemoteAddr, "error", err)
		writeError(w, http.StatusUnauthorized, unauthorized(err))
		return
	}
	id, ss, err := a.sessions.open(e, now)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: id, Path: "/ui/",
		Expires: ss.expires, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode,
	})
	a.log.Info("dashboard session opened", "token", e.Name, "scope", e.Scope, "remote", r.RemoteAddr)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, infoOf(ss))
}

// current answers the session of the request's cookie (with its CSRF
// token, for the page's script), or 401 when there is none.
func (a *Auth) current(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed on "+r.URL.Path)
		return
	}
	if _, err := a.fromSession(r, token.Read); err != nil {
		writeError(w, http.StatusUnauthorized, errNoSession.Error())
		return
	}
	c, _ := r.Cookie(SessionCookie)
	ss, _ := a.sessions.get(c.Value, a.now())
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, infoOf(ss))
}

// logout closes the request's session (POST, with its CSRF token).
func (a *Auth) logout(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed on "+r.URL.Path)
		return
	}
	// Logging out needs no more than read scope, but it changes
	// something: the CSRF check of a write applies.
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		writeError(w, http.StatusUnauthorized, errNoSession.Error())
		return
	}
	ss, ok := a.sessions.get(c.Value, a.now())
	if !ok {
		writeError(w, http.StatusUnauthorized, errNoSession.Error())
		return
	}
	if !sameOrigin(r) || subtle.ConstantTimeCompare([]byte(r.Header.Get(CSRFHeader)), []byte(ss.csrf)) != 1 {
		writeError(w, http.StatusForbidden, errCSRF.Error())
		return
	}
	a.sessions.close(c.Value)
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/ui/", MaxAge: -1, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	w.WriteHeader(http.StatusNoContent)
}
