package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/licensegw/licensegw/plugins/concurrentlm/wire"
)

// Latency is one client's unloaded round trips: PING, which the plugin
// answers by itself, beside HEARTBEAT, which crosses to the gateway and
// back. Their ratio is the cost of the plugin-to-gateway hop as a client
// sees it.
type Latency struct {
	Pings, Heartbeats   int
	PingP50, PingP99    time.Duration
	HeartbeatP50, HBP99 time.Duration
	Ratio               float64 // HeartbeatP50 / PingP50
}

func (l Latency) String() string {
	return fmt.Sprintf("1 client: PING p50=%v p99=%v (%d), HEARTBEAT p50=%v p99=%v (%d); heartbeat/ping p50 ratio: %.2f",
		l.PingP50, l.PingP99, l.Pings, l.HeartbeatP50, l.HBP99, l.Heartbeats, l.Ratio)
}

// MeasureLatency runs one client against the gateway at o.Addr for
// o.Duration: PINGs for the first half, then one CHECKOUT and HEARTBEATs on
// its lease for the second, then the CHECKIN. o.Clients is ignored.
func MeasureLatency(ctx context.Context, o Options) (Latency, error) {
	o.defaults()
	if o.Addr == "" {
		return Latency{}, errors.New("loadgen: Options.Addr is required")
	}
	w := &worker{o: o, buf: make([]byte, 0, 256)}
	if err := w.connect(); err != nil {
		return Latency{}, err
	}
	defer w.nc.Close()
	half := o.Duration / 2

	pings, err := w.repeat(ctx, half, []byte("PING\n"), "PONG")
	if err != nil {
		return Latency{}, err
	}
	ans, err := w.exchange(w.checkoutLine())
	if err != nil {
		return Latency{}, err
	}
	m, err := wire.ParseMessage(string(ans))
	if err != nil || m.Word != "GRANTED" {
		return Latency{}, fmt.Errorf("loadgen: CHECKOUT answered %q", strings.TrimSpace(string(ans)))
	}
	lease := m.Get("lease")
	hb := slices.Clone(w.leaseLine("HEARTBEAT", lease))
	beats, err := w.repeat(ctx, half, hb, "OK")
	if err != nil {
		return Latency{}, err
	}
	if _, err := w.exchange(w.leaseLine("CHECKIN", lease)); err != nil {
		return Latency{}, err
	}
	l := Latency{Pings: len(pings), Heartbeats: len(beats)}
	l.PingP50, l.PingP99 = quantile(pings, 0.50), quantile(pings, 0.99)
	l.HeartbeatP50, l.HBP99 = quantile(beats, 0.50), quantile(beats, 0.99)
	if l.PingP50 > 0 {
		l.Ratio = float64(l.HeartbeatP50) / float64(l.PingP50)
	}
	return l, nil
}

// repeat sends line until d has passed and returns the sorted latencies;
// every answer must start with word.
func (w *worker) repeat(ctx context.Context, d time.Duration, line []byte, word string) ([]time.Duration, error) {
	w.lat = w.lat[:0]
	for end := time.Now().Add(d); time.Now().Before(end) && ctx.Err() == nil; {
		ans, err := w.exchange(line)
		if err != nil {
			return nil, err
		}
		if !bytes.HasPrefix(ans, []byte(word)) {
			return nil, fmt.Errorf("loadgen: %s answered %q", strings.TrimSpace(string(line)), strings.TrimSpace(string(ans)))
		}
	}
	if len(w.lat) == 0 {
		return nil, fmt.Errorf("loadgen: no answer to %s", strings.TrimSpace(string(line)))
	}
	lat := slices.Clone(w.lat)
	slices.Sort(lat)
	return lat, nil
}

// quantile of sorted latencies.
func quantile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(float64(len(sorted))*p))]
}
