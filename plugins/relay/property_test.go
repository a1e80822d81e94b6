package relay

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"pgregory.net/rapid"

	"github.com/licensegw/licensegw/sdk"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

// TestFileAccountingProperty drives the handler with random claims,
// heartbeats, releases, clock jumps and culls over a file-backed pool with
// fewer seats than nodes, and after every step checks the invariants: no
// licence file is held by two nodes; every file is free, held or set aside;
// the nodes holding a lease are exactly the gateway's leases; and each
// answer agrees with the state (201 only for a node without a lease, 202
// only for one with a live lease).
func TestFileAccountingProperty(t *testing.T) {
	dir := licenceDir(t, 4)
	rapid.Check(t, func(rt *rapid.T) {
		clock := newFakeClock()
		const ttl = 30 * time.Second
		seats := sdktest.NewSeats(sdktest.Feature{Name: "cad", Seats: rapid.IntRange(1, 5).Draw(rt, "seats"), TTL: ttl}).WithClock(clock.Now)
		strategy := rapid.SampledFrom([]string{"fifo", "lifo", "rand"}).Draw(rt, "strategy")
		opts, err := parseOptions(sdk.NewConfig(map[string]any{"pool": "cad", "licenses_dir": dir, "public_key": vendorHex(), "strategy": strategy, "rate": 0.0}))
		if err != nil {
			rt.Fatal(err)
		}
		s := &server{
			opts: opts, seats: seats, log: hclog.NewNullLogger(), now: clock.Now, instance: Name,
			nodes: newNodeTable(), files: map[string]*licencePool{}, allowed: map[string]bool{},
			limiter: newIPLimiter(0, 0), meters: newMeters(sdk.NewMetrics()), reported: map[string]bool{},
		}
		if err := s.loadFiles(); err != nil {
			rt.Fatal(err)
		}
		send := func(method, fp string) int {
			req := httptest.NewRequest(method, "/v1/nodes/"+fp, nil)
			w := httptest.NewRecorder()
			s.ServeHTTP(w, req)
			return w.Code
		}
		// held[fp]: the node holds a lease, and until when.
		held := map[string]time.Time{}
		for step := range rapid.IntRange(1, 60).Draw(rt, "steps") {
			fp := fmt.Sprintf("n%d", rapid.IntRange(0, 6).Draw(rt, fmt.Sprintf("node%d", step)))
			switch op := rapid.IntRange(0, 4).Draw(rt, fmt.Sprintf("op%d", step)); op {
			case 0, 1: // claim or heartbeat
				live := held[fp].After(clock.Now())
				code := send(http.MethodPut, fp)
				switch {
				case code == http.StatusAccepted && !live:
					rt.Fatalf("202 for %s, which holds no live lease", fp)
				case code == http.StatusCreated && live:
					rt.Fatalf("201 for %s, which holds a live lease", fp)
				case code == http.StatusCreated || code == http.StatusAccepted:
					held[fp] = clock.Now().Add(ttl)
				case code == http.StatusGone:
					delete(held, fp)
				default:
					rt.Fatalf("claim answered %d", code)
				}
			case 2: // release
				live := held[fp].After(clock.Now())
				code := send(http.MethodDelete, fp)
				if code == http.StatusNoContent && !live || code == http.StatusNotFound && live {
					rt.Fatalf("release of %s (live %v) answered %d", fp, live, code)
				}
				delete(held, fp)
			case 3: // time passes
				clock.Add(time.Duration(rapid.IntRange(1, 40).Draw(rt, fmt.Sprintf("secs%d", step))) * time.Second)
				seats.Expire()
			case 4:
				s.cull()
			}
			checkFileInvariants(rt, s, seats)
		}
	})
}

func checkFileInvariants(rt *rapid.T, s *server, seats *sdktest.Seats) {
	lp := s.files["cad"]
	holders := map[string]string{}
	leases := 0
	for i := range s.nodes.shards {
		sh := &s.nodes.shards[i]
		for fp, n := range sh.m {
			if n.lease == "" {
				rt.Fatalf("node %s in the table without a lease", fp)
			}
			leases++
			if n.lic == nil {
				rt.Fatalf("node %s holds a lease of a file pool without a file", fp)
			}
			if other, dup := holders[n.lic.id]; dup {
				rt.Fatalf("file %s held by %s and %s", n.lic.id, other, fp)
			}
			holders[n.lic.id] = fp
			if lp.free.has(n.lic.slot) {
				rt.Fatalf("file %s held by %s is also free", n.lic.id, fp)
			}
		}
	}
	free, held, expired := lp.counts()
	if free+held+expired != lp.size() || held != len(holders) {
		rt.Fatalf("files: %d free + %d held + %d expired of %d; %d holders", free, held, expired, lp.size(), len(holders))
	}
	// Nodes the plugin has not culled yet may hold leases the gateway has
	// already expired; never the other way round.
	fss, err := seats.Status(context.Background(), sdk.StatusQuery{Feature: "cad", CountsOnly: true})
	if err != nil {
		rt.Fatal(err)
	}
	if inUse := fss[0].InUse; inUse > leases {
		rt.Fatalf("the gateway has %d leases, the plugin knows %d", inUse, leases)
	}
}
