package cli

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/licensegw/licensegw/plugins/concurrentlm/loadgen"
)

type benchCommand struct {
	server, feature  string
	flexlm, sentinel string // FlexLM-style vendor daemon and Sentinel-style server addresses, optional
	clients          int
	duration         time.Duration
	rounds           int
	noEcho, noCost   bool
	admin            adminFlags
}

func (*benchCommand) synopsis() string {
	return "load-test a gateway over concurrent-lm, beside a TCP echo baseline"
}
func (*benchCommand) usage() string { return "bench [options]" }
func (*benchCommand) help() string {
	return `Runs CHECKOUT -> HEARTBEAT -> CHECKIN cycles from many clients against a
running gateway and reports ops/s and latency percentiles, beside a raw
TCP echo server measured in the same run. Three kinds of run, --duration
each: the echo baseline, the gateway without nonce= (unsigned grants) and
with a fresh nonce= on every CHECKOUT (signed grants), interleaved in
--rounds rounds so that load from other work weighs on all three alike;
then one client's PING and HEARTBEAT latency (--duration split in two).

Each gateway run also reports what it cost: CPU microseconds per request
of the gateway process, of each plugin process and of this load
generator (the processes' own CPU time, read from the admin API's
/metrics and from getrusage), and heap allocations per request of the
gateway and of each plugin. The admin API options say where /metrics is;
--no-cost skips it.

With --flexlm (a FlexLM-style vendor daemon's address) and --sentinel (a
Sentinel-style server's UDP address), the same cycle runs over those
protocols too (CHECKOUT -> HEARTBEAT -> CHECKIN frames; CHECKOUT ->
REFRESH -> RELEASE datagrams), each beside an echo of its own messages
(a raw TCP echo; a UDP echo), interleaved in the same rounds. Their CPU
figures count the gateway and that protocol's plugin.`
}

func (c *benchCommand) flags(e *env, fs *flag.FlagSet) {
	fs.StringVar(&c.server, "server", envOr(e, "LICENSEGW_SERVER", "localhost:1648"), "gateway `address` (env LICENSEGW_SERVER)")
	fs.IntVar(&c.clients, "clients", 64, "concurrent `clients`")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "how `long` each run lasts")
	fs.StringVar(&c.feature, "feature", "docviewer", "`feature` to cycle (needs as many free seats as clients)")
	fs.StringVar(&c.flexlm, "flexlm", "", "also load the FlexLM-style vendor daemon at this `address`, beside a TCP echo")
	fs.StringVar(&c.sentinel, "sentinel", "", "also load the Sentinel-style server at this UDP `address`, beside a UDP echo")
	fs.IntVar(&c.rounds, "rounds", 5, "split each kind of run into this many `rounds`, interleaved")
	fs.BoolVar(&c.noEcho, "no-echo", false, "skip the echo baseline")
	fs.BoolVar(&c.noCost, "no-cost", false, "do not read the processes' CPU time and allocations from /metrics")
	c.admin.register(e, fs)
}

func (c *benchCommand) run(ctx context.Context, e *env, args []string) int {
	if len(args) > 0 {
		fmt.Fprintf(e.stderr, "licensegw bench: unexpected argument %q\n", args[0])
		return exitUsage
	}
	if c.rounds < 1 {
		fmt.Fprintln(e.stderr, "licensegw bench: --rounds must be at least 1")
		return exitUsage
	}
	var cost *costMeter
	if !c.noCost {
		cl, err := c.admin.client()
		if err != nil {
			return fail(e, "%v", err)
		}
		cost = &costMeter{metrics: cl.Metrics}
	}
	o := loadgen.Options{Addr: c.server, Clients: c.clients, Duration: c.duration / time.Duration(c.rounds), Feature: c.feature}
	kinds := c.kinds()
	for range c.rounds {
		for _, k := range kinds {
			if err := k.round(ctx, o, cost); err != nil {
				return fail(e, "%v", err)
			}
		}
	}
	reports := map[string]loadgen.Report{}
	for _, k := range kinds {
		r := loadgen.Merge(k.runs...)
		reports[k.name] = r
		fmt.Fprintln(e.stdout, r)
		switch {
		case k.echo:
			fmt.Fprintf(e.stdout, "        cpu µs/request: load generator + echo server %.1f\n", perRequest(k.cost.self.Seconds()*1e6, r.Ops))
		case cost != nil:
			fmt.Fprint(e.stdout, k.cost.only(k.plugin).perRequest(r.Ops))
		}
		if base, ok := reports[k.baseline]; ok && !k.echo && base.OpsPerSec > 0 {
			fmt.Fprintf(e.stdout, "        %s/%s throughput ratio: %.2f\n", r.Name, base.Name, r.OpsPerSec/base.OpsPerSec)
		}
	}
	o.Duration = c.duration
	l, err := loadgen.MeasureLatency(ctx, o)
	if err != nil {
		return fail(e, "%v", err)
	}
	fmt.Fprintln(e.stdout, l)
	return exitOK
}

// benchKind is one kind of run (an echo baseline, the gateway over one
// protocol) and what its rounds added up to.
type benchKind struct {
	name     string
	echo     bool                                                           // a baseline: only this process's CPU counts
	run      func(context.Context, loadgen.Options) (loadgen.Report, error) // one round
	plugin   string                                                         // the plugin whose CPU counts beside the gateway's
	baseline string                                                         // the echo kind its throughput is compared with
	runs     []loadgen.Report
	cost     costSample // summed over the rounds
}

// round runs the kind once and adds its requests and costs.
func (k *benchKind) round(ctx context.Context, o loadgen.Options, cost *costMeter) error {
	var before costSample
	var err error
	if cost != nil && !k.echo {
		if before, err = cost.sample(ctx); err != nil {
			return err
		}
	}
	self := selfCPU()
	r, err := k.run(ctx, o)
	if err != nil {
		return err
	}
	k.runs = append(k.runs, r)
	if cost == nil || k.echo {
		k.cost = k.cost.add(costSample{self: selfCPU() - self})
		return nil
	}
	after, err := cost.sample(ctx)
	if err != nil {
		return err
	}
	k.cost = k.cost.add(after.sub(before))
	return nil
}

func perRequest(v float64, ops int64) float64 {
	if ops <= 0 {
		return 0
	}
	return v / float64(ops)
}
