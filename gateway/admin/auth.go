package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/token"
)

// Auth decides who may call the API: every request but the public health
// probes (/healthz, /readyz) carries a bearer token (Authorization: Bearer
// lgw_...) from the gateway's token set. GET and HEAD need scope read; every
// other method changes something and needs scope write. The middleware sits
// in front of the whole mux, so a route added later is covered without
// anyone remembering to.
//
// An Auth is safe for concurrent use; SetTokens replaces the set while
// requests are served (reload, rotation).
type Auth struct {
	tokens   atomic.Pointer[token.Set]
	sessions *sessions // the dashboard's (session.go)
	now      func() time.Time
	log      hclog.Logger
	// recheck is how often a long-lived request (the dashboard's live
	// events) has its token or session checked again.
	recheck time.Duration
}

// NewAuth makes an Auth accepting tokens.
func NewAuth(tokens *token.Set, log hclog.Logger) *Auth {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	a := &Auth{sessions: newSessions(), now: time.Now, log: log, recheck: 5 * time.Second}
	a.tokens.Store(tokens)
	return a
}

// SetTokens replaces the accepted tokens.
func (a *Auth) SetTokens(s *token.Set) { a.tokens.Store(s) }

// publicPaths answer without a token: the health probes reveal nothing but
// liveness, and load balancers and process supervisors probe them.
func publicPath(p string) bool { return p == "/healthz" || p == "/readyz" }

// publicAsset: the dashboard's page, script and style are the same for
// everyone and carry no data; the page asks for a token before it shows any.
func publicAsset(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	p := r.URL.Path
	return p == "/ui" || p == "/ui/" || strings.HasPrefix(p, "/ui/assets/")
}

// readOnlyPost: a POST that only computes (its input is too big for a
// query string) and changes nothing: /v1/simulate.
func readOnlyPost(r *http.Request) bool {
	return r.Method == http.MethodPost && r.URL.Path == "/v1/simulate"
}

// Need is the scope a request needs.
func Need(r *http.Request) token.Scope {
	if publicPath(r.URL.Path) || publicAsset(r) {
		return token.None
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead || readOnlyPost(r) {
		return token.Read
	}
	return token.Write
}

// Wrap returns next behind the token check. Refusals are JSON: 401 with a
// WWW-Authenticate challenge when the token is missing, malformed, unknown
// or expired; 403 when its scope is too small, or when a dashboard
// session's write lacks its CSRF token. Wrap also serves the dashboard's
// session endpoints (session.go).
func (a *Auth) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.serveSession(w, r) {
			return
		}
		need := Need(r)
		if need == token.None {
			next.ServeHTTP(w, r)
			return
		}
		e, err := a.authenticate(r, need)
		if errors.Is(err, errCSRF) || errors.Is(err, errOrigin) {
			a.log.Warn("refused: dashboard write", "token", e.Name, "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr, "error", err)
			writeError(w, http.StatusForbidden, err.Error())
			return
		}
		if err != nil {
			a.log.Warn("refused", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr, "error", err)
			w.Header().Set("WWW-Authenticate", `Bearer realm="licensegw"`)
			writeError(w, http.StatusUnauthorized, unauthorized(err))
			return
		}
		if !e.Scope.Allows(need) {
			a.log.Warn("refused: scope", "token", e.Name, "scope", e.Scope, "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr)
			writeError(w, http.StatusForbidden, fmt.Sprintf("token %q has scope %s; %s %s needs %s", e.Name, e.Scope, r.Method, r.URL.Path, need))
			return
		}
		ctx := events.WithActor(r.Context(), e.Name)
		if longLived(r) {
			var cancel context.CancelFunc
			ctx, cancel = context.WithCancel(ctx)
			defer cancel()
			go a.watch(ctx, cancel, r, need)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// longLived: the dashboard's live events stay open for hours.
func longLived(r *http.Request) bool { return r.URL.Path == "/ui/events" }

// watch ends a long-lived request (cancel) as soon as its token or
// session no longer authenticates it: a reload that revokes a token, a
// logout or an expiry closes the live events too, and the page asks for a
// token again.
func (a *Auth) watch(ctx context.Context, cancel context.CancelFunc, r *http.Request, need token.Scope) {
	tick := time.NewTicker(a.recheck)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if _, err := a.authenticate(r, need); err != nil {
				a.log.Info("live events closed", "remote", r.RemoteAddr, "reason", err)
				cancel()
				return
			}
		}
	}
}

var errNoToken = errors.New("no token")

// authenticate finds who sent r: the bearer token when there is an
// Authorization header, else the dashboard session of its cookie.
func (a *Auth) authenticate(r *http.Request, need token.Scope) (token.Entry, error) {
	tok, err := bearer(r)
	if errors.Is(err, errNoToken) {
		return a.fromSession(r, need)
	}
	if err != nil {
		return token.Entry{}, err
	}
	return a.tokens.Load().Authenticate(tok, a.now())
}

// bearer extracts the token of an Authorization: Bearer header.
func bearer(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", errNoToken
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", fmt.Errorf("%w: the Authorization header is not \"Bearer <token>\"", token.ErrMalformed)
	}
	return tok, nil
}

// unauthorized is the 401 message: what is wrong and what to do, never the
// token itself.
func unauthorized(err error) string {
	switch {
	case errors.Is(err, errNoToken):
		return "a token is required: send Authorization: Bearer <token> (the CLI reads LICENSEGW_TOKEN, --token or the gateway's admin.token)"
	case errors.Is(err, token.ErrUnknown):
		return "unknown token"
	case errors.Is(err, errNoSession):
		return err.Error()
	}
	return err.Error()
}
