package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Options describe a load run.
type Options struct {
	URL      string        // the server, e.g. "http://127.0.0.1:6349" (Run)
	Clients  int           // concurrent nodes; default 32
	Duration time.Duration // default 5 s
	Pool     string        // Relay-Pool header; "" sends none
	Timeout  time.Duration // bounds one request; default 5 s
	// BodySize is the size of Echo's claim answer; Compare sets it to
	// the size of the server's.
	BodySize int
}

func (o *Options) defaults() {
	if o.Clients <= 0 {
		o.Clients = 32
	}
	if o.Duration <= 0 {
		o.Duration = 5 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
}

// Result is one run's figures.
type Result struct {
	Name               string
	Clients            int
	Elapsed            time.Duration
	Cycles             int64 // claim -> release pairs completed
	Requests           int64
	Errors             int64 // requests that failed or answered another status
	BodySize           int   // bytes of the last claim answer
	P50, P90, P99, Max time.Duration
}

// RequestsPerSec is the throughput in requests per second.
func (r Result) RequestsPerSec() float64 { return float64(r.Requests) / r.Elapsed.Seconds() }

// CyclesPerSec is the throughput in claim -> release cycles per second.
func (r Result) CyclesPerSec() float64 { return float64(r.Cycles) / r.Elapsed.Seconds() }

func (r Result) String() string {
	return fmt.Sprintf("%-28s %3d clients %9.0f req/s %8.0f cycles/s  p50 %7s  p90 %7s  p99 %7s  max %7s  errors %d",
		r.Name, r.Clients, r.RequestsPerSec(), r.CyclesPerSec(), ms(r.P50), ms(r.P90), ms(r.P99), ms(r.Max), r.Errors)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }

// ErrFailed: every request of a run failed.
var ErrFailed = errors.New("loadgen: no request succeeded")

// Run loads opts.URL and reports the figures.
func Run(ctx context.Context, name string, opts Options) (Result, error) {
	opts.defaults()
	tr := &http.Transport{
		MaxIdleConns: opts.Clients, MaxIdleConnsPerHost: opts.Clients,
		DialContext: (&net.Dialer{Timeout: opts.Timeout}).DialContext,
	}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: opts.Timeout}
	ctx, cancel := context.WithTimeout(ctx, opts.Duration)
	defer cancel()
	results := make([]clientResult, opts.Clients)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range opts.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &results[i]
			node := fmt.Sprintf("%s/v1/nodes/loadgen-%04d", strings.TrimSuffix(opts.URL, "/"), i)
			for ctx.Err() == nil {
				n, ok := request(ctx, hc, http.MethodPut, node, opts.Pool, http.StatusCreated, &r.lat)
				if !ok {
					r.failed(ctx)
					continue
				}
				r.body = n
				if _, ok := request(ctx, hc, http.MethodDelete, node, opts.Pool, http.StatusNoContent, &r.lat); !ok {
					r.failed(ctx)
					continue
				}
				r.cycles++
			}
			// Leave no lease behind for the next run.
			request(context.Background(), hc, http.MethodDelete, node, opts.Pool, http.StatusNoContent, nil)
		}()
	}
	wg.Wait()
	res := Result{Name: name, Clients: opts.Clients, Elapsed: time.Since(start)}
	var all []time.Duration
	for _, r := range results {
		all = append(all, r.lat...)
		res.Cycles += r.cycles
		res.Errors += r.errors
		res.BodySize = max(res.BodySize, r.body)
	}
	res.Requests = int64(len(all))
	if res.Requests == 0 {
		return res, ErrFailed
	}
	slices.Sort(all)
	pct := func(p float64) time.Duration { return all[min(len(all)-1, int(p*float64(len(all))))] }
	res.P50, res.P90, res.P99, res.Max = pct(0.50), pct(0.90), pct(0.99), all[len(all)-1]
	return res, nil
}

// clientResult is what one client measured.
type clientResult struct {
	lat            []time.Duration
	cycles, errors int64
	body           int
}

// failed counts a failed request, unless it failed because the run ended.
func (r *clientResult) failed(ctx context.Context) {
	if ctx.Err() == nil {
		r.errors++
	}
}

// request sends one request and records its latency when it answered
// want; it returns the body's size.
func request(ctx context.Context, hc *http.Client, method, url, pool string, want int, lat *[]time.Duration) (int, bool) {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return 0, false
	}
	if pool != "" {
		req.Header.Set("Relay-Pool", pool)
	}
	t0 := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		return 0, false
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != want {
		return 0, false
	}
	if lat != nil {
		*lat = append(*lat, time.Since(t0))
	}
	return int(n), true
}
