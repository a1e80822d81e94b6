package admin

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/licensegw/licensegw/gateway/events"
)

// MaxBody is the largest request body the API reads.
const MaxBody = 64 << 10

// ErrNotFound: the lease (or other object) named by the request does not
// exist. Backends wrap it; the API answers 404.
var ErrNotFound = errors.New("not found")

// Errors a Client's calls match (errors.Is) when the API refuses the token.
var (
	ErrUnauthorized = errors.New("no valid token")        // 401
	ErrForbidden    = errors.New("token scope too small") // 403
)

// Backend is what the API serves: the gateway node.
type Backend interface {
	Status(ctx context.Context) Status
	// RemoveLease releases lease id on the order of by (who asked; the
	// removed event names them).
	RemoveLease(ctx context.Context, id, by string) error
	Reload(ctx context.Context) error
	// Ready returns nil when the gateway serves requests.
	Ready(ctx context.Context) error
}

// Handler returns the API's HTTP handler.
func Handler(b Backend, log hclog.Logger) http.Handler {
	h := &handler{b: b, log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/status", h.status)
	mux.HandleFunc("GET /v1/features", h.features)
	mux.HandleFunc("GET /v1/leases", h.leases)
	mux.HandleFunc("GET /v1/queues", h.queues)
	mux.HandleFunc("DELETE /v1/leases/{id}", h.removeLease)
	mux.HandleFunc("POST /v1/reload", h.reload)
	mux.HandleFunc("POST /v1/leader/step-down", h.stepDown)
	mux.HandleFunc("GET /healthz", h.healthz)
	mux.HandleFunc("GET /readyz", h.readyz)
	if m, ok := b.(MetricsBackend); ok {
		mux.Handle("GET /metrics", m.MetricsHandler())
	}
	if rb, ok := b.(ReportBackend); ok {
		mux.HandleFunc("GET /v1/reports/{kind}", reportHandler(rb, log))
	}
	if sb, ok := b.(SimulateBackend); ok {
		mux.HandleFunc("POST /v1/simulate", simulateHandler(sb, log))
	}
	if ub, ok := b.(UIBackend); ok {
		h.dashboard(mux, ub)
	}
	return h.guard(mux)
}

// UIBackend is a Backend that also serves the web dashboard under /ui/.
// Its handler serves the page (/ui/ and /ui/assets/, public), the live
// events (/ui/events) and the usage charts (/ui/usage.svg).
type UIBackend interface {
	UIHandler() http.Handler
}

// dashboard routes /ui: the backend's page, events and charts, and the
// dashboard's data under /ui/api/ (the /v1 answers, reached with the
// dashboard's session cookie, which the /v1 API never accepts).
func (h *handler) dashboard(mux *http.ServeMux, ub UIBackend) {
	page := ub.UIHandler()
	for _, p := range []string{"GET /ui/{$}", "GET /ui/assets/", "GET /ui/events", "GET /ui/usage.svg"} {
		mux.Handle(p, page)
	}
	mux.Handle("GET /ui", http.RedirectHandler("/ui/", http.StatusFound))
	mux.HandleFunc("GET /ui/api/status", h.status)
	mux.HandleFunc("DELETE /ui/api/leases/{id}", h.removeLease)
	if rb, ok := h.b.(ReportBackend); ok {
		mux.HandleFunc("GET /ui/api/reports/{kind}", reportHandler(rb, h.log))
	}
}

// MetricsBackend is a Backend that also serves Prometheus metrics, at
// GET /metrics.
type MetricsBackend interface {
	MetricsHandler() http.Handler
}

type handler struct {
	b   Backend
	log hclog.Logger
}

// guard bounds request bodies and turns the mux's plain-text 404 and 405
// answers into JSON ones.
func (h *handler) guard(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > MaxBody {
			writeError(w, http.StatusRequestEntityTooLarge, "request body too large")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
		_, pattern := mux.Handler(r)
		if pattern == "" {
			// No route: tell 405 (path known, method not) from 404.
			probe := r.Clone(r.Context())
			for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
				probe.Method = m
				if _, p := mux.Handler(probe); p != "" {
					writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed on "+r.URL.Path)
					return
				}
			}
			writeError(w, http.StatusNotFound, "no such endpoint: "+r.URL.Path)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func (h *handler) status(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, h.b.Status(r.Context()))
}

func (h *handler) features(w http.ResponseWriter, r *http.Request) {
	st := h.b.Status(r.Context())
	out := make([]Feature, 0, len(st.Features))
	for _, f := range st.Features {
		f.Leases, f.Tickets = nil, nil
		out = append(out, f)
	}
	writeJSON(w, http.StatusOK, out)
}

// Lease pages: GET /v1/leases answers at most limit leases (default
// DefaultPage, at most MaxPage), in lease id order. When more follow, the
// answer carries the cursor of the next page in the NextCursorHeader
// header and a Link rel="next"; the body stays a plain JSON array.
const (
	DefaultPage      = 1000
	MaxPage          = 10000
	NextCursorHeader = "X-Next-Cursor"
)

func (h *handler) leases(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	feature, vendor := q.Get("feature"), q.Get("vendor")
	limit := DefaultPage
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxPage {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("limit is a whole number from 1 to %d", MaxPage))
			return
		}
		limit = n
	}
	after, err := decodeCursor(q.Get("cursor"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad cursor: pass back the "+NextCursorHeader+" of the previous page")
		return
	}
	out := []Lease{}
	for _, f := range h.b.Status(r.Context()).Features {
		if feature != "" && f.Name != feature || vendor != "" && f.Vendor != vendor {
			continue
		}
		for _, l := range f.Leases {
			if l.ID > after {
				out = append(out, l)
			}
		}
	}
	slices.SortFunc(out, func(a, b Lease) int { return strings.Compare(a.ID, b.ID) })
	if len(out) > limit {
		out = out[:limit]
		next := encodeCursor(out[limit-1].ID)
		nq := url.Values{"cursor": {next}, "limit": {strconv.Itoa(limit)}}
		if feature != "" {
			nq.Set("feature", feature)
		}
		if vendor != "" {
			nq.Set("vendor", vendor)
		}
		w.Header().Set(NextCursorHeader, next)
		w.Header().Set("Link", "</v1/leases?"+nq.Encode()+`>; rel="next"`)
	}
	writeJSON(w, http.StatusOK, out)
}

// A cursor is the last lease id of a page, opaque to clients.
func encodeCursor(id string) string { return base64.RawURLEncoding.EncodeToString([]byte(id)) }

func decodeCursor(c string) (string, error) {
	if len(c) > 128 {
		return "", errors.New("cursor too long")
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	return string(b), err
}

func (h *handler) queues(w http.ResponseWriter, r *http.Request) {
	out := []Ticket{}
	for _, f := range h.b.Status(r.Context()).Features {
		out = append(out, f.Tickets...)
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *handler) removeLease(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if id == "" || len(id) > 64 {
		writeError(w, http.StatusBadRequest, "a lease id is 1 to 64 characters")
		return
	}
	err := h.b.RemoveLease(r.Context(), id, removedBy(r))
	switch {
	case err == nil:
		w.WriteHeader(http.StatusNoContent)
	case errors.Is(err, ErrNotFound):
		writeError(w, http.StatusNotFound, err.Error())
	default:
		h.log.Error("remove lease", "lease", id, "error", err)
		writeError(w, http.StatusServiceUnavailable, err.Error())
	}
}

// removedBy names who removes a lease through the API for the removed
// event's by field: the token (set by Auth) and the client's address.
func removedBy(r *http.Request) string {
	name := events.Actor(r.Context())
	if name == "" {
		name = "(none)"
	}
	via := "admin-api"
	if strings.HasPrefix(r.URL.Path, "/ui/") {
		via = "dashboard"
	}
	return "token " + name + " (" + via + ") client " + r.RemoteAddr
}

func (h *handler) reload(w http.ResponseWriter, r *http.Request) {
	if err := h.b.Reload(r.Context()); err != nil {
		// A bad configuration is the caller's to fix: 422 with the
		// diagnostics; the running configuration stays.
		writeError(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"result": "reloaded"})
}

func (h *handler) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (h *handler) readyz(w http.ResponseWriter, r *http.Request) {
	if err := h.b.Ready(r.Context()); err != nil {
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // messages quote "<token>"; nothing here is HTML
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, errorBody{Error: msg})
}

// Server is the API's HTTP server on its own listener.
type Server struct {
	srv *http.Server
	ln  net.Listener
	tls bool
}

// Options say how to serve the API.
type Options struct {
	Addr string // host:port
	// Auth checks every request's token. It is required: an API that
	// removes leases and reloads the configuration is never open.
	Auth *Auth
	// TLS, when set, serves HTTPS (and checks client certificates when it
	// says so).
	TLS *tls.Config
}

// Listen binds o.Addr and serves the API until Shutdown.
func Listen(o Options, b Backend, log hclog.Logger) (*Server, error) {
	if o.Auth == nil {
		return nil, errors.New("admin API: no Auth")
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, err
	}
	if o.TLS != nil {
		ln = tls.NewListener(ln, o.TLS)
	}
	s := &Server{ln: ln, tls: o.TLS != nil, srv: &http.Server{
		Handler:           o.Auth.Wrap(Handler(b, log)),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          log.StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true}),
	}}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("admin API stopped", "error", err)
		}
	}()
	return s, nil
}

// Addr is the address the API listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL is the API's base URL: https:// when it serves TLS.
func (s *Server) URL() string {
	if s.tls {
		return "https://" + s.Addr()
	}
	return "http://" + s.Addr()
}

// Shutdown stops the server gracefully.
func (s *Server) Shutdown(ctx context.Context) error { return s.srv.Shutdown(ctx) }

// Close stops the server at once, ending requests in flight.
func (s *Server) Close() error { return s.srv.Close() }
