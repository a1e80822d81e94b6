package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/nats-io/nats.go"

	"github.com/licensegw/licensegw/gateway/events"
)

type eventsTailCommand struct {
	feature, vendor, kind, prefix string
	asJSON                        bool
	count                         int
	nats                          natsFlags
}

func (*eventsTailCommand) synopsis() string { return "print live events" }
func (*eventsTailCommand) usage() string    { return "events tail [options]" }
func (*eventsTailCommand) help() string {
	return "Prints the gateway's events as they happen, one line each (or their JSON),\nuntil interrupted or --count events were seen.\n\nThe embedded NATS server requires credentials: run beside the gateway, the\ncommand uses the read-only audit credentials the gateway wrote in its data\ndirectory (found through --config); elsewhere pass --creds FILE."
}

func (c *eventsTailCommand) flags(e *env, fs *flag.FlagSet) {
	fs.StringVar(&c.feature, "feature", "", "only this `feature`")
	fs.StringVar(&c.vendor, "vendor", "", "only this `vendor`")
	fs.StringVar(&c.kind, "kind", "", "only this `kind` (checkout, checkin, denied, queued, ...)")
	c.nats.register(e, fs)
	fs.StringVar(&c.prefix, "prefix", events.DefaultPrefix, "subject `prefix`")
	fs.BoolVar(&c.asJSON, "json", false, "print each event's JSON as received")
	fs.IntVar(&c.count, "count", 0, "stop after `n` events (0: until interrupted)")
}

func (c *eventsTailCommand) run(ctx context.Context, e *env, args []string) int {
	if len(args) > 0 {
		fmt.Fprintf(e.stderr, "licensegw events tail: unexpected argument %q\n", args[0])
		return exitUsage
	}
	if c.kind != "" && !events.Kind(c.kind).Valid() {
		return fail(e, "unknown event kind %q", c.kind)
	}
	subject := eventSubject(c.prefix, c.vendor, c.feature, c.kind)

	nc, err := c.nats.connect("licensegw events tail")
	if err != nil {
		return fail(e, "%v", err)
	}
	defer nc.Close()
	msgs := make(chan *nats.Msg, 1024)
	sub, err := nc.ChanSubscribe(subject, msgs)
	if err != nil {
		return fail(e, "subscribe %s: %v", subject, err)
	}
	defer sub.Unsubscribe()
	fmt.Fprintf(e.stderr, "listening on %s at %s\n", subject, c.nats.url)

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	seen := 0
	for {
		select {
		case <-ctx.Done():
			return exitOK
		case m := <-msgs:
			if c.asJSON {
				fmt.Fprintln(e.stdout, string(m.Data))
			} else {
				writeEventLine(e.stdout, m.Data)
			}
			seen++
			if c.count > 0 && seen >= c.count {
				return exitOK
			}
		}
	}
}

// eventSubject is the subscription for the given filters; empty filters
// are wildcards.
func eventSubject(prefix, vendor, feature, kind string) string {
	tok := func(s string) string {
		if s == "" {
			return "*"
		}
		return events.Token(s)
	}
	return prefix + ".events." + tok(vendor) + "." + tok(feature) + "." + tok(kind)
}

// writeEventLine prints one event readably: time, kind, pool, then the
// fields that apply as key=value.
func writeEventLine(w io.Writer, data []byte) {
	var ev events.Event
	if err := json.Unmarshal(data, &ev); err != nil {
		fmt.Fprintf(w, "(undecodable event: %v) %s\n", err, data)
		return
	}
	kv := map[string]string{}
	add := func(k, v string) {
		if v != "" {
			kv[k] = v
		}
	}
	add("lease", ev.Lease)
	add("ticket", ev.Ticket)
	add("user", ev.User)
	add("host", ev.Host)
	add("display", ev.Display)
	add("reason", ev.Reason)
	add("protocol", ev.Protocol)
	add("client", ev.Client)
	if ev.Count > 0 {
		kv["count"] = fmt.Sprint(ev.Count)
	}
	if ev.HeldMS != nil {
		kv["held"] = fmt.Sprintf("%.1fs", float64(*ev.HeldMS)/1000)
	}
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	var sb strings.Builder
	for _, k := range sorted(keys) {
		sb.WriteString(" " + k + "=" + kv[k])
	}
	fmt.Fprintf(w, "%s %-9s %s/%s v%s in_use=%d/%d queued=%d%s\n",
		ev.Time.UTC().Format("2006-01-02T15:04:05.000Z"), ev.Kind, ev.Vendor, ev.Feature, ev.Version,
		ev.InUse, ev.Seats, ev.Queued, sb.String())
}

func sorted(s []string) []string {
	sort.Strings(s)
	return s
}
