package sentinel

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/licensegw/licensegw/plugins/sentinel/client"
	"github.com/licensegw/licensegw/plugins/sentinel/wire"
	"github.com/licensegw/licensegw/sdk"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

// lossyProxy relays datagrams between clients and a server, dropping,
// duplicating and delaying (hence reordering) a share of them in both
// directions. Its decisions come from a seeded generator.
type lossyProxy struct {
	t      *testing.T
	front  net.PacketConn // clients send here
	server net.Addr
	drop   float64
	dup    float64
	delay  float64 // share held back 1..20 ms, which reorders them

	mu        sync.Mutex
	rnd       *rand.Rand
	upstreams map[string]net.PacketConn // client address -> socket towards the server

	dropped, duplicated, delayed atomic.Int64
}

func newLossyProxy(t *testing.T, server string, seed uint64, drop, dup, delay float64) *lossyProxy {
	t.Helper()
	front, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	to, err := net.ResolveUDPAddr("udp", server)
	if err != nil {
		t.Fatal(err)
	}
	p := &lossyProxy{
		t: t, front: front, server: to, drop: drop, dup: dup, delay: delay,
		rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), upstreams: map[string]net.PacketConn{},
	}
	go p.run()
	t.Cleanup(func() {
		front.Close()
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, u := range p.upstreams {
			u.Close()
		}
	})
	return p
}

func (p *lossyProxy) addr() string { return p.front.LocalAddr().String() }

// run relays client datagrams towards the server.
func (p *lossyProxy) run() {
	buf := make([]byte, 2*wire.MaxDatagram)
	for {
		n, from, err := p.front.ReadFrom(buf)
		if err != nil {
			return
		}
		up := p.upstream(from)
		if up == nil {
			return
		}
		b := append([]byte(nil), buf[:n]...)
		p.pass(b, func(b []byte) { up.WriteTo(b, p.server) })
	}
}

// upstream is the socket for one client, answering back through front.
func (p *lossyProxy) upstream(client net.Addr) net.PacketConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	if u, ok := p.upstreams[client.String()]; ok {
		return u
	}
	u, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		p.t.Error(err)
		return nil
	}
	p.upstreams[client.String()] = u
	go func() {
		buf := make([]byte, 2*wire.MaxDatagram)
		for {
			n, _, err := u.ReadFrom(buf)
			if err != nil {
				return
			}
			b := append([]byte(nil), buf[:n]...)
			p.pass(b, func(b []byte) { p.front.WriteTo(b, client) })
		}
	}()
	return u
}

// pass sends b through send, or not, or twice, or later.
func (p *lossyProxy) pass(b []byte, send func([]byte)) {
	p.mu.Lock()
	r, r2 := p.rnd.Float64(), p.rnd.Float64()
	wait := time.Duration(1+p.rnd.IntN(20)) * time.Millisecond
	p.mu.Unlock()
	switch {
	case r < p.drop:
		p.dropped.Add(1)
		return
	case r < p.drop+p.delay:
		p.delayed.Add(1)
		time.AfterFunc(wait, func() { send(b) })
	default:
		send(b)
	}
	if r2 < p.dup {
		p.duplicated.Add(1)
		time.AfterFunc(wait/2, func() { send(b) })
	}
}

// held is what a client believes it holds.
type held struct {
	feature  string
	count    int
	commuter bool
}

