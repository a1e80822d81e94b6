package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/licensegw/licensegw/plugins/concurrentlm/wire"
)

// Options describe a load run.
type Options struct {
	Addr     string        // the gateway's CLM/1 TCP address (Run)
	Clients  int           // concurrent connections; default 16
	Duration time.Duration // how long to run; default 5 s
	Feature  string        // the feature to cycle; it needs Clients free seats; default "bench"
	Vendor   string        // optional vendor=
	// Timeout bounds a single request (default 5 s); a run never hangs on
	// a gateway that stops answering.
	Timeout time.Duration
	// Cycles, when not 0, ends each client's run after that many cycles
	// (or at Duration, whichever comes first): a test's run then does a
	// known amount of work however slow the machine is.
	Cycles int
	// Nonce sends a fresh nonce= with every CHECKOUT, as a client that
	// pins the gateway's key does: the gateway then signs each grant.
	Nonce bool
}

func (o *Options) defaults() {
	if o.Clients <= 0 {
		o.Clients = 16
	}
	if o.Duration <= 0 {
		o.Duration = 5 * time.Second
	}
	if o.Feature == "" {
		o.Feature = "bench"
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
}

// Report is the result of one run.
type Report struct {
	Name    string // "gateway" or "echo"
	Clients int
	Elapsed time.Duration
	Ops     int64 // requests answered
	Denied  int64 // CHECKOUTs answered DENIED
	Signed  int64 // grants carrying sig=
	Errors  int64 // ERR answers, unexpected answers, broken connections
	// Retransmits are requests sent again for want of an answer (UDP).
	Retransmits int64
	OpsPerSec   float64
	P50, P90    time.Duration
	P99, Max    time.Duration

	samples []time.Duration // every latency, sorted (for Merge)
}

func (r Report) String() string {
	s := fmt.Sprintf("%-7s clients=%d ops=%d (%.0f/s) p50=%v p90=%v p99=%v max=%v denied=%d signed=%d errors=%d",
		r.Name, r.Clients, r.Ops, r.OpsPerSec, r.P50, r.P90, r.P99, r.Max, r.Denied, r.Signed, r.Errors)
	if r.Retransmits > 0 {
		s += fmt.Sprintf(" retransmits=%d", r.Retransmits)
	}
	return s
}

// Run loads the gateway at o.Addr.
func Run(ctx context.Context, o Options) (Report, error) {
	o.defaults()
	if o.Addr == "" {
		return Report{}, errors.New("loadgen: Options.Addr is required")
	}
	name := "gateway"
	if o.Nonce {
		name = "signed"
	}
	return run(ctx, name, o, gatewayCycle)
}

// Ping loads the plugin at o.Addr with PINGs, which the plugin answers
// itself (PONG) without asking the gateway: the cost of the plugin's
// client handling alone, the part of a gateway run that no change to the
// gateway hop or the journal can remove.
func Ping(ctx context.Context, o Options) (Report, error) {
	o.defaults()
	if o.Addr == "" {
		return Report{}, errors.New("loadgen: Options.Addr is required")
	}
	return run(ctx, "ping", o, pingCycle)
}

// Echo starts a line echo server on 127.0.0.1 and loads it with lines of
// the sizes Run sends; o.Addr is ignored.
func Echo(ctx context.Context, o Options) (Report, error) {
	o.defaults()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return Report{}, fmt.Errorf("loadgen: echo listener: %w", err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { ServeEcho(ln, echoLines) })
	defer func() { ln.Close(); wg.Wait() }()
	o.Addr = ln.Addr().String()
	return run(ctx, "echo", o, echoCycle)
}

// Comparison is a gateway run next to an echo run.
type Comparison struct {
	Gateway, Echo Report
	Ratio         float64 // gateway ops/s over echo ops/s
}

func (c Comparison) String() string {
	return fmt.Sprintf("%v\n%v\ngateway/echo throughput ratio: %.2f", c.Gateway, c.Echo, c.Ratio)
}

// Compare runs Run and then Echo with the same options.
func Compare(ctx context.Context, o Options) (Comparison, error) {
	g, err := Run(ctx, o)
	if err != nil {
		return Comparison{}, err
	}
	e, err := Echo(ctx, o)
	if err != nil {
		return Comparison{}, err
	}
	c := Comparison{Gateway: g, Echo: e}
	if e.OpsPerSec > 0 {
		c.Ratio = g.OpsPerSec / e.OpsPerSec
	}
	return c, nil
}

// worker is one client's connection and tallies.
type worker struct {
	o      Options
	n      int // the client's number
	nc     net.Conn
	br     *bufio.Reader
	buf    []byte
	lat    []time.Duration
	denied int64
	signed int64
	errors int64
	lease  string
	nonces int64 // nonces sent: the next one is fresh
}

// cycle runs one CHECKOUT -> HEARTBEAT -> CHECKIN round (or the echo
// equivalent) and returns an error only for a broken connection.
type cycle func(w *worker) error

func run(ctx context.Context, name string, o Options, cyc cycle) (Report, error) {
	ctx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()
	workers := make([]*worker, o.Clients)
	for i := range workers {
		w := &worker{o: o, n: i, buf: make([]byte, 0, 256), lat: make([]time.Duration, 0, 1<<14)}
		if err := w.connect(); err != nil {
			for _, w := range workers[:i] {
				w.nc.Close()
			}
			return Report{}, err
		}
		workers[i] = w
	}
	begin := time.Now()
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer w.nc.Close()
			for n := 0; ctx.Err() == nil && (o.Cycles == 0 || n < o.Cycles); n++ {
				if err := cyc(w); err != nil {
					if ctx.Err() != nil {
						return // the deadline broke the request off
					}
					w.errors++
					w.nc.Close()
					if w.connect() != nil {
						time.Sleep(10 * time.Millisecond)
					}
				}
			}
		}()
	}
	// Workers stop at the deadline (unblock any read in progress), or
	// when they have run their cycles.
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-ctx.Done():
		for _, w := range workers {
			_ = w.nc.SetDeadline(time.Now())
		}
	case <-finished:
	}
	wg.Wait()
	elapsed := time.Since(begin)

	r := Report{Name: name, Clients: o.Clients, Elapsed: elapsed}
	var all []time.Duration
	for _, w := range workers {
		all = append(all, w.lat...)
		r.Denied += w.denied
		r.Signed += w.signed
		r.Errors += w.errors
	}
	slices.Sort(all)
	r.setSamples(all)
	if r.Ops == 0 {
		return r, fmt.Errorf("loadgen: %s: no request was answered (%d errors)", name, r.Errors)
	}
	return r, nil
}

