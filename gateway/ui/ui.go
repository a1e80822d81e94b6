package ui

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/hashicorp/go-hclog"
)

//go:embed static
var static embed.FS

// Message is one journal message for the live page: its subject and JSON.
type Message struct {
	Subject string
	Data    []byte
}

// ErrNoFeature: a chart was asked for a feature the gateway neither has
// nor has any event of.
var ErrNoFeature = errors.New("no such feature")

// Source is what the dashboard reads besides the admin API's JSON.
type Source interface {
	// Subscribe delivers journal messages (accounting events and
	// lifecycle messages) as they are published, until ctx ends.
	Subscribe(ctx context.Context) (<-chan Message, error)
	// Usage is a feature's seats in use over [since, until), the peak of
	// each of n equal buckets, and its seats. It wraps ErrNoFeature when
	// the feature is unknown.
	Usage(ctx context.Context, feature string, since, until time.Time, n int) (peaks []int, seats int, err error)
}

// keepAlive is how often an idle event stream gets a comment, so proxies
// and browsers keep it open.
const keepAlive = 15 * time.Second

// maxQuery bounds a dashboard request's query string.
const maxQuery = 512

// contentPolicy keeps the page to its own origin: no inline script, no
// third-party anything, never framed.
const contentPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// Handler serves the dashboard: the page at /ui/ with its assets under
// /ui/assets/, the live events at /ui/events and the charts at
// /ui/usage.svg. Authentication is the admin API's (the page and assets
// are public; events and charts need a session or token).
func Handler(src Source, log hclog.Logger) http.Handler {
	assets, err := fs.Sub(static, "static/assets")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	index, err := static.ReadFile("static/index.html")
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ui/{$}", func(w http.ResponseWriter, r *http.Request) {
		header(w, "text/html; charset=utf-8")
		_, _ = w.Write(index)
	})
	files := http.StripPrefix("/ui/assets/", http.FileServerFS(assets))
	mux.HandleFunc("GET /ui/assets/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", contentPolicy)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(w, r)
	})
	mux.HandleFunc("GET /ui/events", func(w http.ResponseWriter, r *http.Request) { stream(w, r, src, log) })
	mux.HandleFunc("GET /ui/usage.svg", func(w http.ResponseWriter, r *http.Request) { usage(w, r, src, log) })
	return mux
}

// header sets the content type and the headers every dashboard answer
// carries.
func header(w http.ResponseWriter, contentType string) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Security-Policy", contentPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}

// jsonError answers a JSON error, as the rest of the admin API does.
func jsonError(w http.ResponseWriter, code int, msg string) {
	header(w, "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(struct {
		Error string `json:"error"`
	}{msg})
}

// checkQuery refuses a query string that is too long, malformed, names a
// parameter not in allowed or repeats one.
func checkQuery(r *http.Request, allowed ...string) error {
	if len(r.URL.RawQuery) > maxQuery {
		return fmt.Errorf("query string longer than %d bytes", maxQuery)
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return fmt.Errorf("malformed query string: %w", err)
	}
	for name, vs := range q {
		if !slices.Contains(allowed, name) {
			if len(allowed) == 0 {
				return fmt.Errorf("%s takes no parameters", r.URL.Path)
			}
			return fmt.Errorf("unknown parameter %q (%v)", name, allowed)
		}
		if len(vs) > 1 {
			return fmt.Errorf("parameter %q given more than once", name)
		}
	}
	return nil
}

// stream relays journal messages as server-sent events: "event: message"
// with {"subject": ..., "payload": <the message's JSON>} as data.
func stream(w http.ResponseWriter, r *http.Request, src Source, log hclog.Logger) {
	if err := checkQuery(r); err != nil {
		jsonError(w, http.StatusBadRequest, err.Error())
		return
	}
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // the server's write timeout would end the stream
	msgs, err := src.Subscribe(r.Context())
	if err != nil {
		jsonError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	header(w, "text/event-stream")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": licensegw live events\n\n")
	_ = rc.Flush()
	tick := time.NewTicker(keepAlive)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
			fmt.Fprint(w, ": keep-alive\n\n")
		case m, ok := <-msgs:
			if !ok {
				return
			}
			if !json.Valid(m.Data) {
				// A payload that is not JSON would break the page's
				// parser for every later event; skip it.
				log.Warn("live events: message is not JSON", "subject", m.Subject)
				continue
			}
			subj, _ := json.Marshal(m.Subject)
			fmt.Fprintf(w, "event: message\ndata: {\"subject\":%s,\"payload\":%s}\n\n", subj, m.Data)
		}
		if err := rc.Flush(); err != nil {
			log.Debug("event stream closed", "error", err)
			return
		}
	}
}

// ranges are the chart's spans and bucket counts.
var ranges = map[string]struct {
	span    time.Duration
	buckets int
}{
	"hour": {time.Hour, 60}, "day": {24 * time.Hour, 96}, "week": {7 * 24 * time.Hour, 84},
}

// usage renders a feature's use over the last hour, day or week as SVG.
func usage(w http.ResponseWriter, r *http.Request, src Source, log hclog.Logger) {
	const want = "usage.svg takes feature=NAME (a feature name: letters, digits, '_', '.', '-', at most 64) and range=hour, day or week"
	if err := checkQuery(r, "feature", "range"); err != nil {
		jsonError(w, http.StatusBadRequest, err.Error()+"; "+want)
		return
	}
	q := r.URL.Query()
	feature, span := q.Get("feature"), q.Get("range")
	if span == "" {
		span = "hour"
	}
	rg, ok := ranges[span]
	if !ok || !featureName(feature) {
		jsonError(w, http.StatusBadRequest, want)
		return
	}
	now := time.Now()
	peaks, seats, err := src.Usage(r.Context(), feature, now.Add(-rg.span), now, rg.buckets)
	switch {
	case errors.Is(err, ErrNoFeature):
		jsonError(w, http.StatusNotFound, fmt.Sprintf("no feature %q", feature))
		return
	case err != nil:
		log.Error("usage chart", "feature", feature, "error", err)
		jsonError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	header(w, "image/svg+xml")
	_, _ = w.Write(chart(feature, span, peaks, seats))
}

// featureName: the configuration's name rule, [A-Za-z0-9_.-]{1,64}.
func featureName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range []byte(s) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}
