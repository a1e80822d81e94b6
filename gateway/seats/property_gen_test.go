package seats

import (
	"fmt"
	"slices"
	"time"

	"pgregory.net/rapid"
)

// The property test's small world: few users, hosts, projects and
// addresses, so that policies match often and pools fill.
var (
	propUsers    = []string{"u1", "u2", "u3", "u4"}
	propHosts    = []string{"h1", "h2", "h3"}
	propProjects = []string{"", "p1", "p2"}
	propAddrs    = []string{"10.0.1.2:1", "10.9.1.1:2", "192.168.0.1:3"}
	propPlugins  = []string{"clm", "flex"}
	propGroups   = map[string][]string{"g1": {"u1", "u2"}, "g2": {"u3"}}
	propHGs      = map[string][]string{"lab": {"h1"}}
)

// oneIn draws true about once in n.
func oneIn(t *rapid.T, n int, label string) bool {
	return rapid.IntRange(1, n).Draw(t, label) == 1
}

func genSubject(t *rapid.T, label string) Subject {
	switch rapid.IntRange(0, 5).Draw(t, label+"kind") {
	case 0:
		return Subject{Kind: User, Name: rapid.SampledFrom(propUsers).Draw(t, label+"user")}
	case 1:
		return Subject{Kind: Host, Name: rapid.SampledFrom(propHosts).Draw(t, label+"host")}
	case 2:
		return Subject{Kind: Group, Name: rapid.SampledFrom([]string{"g1", "g2"}).Draw(t, label+"group")}
	case 3:
		return Subject{Kind: HostGroup, Name: "lab"}
	case 4:
		return Subject{Kind: Project, Name: rapid.SampledFrom([]string{"p1", "p2"}).Draw(t, label+"project")}
	}
	return Subject{Kind: Internet, Name: rapid.SampledFrom([]string{"10.0.*.*", "10.*.1.*"}).Draw(t, label+"net")}
}

func genFeature(t *rapid.T, name, version string) Feature {
	f := Feature{
		Name: name, Version: version,
		Seats:    rapid.IntRange(1, 3).Draw(t, "seats"),
		LeaseTTL: time.Duration(rapid.IntRange(0, 3).Draw(t, "ttl")) * time.Minute,
		Queue:    !oneIn(t, 4, "noqueue"),
		// Small queues, so that they fill; now and then the default.
		MaxQueue: rapid.IntRange(1, 3).Draw(t, "maxqueue"),
		Borrow:   !oneIn(t, 3, "noborrow"),
	}
	if oneIn(t, 8, "seats0") {
		f.Seats = 0
	}
	if oneIn(t, 8, "defaultqueue") {
		f.MaxQueue = 0
	}
	if !oneIn(t, 3, "nomaxwait") {
		f.MaxWait = time.Duration(rapid.IntRange(10, 300).Draw(t, "maxwait")) * time.Second
	}
	if f.Borrow && !oneIn(t, 4, "defaultmaxborrow") {
		f.MaxBorrow = time.Duration(rapid.IntRange(60, 900).Draw(t, "maxborrow")) * time.Second
	}
	// Dates relative to the start of the run, which lasts a few hours.
	if oneIn(t, 4, "hasstart") {
		f.Start = t0.Add(time.Duration(rapid.IntRange(-10, 40).Draw(t, "start")) * time.Minute)
	}
	if oneIn(t, 4, "hasexpiry") {
		f.Expiry = t0.Add(time.Duration(rapid.IntRange(5, 120).Draw(t, "expiry")) * time.Minute)
		if !f.Start.IsZero() && !f.Expiry.After(f.Start) {
			f.Expiry = f.Start.Add(time.Hour)
		}
	}
	left := f.Seats
	for i := range rapid.IntRange(0, 2).Draw(t, "nreserve") {
		if left == 0 {
			break
		}
		n := rapid.IntRange(1, left).Draw(t, "reserve")
		left -= n
		f.Reserve = append(f.Reserve, Reservation{Seats: n, Who: genSubject(t, fmt.Sprint("res", i))})
	}
	if oneIn(t, 3, "hasmax") {
		f.Max = append(f.Max, Limit{Seats: rapid.IntRange(0, 3).Draw(t, "max"), Who: genSubject(t, "max")})
	}
	if oneIn(t, 6, "hasexclude") {
		f.Exclude = []Subject{genSubject(t, "excl")}
	}
	if oneIn(t, 6, "hasinclude") {
		f.Include = []Subject{genSubject(t, "incl"), genSubject(t, "incl2")}
	}
	return f
}

