package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/licensegw/licensegw/gateway/report"
)

// reportCommand is `licensegw report usage|denials|peaks`: the admin API
// runs the report over the journal; this prints it.
type reportCommand struct {
	kind             string
	api              adminFlags
	since, until, by string
	retry, format    string
}

func (c *reportCommand) synopsis() string {
	return map[string]string{
		report.KindUsage:   "peak and average use, seat-hours, utilisation and queue waits per feature",
		report.KindDenials: "denials per feature, split into true denials and retries",
		report.KindPeaks:   "each day's peak use per feature",
	}[c.kind]
}
func (c *reportCommand) usage() string { return "report " + c.kind + " [options]" }
func (c *reportCommand) help() string {
	return "Reads the whole event journal (through the admin API) and reports on the\n" +
		"range --since..--until. --since and --until take a duration back from now\n" +
		"(30d, 12h), a date (2026-11-01, UTC) or an RFC 3339 time. --by splits the\n" +
		"rows by any of feature, user, host, group, protocol. A denial followed by\n" +
		"a grant of the same feature to the same user within --retry is a retry;\n" +
		"otherwise it is a true denial."
}

func (c *reportCommand) flags(e *env, fs *flag.FlagSet) {
	c.api.register(e, fs)
	fs.StringVar(&c.since, "since", "30d", "start of the range: `duration|date|time`")
	fs.StringVar(&c.until, "until", "", "end of the range (default now)")
	fs.StringVar(&c.by, "by", "feature", "split rows by `dims`: comma-separated feature,user,host,group,protocol")
	fs.StringVar(&c.retry, "retry", "10m", "retry `window`: a grant this soon after a denial makes it a retry")
	fs.StringVar(&c.format, "format", "table", "output `format`: table, csv or json")
}

func (c *reportCommand) run(ctx context.Context, e *env, args []string) int {
	if len(args) > 0 {
		fmt.Fprintf(e.stderr, "licensegw report %s: unexpected argument %q\n", c.kind, args[0])
		return exitUsage
	}
	if !slices.Contains([]string{"table", "csv", "json"}, c.format) {
		fmt.Fprintf(e.stderr, "licensegw report: --format is table, csv or json, not %q\n", c.format)
		return exitUsage
	}
	params := url.Values{"since": {c.since}, "by": {c.by}, "retry": {c.retry}}
	if c.until != "" {
		params.Set("until", c.until)
	}
	cl, err := c.api.client()
	if err != nil {
		return fail(e, "%v", err)
	}
	res, err := cl.Report(ctx, c.kind, params)
	if err != nil {
		return fail(e, "report %s: %v", c.kind, err)
	}
	if err := writeReport(e.stdout, res, c.format); err != nil {
		return fail(e, "%v", err)
	}
	return exitOK
}

// writeReport prints res as a table, CSV or JSON.
func writeReport(w io.Writer, res *report.Result, format string) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	header, rows := reportTable(res)
	if format == "csv" {
		cw := csv.NewWriter(w)
		_ = cw.Write(header)
		_ = cw.WriteAll(rows)
		return cw.Error()
	}
	fmt.Fprintf(w, "%s from %s to %s, %d events read, %d in range\n\n", res.Kind,
		res.Since.Format("2006-01-02 15:04Z"), res.Until.Format("2006-01-02 15:04Z"), res.EventsRead, res.EventsInRange)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.ToUpper(strings.Join(header, "\t"))+"\t")
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t")+"\t")
	}
	return tw.Flush()
}

// reportTable is res's columns and rows, as text.
func reportTable(res *report.Result) ([]string, [][]string) {
	keyCols := res.By
	key := func(k report.Key) []string {
		out := make([]string, 0, len(keyCols))
		for _, d := range keyCols {
			out = append(out, map[string]string{
				report.ByFeature: k.Vendor + "/" + k.Feature, report.ByUser: k.User, report.ByHost: k.Host,
				report.ByGroup: k.Group, report.ByProtocol: k.Protocol,
			}[d])
		}
		return out
	}
	var rows [][]string
	switch res.Kind {
	case report.KindUsage:
		for _, u := range res.Usage {
			rows = append(rows, append(key(u.Key), itoa(u.Seats), strconv.Itoa(u.Peak), optTime(u.PeakAt),
				ftoa(u.Average), ftoa(u.SeatHours), optFloat(u.Utilisation), strconv.Itoa(u.Checkouts),
				strconv.Itoa(u.Denials), optFloat(u.QueueWaitP50), optFloat(u.QueueWaitP95)))
		}
		return append(slices.Clone(keyCols), "seats", "peak", "peak_at", "average", "seat_hours", "utilisation_pct",
			"checkouts", "denials", "queue_wait_p50_s", "queue_wait_p95_s"), rows
	case report.KindDenials:
		for _, d := range res.Denials {
			var reasons []string
			for _, r := range slices.Sorted(mapKeysOf(d.Reasons)) {
				reasons = append(reasons, r+"="+strconv.Itoa(d.Reasons[r]))
			}
			rows = append(rows, append(key(d.Key), strconv.Itoa(d.Denials), strconv.Itoa(d.TrueDenials),
				strconv.Itoa(d.Retries), strings.Join(reasons, " ")))
		}
		return append(slices.Clone(keyCols), "denials", "true_denials", "retries", "reasons"), rows
	default: // peaks
		for _, p := range res.Peaks {
			rows = append(rows, append(key(p.Key), p.Day, strconv.Itoa(p.Peak), p.At.Format("15:04:05Z"), itoa(p.Seats)))
		}
		return append(slices.Clone(keyCols), "day", "peak", "at", "seats"), rows
	}
}

func mapKeysOf(m map[string]int) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func itoa(n int) string {
	if n == 0 {
		return "-"
	}
	return strconv.Itoa(n)
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func optFloat(f *float64) string {
	if f == nil {
		return "-"
	}
	return ftoa(*f)
}

func optTime(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}
