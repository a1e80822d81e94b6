package ui

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"net/http"
	"strconv"
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

// Source is what the dashboard reads besides the admin API's JSON.
type Source interface {
	// Subscribe delivers journal messages (accounting events and
	// lifecycle messages) as they are published, until ctx ends.
	Subscribe(ctx context.Context) (<-chan Message, error)
	// Usage is a feature's seats in use over [since, until), the peak of
	// each of n equal buckets, and its seats.
	Usage(ctx context.Context, feature string, since, until time.Time, n int) (peaks []int, seats int, err error)
}

// keepAlive is how often an idle event stream gets a comment, so proxies
// and browsers keep it open.
const keepAlive = 15 * time.Second

// Handler serves the dashboard under /ui/.
func Handler(src Source, log hclog.Logger) http.Handler {
	sub, _ := fs.Sub(static, "static")
	mux := http.NewServeMux()
	mux.Handle("GET /ui/", http.StripPrefix("/ui/", http.FileServerFS(sub)))
	mux.HandleFunc("GET /ui/events", func(w http.ResponseWriter, r *http.Request) { stream(w, r, src, log) })
	mux.HandleFunc("GET /ui/usage.svg", func(w http.ResponseWriter, r *http.Request) { usage(w, r, src) })
	return mux
}

// stream relays journal messages as server-sent events: "event: <subject>"
// and the message's JSON as data.
func stream(w http.ResponseWriter, r *http.Request, src Source, log hclog.Logger) {
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // the server's write timeout would end the stream
	msgs, err := src.Subscribe(r.Context())
	if err != nil {
		http.Error(w, `{"error":"`+err.Error()+`"}`, http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
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
			fmt.Fprintf(w, "event: message\ndata: {\"subject\":%q,\"payload\":%s}\n\n", m.Subject, m.Data)
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
func usage(w http.ResponseWriter, r *http.Request, src Source) {
	q := r.URL.Query()
	feature, span := q.Get("feature"), q.Get("range")
	if span == "" {
		span = "hour"
	}
	rg, ok := ranges[span]
	if !ok || feature == "" || len(feature) > 128 || len(r.URL.RawQuery) > 512 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"usage.svg needs feature=NAME (at most 128 bytes) and range=hour, day or week"}`)
		return
	}
	now := time.Now()
	peaks, seats, err := src.Usage(r.Context(), feature, now.Add(-rg.span), now, rg.buckets)
	if err != nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, `{"error":%q}`, err.Error())
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(chart(feature, span, peaks, seats))
}

func itoa(n int) string { return strconv.Itoa(n) }
