package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
)

// Echo is the baseline: a trivial net/http handler answering the node
// API's routes with the statuses and body sizes a server answers, and no
// accounting, journal or licence files behind them.
type Echo struct {
	srv  *http.Server
	ln   net.Listener
	done chan error
}

// StartEcho serves the baseline on a loopback port; claim answers are
// bodySize bytes of JSON.
func StartEcho(bodySize int) (*Echo, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	body := []byte(`{"license_file":"` + strings.Repeat("A", max(0, bodySize-80)) + `","license_key":"KEY","expires_at":1800000000,"expires_in":60}` + "\n")
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /v1/nodes/{fingerprint}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		w.Write(body)
	})
	mux.HandleFunc("DELETE /v1/nodes/{fingerprint}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /v1/health", func(w http.ResponseWriter, r *http.Request) {})
	e := &Echo{srv: &http.Server{Handler: mux}, ln: ln, done: make(chan error, 1)}
	go func() { e.done <- e.srv.Serve(ln) }()
	return e, nil
}

// URL is the baseline's base URL.
func (e *Echo) URL() string { return "http://" + e.ln.Addr().String() }

// Close stops the baseline.
func (e *Echo) Close() error {
	e.srv.Close()
	if err := <-e.done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Comparison is a server's run beside the baseline's.
type Comparison struct {
	Echo, Server Result
}

// Ratio is the server's requests per second over the baseline's.
func (c Comparison) Ratio() float64 { return c.Server.RequestsPerSec() / c.Echo.RequestsPerSec() }

func (c Comparison) String() string {
	return fmt.Sprintf("%v\n%v\nratio %.3f x the trivial handler", c.Echo, c.Server, c.Ratio())
}

// Compare measures the server at opts.URL: first a short run to learn its
// claim answers' size, then the baseline with answers of that size, then
// the server, each for opts.Duration with the same clients.
func Compare(ctx context.Context, name string, opts Options) (Comparison, error) {
	opts.defaults()
	probe := opts
	probe.Duration, probe.Clients = min(opts.Duration, 500e6), 1
	p, err := Run(ctx, name+" (warm-up)", probe)
	if err != nil {
		return Comparison{}, fmt.Errorf("warm-up: %w", err)
	}
	e, err := StartEcho(p.BodySize)
	if err != nil {
		return Comparison{}, err
	}
	eo := opts
	eo.URL, eo.Pool = e.URL(), ""
	var c Comparison
	c.Echo, err = Run(ctx, "trivial net/http handler", eo)
	if cerr := e.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return c, fmt.Errorf("baseline: %w", err)
	}
	if c.Server, err = Run(ctx, name, opts); err != nil {
		return c, err
	}
	return c, context.Cause(ctx)
}