func genConfig(t *rapid.T) Config {
	cfg := Config{Groups: propGroups, HostGroups: propHGs}
	cfg.Features = append(cfg.Features, genFeature(t, "cad", "1"))
	if rapid.Bool().Draw(t, "cad2") {
		cfg.Features = append(cfg.Features, genFeature(t, "cad", "2.0"))
	}
	cfg.Features = append(cfg.Features, genFeature(t, "sim", ""))
	if rapid.Bool().Draw(t, "viz") {
		f := genFeature(t, "viz", "3")
		f.Vendor = "acme"
		cfg.Features = append(cfg.Features, f)
	}
	return cfg
}

// mutate returns cfg with new seat counts (reservations trimmed to fit), now
// and then a new lease TTL, and now and then a pool removed or added back.
func mutate(t *rapid.T, cfg, orig Config) Config {
	out := cloneConfig(cfg)
	for i := range out.Features {
		f := &out.Features[i]
		f.Seats = rapid.IntRange(0, 5).Draw(t, "newseats")
		if oneIn(t, 3, "newttl") {
			f.LeaseTTL = time.Duration(rapid.IntRange(0, 3).Draw(t, "ttl")) * time.Minute
		}
		sum := 0
		var keep []Reservation
		for _, r := range f.Reserve {
			if sum+r.Seats <= f.Seats {
				keep = append(keep, r)
				sum += r.Seats
			}
		}
		f.Reserve = keep
	}
	switch rapid.IntRange(0, 3).Draw(t, "shape") {
	case 0:
		if len(out.Features) > 1 {
			i := rapid.IntRange(0, len(out.Features)-1).Draw(t, "drop")
			out.Features = slices.Delete(out.Features, i, i+1)
		}
	case 1:
		for _, f := range orig.Features {
			if !slices.ContainsFunc(out.Features, func(g Feature) bool { return keyOf(&g) == keyOf(&f) }) {
				out.Features = append(out.Features, f)
				break
			}
		}
	}
	return out
}

// genRequest draws a checkout: mostly for existing features, often waiting,
// sometimes borrowing, bound or keyed.
func genRequest(t *rapid.T) CheckoutRequest {
	r := CheckoutRequest{
		Feature: rapid.SampledFrom([]string{"cad", "cad", "cad", "sim", "sim", "viz"}).Draw(t, "feature"),
		Count:   rapid.IntRange(0, 1).Draw(t, "count"),
		Client: Client{
			User:    rapid.SampledFrom(propUsers).Draw(t, "user"),
			Host:    rapid.SampledFrom(propHosts).Draw(t, "host"),
			Project: rapid.SampledFrom(propProjects).Draw(t, "project"),
			Addr:    rapid.SampledFrom(propAddrs).Draw(t, "addr"),
			Plugin:  rapid.SampledFrom(propPlugins).Draw(t, "plugin"),
		},
	}
	if oneIn(t, 6, "count2") {
		r.Count = 2
	}
	if oneIn(t, 15, "count3") {
		r.Count = rapid.IntRange(3, 6).Draw(t, "bigcount")
	}
	if oneIn(t, 15, "unknown") {
		r.Feature = "none"
	}
	if oneIn(t, 4, "hasversion") {
		r.Version = rapid.SampledFrom([]string{"1", "1.5", "2", "4"}).Draw(t, "version")
	}
	if !oneIn(t, 4, "nowait") {
		r.Wait = time.Duration(rapid.IntRange(1, 600).Draw(t, "wait")) * time.Second
	}
	if oneIn(t, 6, "borrows") {
		r.Borrow = time.Duration(rapid.IntRange(1, 1200).Draw(t, "borrow")) * time.Second
	}
	r.Bound = oneIn(t, 4, "bound")
	if oneIn(t, 4, "keyed") {
		// A small key space: retransmissions of live checkouts happen
		// often.
		r.Key = rapid.SampledFrom([]string{"k1", "k2", "k3"}).Draw(t, "key")
	}
	return r
}