// setSamples sets the tallies that follow from the sorted latencies all.
func (r *Report) setSamples(all []time.Duration) {
	r.samples = all
	r.Ops = int64(len(all))
	r.OpsPerSec = 0
	if r.Elapsed > 0 {
		r.OpsPerSec = float64(r.Ops) / r.Elapsed.Seconds()
	}
	if n := len(all); n > 0 {
		r.P50, r.P90, r.P99, r.Max = quantile(all, 0.50), quantile(all, 0.90), quantile(all, 0.99), all[n-1]
	}
}

// Merge adds up runs of the same kind (rounds interleaved with other runs,
// so that a machine whose load drifts weighs on every kind alike): the
// requests, errors and time of all, and percentiles over every request.
func Merge(rs ...Report) Report {
	if len(rs) == 0 {
		return Report{}
	}
	m := Report{Name: rs[0].Name, Clients: rs[0].Clients}
	var all []time.Duration
	for _, r := range rs {
		m.Elapsed += r.Elapsed
		m.Denied += r.Denied
		m.Signed += r.Signed
		m.Errors += r.Errors
		m.Retransmits += r.Retransmits
		all = append(all, r.samples...)
	}
	slices.Sort(all)
	m.setSamples(all)
	return m
}

func (w *worker) connect() error {
	nc, err := net.DialTimeout("tcp", w.o.Addr, w.o.Timeout)
	if err != nil {
		return fmt.Errorf("loadgen: dial %s: %w", w.o.Addr, err)
	}
	w.nc, w.br = nc, bufio.NewReaderSize(nc, 8192)
	return nil
}

// exchange sends line and reads one answer line, recording the latency.
// The answer is valid until the next exchange.
func (w *worker) exchange(line []byte) ([]byte, error) {
	start := time.Now()
	_ = w.nc.SetDeadline(start.Add(w.o.Timeout))
	if _, err := w.nc.Write(line); err != nil {
		return nil, err
	}
	ans, err := w.br.ReadSlice('\n')
	if err != nil {
		return nil, err
	}
	w.lat = append(w.lat, time.Since(start))
	return ans, nil
}

