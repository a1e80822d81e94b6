package cli

import (
	"context"
	"encoding/json"
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

func runEvents(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] != "tail" {
		fmt.Fprintln(e.stderr, "Usage: licensegw events tail [--feature F] [--vendor V] [--kind K] [--nats URL] [--json] [--count N]")
		return exitUsage
	}
	fs := newFlags(e, "events tail", "[--feature F] [--vendor V] [--kind K] [--nats URL] [--json] [--count N]")
	feature := fs.String("feature", "", "only this `feature`")
	vendor := fs.String("vendor", "", "only this `vendor`")
	kind := fs.String("kind", "", "only this `kind` (checkout, checkin, denied, queued, ...)")
	defURL := e.getenv("LICENSEGW_NATS")
	if defURL == "" {
		defURL = "nats://127.0.0.1:4222"
	}
	url := fs.String("nats", defURL, "NATS `url` (env LICENSEGW_NATS)")
	prefix := fs.String("prefix", events.DefaultPrefix, "subject `prefix`")
	asJSON := fs.Bool("json", false, "print each event's JSON as received")
	count := fs.Int("count", 0, "stop after `n` events (0: until interrupted)")
	if st, ok := parse(fs, args[1:]); !ok {
		return st
	}
	if *kind != "" && !events.Kind(*kind).Valid() {
		return fail(e, "unknown event kind %q", *kind)
	}
	subject := eventSubject(*prefix, *vendor, *feature, *kind)

	nc, err := nats.Connect(*url, nats.Name("licensegw events tail"))
	if err != nil {
		return fail(e, "connect to NATS at %s: %v", *url, err)
	}
	defer nc.Close()
	msgs := make(chan *nats.Msg, 1024)
	sub, err := nc.ChanSubscribe(subject, msgs)
	if err != nil {
		return fail(e, "subscribe %s: %v", subject, err)
	}
	defer sub.Unsubscribe()
	fmt.Fprintf(e.stderr, "listening on %s at %s\n", subject, *url)

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	seen := 0
	for {
		select {
		case <-ctx.Done():
			return exitOK
		case m := <-msgs:
			if *asJSON {
				fmt.Fprintln(e.stdout, string(m.Data))
			} else {
				writeEventLine(e.stdout, m.Data)
			}
			seen++
			if *count > 0 && seen >= *count {
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
