package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/licensegw/licensegw/plugins/concurrentlm/loadgen"
)

type benchCommand struct {
	server, feature string
	clients         int
	duration        time.Duration
	noEcho, noCost  bool
	admin           adminFlags
}

func (*benchCommand) synopsis() string {
	return "load-test a gateway over concurrent-lm, beside a TCP echo baseline"
}
func (*benchCommand) usage() string { return "bench [options]" }
func (*benchCommand) help() string {
	return `Runs CHECKOUT -> HEARTBEAT -> CHECKIN cycles from many clients against a
running gateway and reports ops/s and latency percentiles, beside a raw
TCP echo server measured in the same run. Three runs of --duration each:
the echo baseline, the gateway without nonce= (unsigned grants) and with a
fresh nonce= on every CHECKOUT (signed grants); then one client's PING and
HEARTBEAT latency (--duration split in two).

Each gateway run also reports what it cost: CPU microseconds per request
of the gateway process, of each plugin process and of this load
generator (the processes' own CPU time, read from the admin API's
/metrics and from getrusage), and heap allocations per request of the
gateway and of each plugin. The admin API options say where /metrics is;
--no-cost skips it.`
}

func (c *benchCommand) flags(e *env, fs *flag.FlagSet) {
	fs.StringVar(&c.server, "server", envOr(e, "LICENSEGW_SERVER", "localhost:1648"), "gateway `address` (env LICENSEGW_SERVER)")
	fs.IntVar(&c.clients, "clients", 64, "concurrent `clients`")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "how `long` each run lasts")
	fs.StringVar(&c.feature, "feature", "docviewer", "`feature` to cycle (needs as many free seats as clients)")
	fs.BoolVar(&c.noEcho, "no-echo", false, "skip the echo baseline")
	fs.BoolVar(&c.noCost, "no-cost", false, "do not read the processes' CPU time and allocations from /metrics")
	c.admin.register(e, fs)
}

func (c *benchCommand) run(ctx context.Context, e *env, args []string) int {
	if len(args) > 0 {
		fmt.Fprintf(e.stderr, "licensegw bench: unexpected argument %q\n", args[0])
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
	o := loadgen.Options{Addr: c.server, Clients: c.clients, Duration: c.duration, Feature: c.feature}
	var echo loadgen.Report
	if !c.noEcho {
		before := selfCPU()
		r, err := loadgen.Echo(ctx, o)
		if err != nil {
			return fail(e, "%v", err)
		}
		echo = r
		fmt.Fprintln(e.stdout, r)
		fmt.Fprintf(e.stdout, "        cpu µs/request: load generator + echo server %.1f\n", perRequest((selfCPU()-before).Seconds()*1e6, r.Ops))
	}
	for _, signed := range []bool{false, true} {
		o.Nonce = signed
		if err := c.gatewayRun(ctx, e.stdout, o, cost, echo); err != nil {
			return fail(e, "%v", err)
		}
	}
	l, err := loadgen.MeasureLatency(ctx, o)
	if err != nil {
		return fail(e, "%v", err)
	}
	fmt.Fprintln(e.stdout, l)
	return exitOK
}

// gatewayRun runs one load against the gateway and prints its report, its
// cost per request when cost is set, and its ratio to echo when there is one.
func (c *benchCommand) gatewayRun(ctx context.Context, w io.Writer, o loadgen.Options, cost *costMeter, echo loadgen.Report) error {
	var before costSample
	if cost != nil {
		var err error
		if before, err = cost.sample(ctx); err != nil {
			return err
		}
	}
	r, err := loadgen.Run(ctx, o)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, r)
	if cost != nil {
		after, err := cost.sample(ctx)
		if err != nil {
			return err
		}
		fmt.Fprint(w, after.sub(before).perRequest(r.Ops))
	}
	if echo.OpsPerSec > 0 {
		fmt.Fprintf(w, "        %s/echo throughput ratio: %.2f\n", r.Name, r.OpsPerSec/echo.OpsPerSec)
	}
	return nil
}

func perRequest(v float64, ops int64) float64 {
	if ops <= 0 {
		return 0
	}
	return v / float64(ops)
}