// The lines of a cycle; the echo cycle sends the same bytes.
func (w *worker) checkoutLine() []byte {
	w.buf = append(w.buf[:0], "CHECKOUT"...)
	w.buf = wire.AppendPair(w.buf, "feature", w.o.Feature)
	if w.o.Vendor != "" {
		w.buf = wire.AppendPair(w.buf, "vendor", w.o.Vendor)
	}
	w.buf = append(w.buf, " user=loadgen"...)
	w.buf = wire.AppendInt(w.buf, "host", int64(w.n))
	// bind=conn: a cycle cut off by the end of the run leaves no seat
	// behind, since the connection closes.
	w.buf = append(w.buf, " bind=conn"...)
	if w.o.Nonce {
		// Fresh for every request: client number and sequence.
		w.nonces++
		w.buf = append(w.buf, " nonce=n"...)
		w.buf = strconv.AppendInt(w.buf, int64(w.n), 36)
		w.buf = append(w.buf, '-')
		w.buf = strconv.AppendInt(w.buf, w.nonces, 36)
	}
	return append(w.buf, '\n')
}

func (w *worker) leaseLine(verb, lease string) []byte {
	w.buf = append(w.buf[:0], verb...)
	w.buf = wire.AppendPair(w.buf, "lease", lease)
	return append(w.buf, '\n')
}

func gatewayCycle(w *worker) error {
	ans, err := w.exchange(w.checkoutLine())
	if err != nil {
		return err
	}
	// The answer's word and the pairs the cycle needs are checked in
	// place: parsing the whole line into a map would cost this process
	// more than the gateway spends on some requests.
	switch {
	case bytes.HasPrefix(ans, []byte("DENIED ")):
		w.denied++
		return nil
	case !bytes.HasPrefix(ans, []byte("GRANTED ")):
		w.errors++
		return nil
	}
	lease, ok := pairValue(ans, "lease")
	if !ok || len(lease) == 0 {
		w.errors++
		return nil
	}
	w.lease = string(lease)
	if _, ok := pairValue(ans, "sig"); ok {
		w.signed++
	}
	for _, verb := range []string{"HEARTBEAT", "CHECKIN"} {
		ans, err := w.exchange(w.leaseLine(verb, w.lease))
		if err != nil {
			return err
		}
		if !bytes.HasPrefix(ans, []byte("OK ")) {
			w.errors++
		}
	}
	return nil
}

// pairValue finds key=value in an answer line whose values are tokens
// (lease ids, signatures: never quoted).
func pairValue(line []byte, key string) ([]byte, bool) {
	for rest := line; ; {
		i := bytes.Index(rest, []byte(key))
		if i < 0 {
			return nil, false
		}
		end := i + len(key)
		if i > 0 && rest[i-1] == ' ' && end < len(rest) && rest[end] == '=' {
			v := rest[end+1:]
			if j := bytes.IndexAny(v, " \r\n"); j >= 0 {
				v = v[:j]
			}
			return v, true
		}
		rest = rest[end:]
	}
}

// sampleLease has the length of a typical lease id.
const sampleLease = "l0123456789abcdef0123456789abcdef"

func pingCycle(w *worker) error {
	ans, err := w.exchange([]byte("PING\n"))
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(ans, []byte("PONG")) {
		w.errors++
	}
	return nil
}

func echoCycle(w *worker) error {
	// Built one at a time: the lines share w.buf.
	for i := range 3 {
		var line []byte
		switch i {
		case 0:
			line = w.checkoutLine()
		case 1:
			line = w.leaseLine("HEARTBEAT", sampleLease)
		default:
			line = w.leaseLine("CHECKIN", sampleLease)
		}
		if _, err := w.exchange(line); err != nil {
			return err
		}
	}
	return nil
}

// echoLines echoes lines back on nc: buffered, flushing when no more input
// is buffered, as a well-written line server would.
func echoLines(nc net.Conn) {
	br := bufio.NewReaderSize(nc, 8192)
	bw := bufio.NewWriterSize(nc, 8192)
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return
		}
		if _, err := bw.Write(line); err != nil {
			return
		}
		if br.Buffered() == 0 {
			if err := bw.Flush(); err != nil {
				return
			}
		}
	}
}
