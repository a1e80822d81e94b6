package main

// mutation is one deliberate bug: in file, old (which must occur exactly
// once) becomes new. pkgs are the packages whose tests must catch it, with
// run an optional -run pattern to keep slow packages quick.
type mutation struct {
	name     string
	file     string
	old, new string
	pkgs     []string
	run      string
}

// seatsPkgs are the packages that test the accounting engine (the
// ledger's tests, which need NATS, run only for the replay mutation, to
// keep the run quick).
var seatsPkgs = []string{"./gateway/seats/"}

// mutations returns the known bugs the suite must catch.
func mutations() []mutation {
	return []mutation{
		{
			name: "extra seat",
			file: "gateway/seats/checkout.go",
			old:  "free := f.Seats - p.inUse",
			new:  "free := f.Seats + 1 - p.inUse",
			pkgs: seatsPkgs,
		},
		{
			name: "denied events dropped",
			file: "gateway/seats/checkout.go",
			old:  "\tevs = e.event(evs, events.Denied, now, p, &req.Client, count)\n\tevs[len(evs)-1].Reason = string(reason)\n",
			new:  "",
			pkgs: seatsPkgs,
		},
		{
			name: "queue admits max+1",
			file: "gateway/seats/checkout.go",
			old:  "if len(p.queue) >= p.maxQueue {",
			new:  "if len(p.queue) > p.maxQueue {",
			pkgs: seatsPkgs,
		},
		{
			name: "MAX ignores seats held",
			file: "gateway/seats/checkout.go",
			old:  "if l.used+count > l.Seats && l.who.match(c) {",
			new:  "if count > l.Seats && l.who.match(c) {",
			pkgs: seatsPkgs,
		},
		{
			name: "heartbeat not extending",
			file: "gateway/seats/release.go",
			old:  "l.Expires = now.UTC().Add(l.TTL)",
			new:  "l.Expires = l.Granted.Add(l.TTL)",
			pkgs: seatsPkgs,
		},
		{
			name: "expiry off by one",
			file: "gateway/seats/release.go",
			old:  "for len(e.timers) > 0 && e.timers[0].at <= limit {",
			new:  "for len(e.timers) > 0 && e.timers[0].at < limit {",
			pkgs: seatsPkgs,
		},
		{
			name: "replay ignoring expired",
			file: "gateway/seats/replay.go",
			old:  "case events.Checkin, events.Expired, events.Removed, events.Returned:",
			new:  "case events.Expired: // ignored\n\tcase events.Checkin, events.Removed, events.Returned:",
			pkgs: []string{"./gateway/seats/", "./gateway/ledger/", "./gateway/node/", "./internal/e2e/"},
			run:  "TestRestart|TestReplay|TestApply|TestProperties|TestEndedLeasesStayGoneAfterRestart",
		},
		{
			name: "fake denies a refused borrow as excluded",
			file: "sdk/sdktest/seats.go",
			old:  `return nil, denied("borrow", fmt.Sprintf("%s may not be borrowed", p.Name), 0, 0)`,
			new:  `return nil, denied("excluded", fmt.Sprintf("%s may not be borrowed", p.Name), 0, 0)`,
			pkgs: []string{"./gateway/seats/", "github.com/licensegw/licensegw/sdk/sdktest"}, // a package of the sdk module
		},
		{
			name: "lmstat counts leases",
			file: "plugins/flexlm/lmutil/lmstat.go",
			old:  "Issued: f.Seats, InUse: f.InUse}",
			new:  "Issued: f.Seats, InUse: len(f.Leases)}",
			pkgs: []string{"./plugins/flexlm/lmutil/", "./internal/e2e/vendors/"},
			run:  "TestLmstat|TestFlexLMLayout",
		},
		{
			name: "borrowed released on disconnect",
			file: "plugins/flexlm/conn.go",
			old:  "req.BindConn = req.Borrow == 0",
			new:  "req.BindConn = true",
			pkgs: []string{"./plugins/flexlm/", "./internal/e2e/vendors/"},
			run:  "TestCheckoutsAreBoundToTheConnection|TestBorrow|TestFlexLMLayout|TestFlexLMPluginCrashKeepsBorrows",
		},
	}
}