// TestLossyNetwork: several clients check out, refresh and release
// thousands of times through a proxy that loses, duplicates and reorders
// datagrams both ways. Afterwards the gateway's leases are exactly what the
// clients believe they hold, and no feature was ever over-used.
func TestLossyNetwork(t *testing.T) {
	if testing.Short() {
		t.Skip("long: thousands of operations over a lossy relay")
	}
	const (
		clients = 6
		ops     = 500
		seed    = 20261126
	)
	features := map[string]int{"cad": 4, "solver": 2, "viewer": 6}
	var fs []sdktest.Feature
	for name, n := range features {
		fs = append(fs, sdktest.Feature{Name: name, Seats: n, TTL: 10 * time.Minute, Borrow: true, MaxBorrow: 7 * day})
	}
	seats := sdktest.NewSeats(fs...)
	r := serve(t, seats, map[string]any{"rate_limit": 1e6, "rate_burst": 1e6}, nil)
	proxy := newLossyProxy(t, r.addr, seed, 0.2, 0.1, 0.1)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// The monitor checks the seat bound all along.
	var over atomic.Value
	stopMonitor := make(chan struct{})
	monitorDone := make(chan struct{})
	go func() {
		defer close(monitorDone)
		for {
			select {
			case <-stopMonitor:
				return
			case <-time.After(2 * time.Millisecond):
			}
			fss, err := seats.Status(ctx, sdk.StatusQuery{})
			if err != nil {
				continue
			}
			for _, f := range fss {
				if f.InUse > f.Seats {
					over.Store(fmt.Sprintf("%s: %d of %d in use", f.Feature, f.InUse, f.Seats))
				}
			}
		}
	}()

	names := []string{"cad", "solver", "viewer"}
	beliefs := make([]map[string]held, clients)
	var wg sync.WaitGroup
	var granted, denied, refreshed, released atomic.Int64
	start := time.Now()
	for i := range clients {
		beliefs[i] = map[string]held{}
		c, err := client.Dial(proxy.addr(), client.Options{
			User: fmt.Sprintf("user%d", i), Host: "h", Timeout: 15 * time.Millisecond,
			MaxTimeout: 150 * time.Millisecond, Attempts: -1, // until ctx ends: every call gets its answer
		})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		rnd := rand.New(rand.NewPCG(seed, uint64(i)))
		mine := beliefs[i]
		wg.Go(func() {
			for range ops {
				var handles []string
				for h := range mine {
					handles = append(handles, h)
				}
				// Map order is random: sort for a seed-determined choice.
				slices.Sort(handles)
				switch x := rnd.Float64(); {
				case len(handles) == 0 || (x < 0.45 && len(handles) < 3):
					f := names[rnd.IntN(len(names))]
					n := 1 + rnd.IntN(2)
					var tok *client.Token
					var err error
					commuter := rnd.IntN(5) == 0
					if commuter {
						tok, err = c.Commute(ctx, f, "", n, 1+rnd.IntN(7))
					} else {
						tok, _, err = c.Checkout(ctx, client.CheckoutRequest{Feature: f, Count: n})
					}
					switch {
					case err == nil:
						mine[tok.Handle] = held{f, n, commuter}
						granted.Add(1)
					case client.IsStatus(err, wire.NoSeats):
						denied.Add(1)
					default:
						t.Errorf("checkout: %v", err)
						return
					}
				case x < 0.7:
					if _, err := c.Refresh(ctx, handles[rnd.IntN(len(handles))]); err != nil {
						t.Errorf("refresh: %v", err)
						return
					}
					refreshed.Add(1)
				default:
					h := handles[rnd.IntN(len(handles))]
					release := c.Release
					if mine[h].commuter {
						release = c.ReturnCommuter
					}
					if err := release(ctx, h); err != nil {
						t.Errorf("release: %v", err)
						return
					}
					delete(mine, h)
					released.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(stopMonitor)
	<-monitorDone
	if v := over.Load(); v != nil {
		t.Errorf("a feature was over-used: %v", v)
	}

	believed := map[string]held{}
	for _, m := range beliefs {
		for h, b := range m {
			believed[h] = b
		}
	}
	fss, err := seats.Status(ctx, sdk.StatusQuery{})
	if err != nil {
		t.Fatal(err)
	}
	actual := map[string]held{}
	for _, f := range fss {
		sum := 0
		for _, l := range f.Leases {
			actual[l.Lease] = held{f.Feature, l.Count, l.Borrowed}
			sum += l.Count
		}
		if sum != f.InUse {
			t.Errorf("%s: leases add up to %d, in use %d", f.Feature, sum, f.InUse)
		}
	}
	if len(actual) != len(believed) {
		t.Errorf("gateway holds %d leases, clients believe %d", len(actual), len(believed))
	}
	for h, b := range believed {
		if a, ok := actual[h]; !ok || a != b {
			t.Errorf("lease %s: clients believe %+v, gateway has %+v (%v)", h, b, a, ok)
		}
	}
	st := r.plugin.Stats()
	t.Logf("%d ops in %v: %d granted, %d denied, %d refreshed, %d released; proxy dropped %d, duplicated %d, delayed %d; server %+v",
		clients*ops, elapsed.Round(time.Millisecond), granted.Load(), denied.Load(), refreshed.Load(), released.Load(),
		proxy.dropped.Load(), proxy.duplicated.Load(), proxy.delayed.Load(), st)
	if st.Retransmits == 0 || proxy.dropped.Load() == 0 {
		t.Error("the proxy lost nothing: the test tested nothing")
	}
}
