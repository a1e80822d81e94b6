package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/licensegw/licensegw/gateway/admin"
	"github.com/licensegw/licensegw/gateway/config"
	"github.com/licensegw/licensegw/gateway/node"
	"github.com/licensegw/licensegw/gateway/seats"
	"github.com/licensegw/licensegw/gateway/simulate"
)

// simulateCommand is `licensegw simulate`: the admin API replays the
// journal's demand under another configuration; this prints the outcome.
type simulateCommand struct {
	api                          adminFlags
	since, until, config, format string
	seats                        seatFlags
}

// seatFlags collects --seats feature=N, repeatable or comma-separated.
type seatFlags map[string]int

func (s *seatFlags) String() string { return "" }
func (s *seatFlags) Set(v string) error {
	if *s == nil {
		*s = seatFlags{}
	}
	for _, kv := range strings.Split(v, ",") {
		name, n, ok := strings.Cut(kv, "=")
		count, err := strconv.Atoi(n)
		if !ok || name == "" || err != nil || count < 0 {
			return fmt.Errorf("%q is not feature=seats", kv)
		}
		(*s)[name] = count
	}
	return nil
}

func (*simulateCommand) synopsis() string {
	return "replay recorded demand under other seat counts or a proposed configuration"
}
func (*simulateCommand) usage() string {
	return "simulate [options] (--config FILE | --seats FEATURE=N...)"
}
func (*simulateCommand) help() string {
	return "Replays the checkout requests recorded in the journal (who asked, when,\n" +
		"for how many seats, how long they held them) through the gateway's own\n" +
		"accounting engine under another configuration, and shows per feature what\n" +
		"would have been granted, queued and denied, and how long queues would have\n" +
		"made people wait, next to what happened. --seats changes the running\n" +
		"configuration's seat counts (every version of the feature); --config\n" +
		"simulates a whole proposed configuration file."
}

func (c *simulateCommand) flags(e *env, fs *flag.FlagSet) {
	// -config is the proposed configuration here, so the token is found
	// through LICENSEGW_CONFIG or ./config.hcl (adminFlags skips -config).
	fs.StringVar(&c.config, "config", "", "a proposed configuration `file` to simulate")
	c.api.register(e, fs)
	fs.StringVar(&c.since, "since", "30d", "count requests from `duration|date|time`")
	fs.StringVar(&c.until, "until", "", "count requests until this time (default now)")
	fs.Var(&c.seats, "seats", "`feature=N`: simulate the running configuration with N seats of feature (repeatable)")
	fs.StringVar(&c.format, "format", "table", "output `format`: table or json")
}

func (c *simulateCommand) run(ctx context.Context, e *env, args []string) int {
	if len(args) > 0 {
		fmt.Fprintf(e.stderr, "licensegw simulate: unexpected argument %q\n", args[0])
		return exitUsage
	}
	if (c.config == "") == (len(c.seats) == 0) {
		fmt.Fprintln(e.stderr, "licensegw simulate: give --config FILE or --seats FEATURE=N (one of the two)")
		return exitUsage
	}
	if c.format != "table" && c.format != "json" {
		fmt.Fprintf(e.stderr, "licensegw simulate: --format is table or json, not %q\n", c.format)
		return exitUsage
	}
	var cfg *seats.Config
	if c.config != "" {
		loaded, diags := config.Load(c.config)
		if diags.HasErrors() {
			code, _ := printConfigError(e, &node.ConfigError{Diags: diags, Files: loaded.Files()})
			return code
		}
		engine := loaded.Engine()
		cfg = &engine
	}
	body, err := admin.NewSimulateBody(c.since, c.until, cfg, c.seats)
	if err != nil {
		return fail(e, "%v", err)
	}
	cl, err := c.api.client()
	if err != nil {
		return fail(e, "%v", err)
	}
	res, err := cl.Simulate(ctx, body)
	if err != nil {
		return fail(e, "simulate: %v", err)
	}
	if c.format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(res)
		return exitOK
	}
	writeSimulation(e.stdout, res)
	return exitOK
}

// writeSimulation prints each feature's recorded and simulated outcomes
// side by side ("recorded -> simulated").
func writeSimulation(w io.Writer, res *simulate.Result) {
	fmt.Fprintf(w, "%d requests from %s, %d events read; each column is recorded -> simulated\n\n",
		res.Requests, res.Since.Format("2006-01-02 15:04Z"), res.EventsRead)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FEATURE\tSEATS\tREQUESTS\tGRANTED\tQUEUED\tDENIED\tFROM QUEUE\tDEQUEUED\tAVG WAIT\tMAX WAIT\tPEAK IN USE\t")
	for _, f := range res.Features {
		r, s := f.Recorded, f.Simulated
		seatsCol := strconv.Itoa(f.Seats)
		if f.Missing {
			seatsCol = "(missing)"
		}
		pair := func(a, b int) string { return fmt.Sprintf("%d -> %d", a, b) }
		secs := func(a, b float64) string { return fmt.Sprintf("%.0fs -> %.0fs", a, b) }
		fmt.Fprintf(tw, "%s/%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", f.Vendor, f.Feature, seatsCol, r.Requests,
			pair(r.Granted, s.Granted), pair(r.Queued, s.Queued), pair(r.Denied, s.Denied),
			pair(r.GrantedQueued, s.GrantedQueued), pair(r.DequeuedUnmet, s.DequeuedUnmet),
			secs(r.QueueWaitAvg, s.QueueWaitAvg), secs(r.QueueWaitMax, s.QueueWaitMax), pair(r.PeakInUse, s.PeakInUse))
	}
	tw.Flush()
	for _, n := range res.Notes {
		fmt.Fprintln(w, "\nnote: "+n)
	}
}
