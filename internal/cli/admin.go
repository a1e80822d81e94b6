package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/licensegw/licensegw/gateway/admin"
)

type statusCommand struct {
	api     adminFlags
	feature string
	asJSON  bool
}

func (*statusCommand) synopsis() string { return "show features, leases, queues and plugins" }
func (*statusCommand) usage() string    { return "status [options]" }
func (*statusCommand) help() string {
	return "Shows the running gateway's features (seats, use, queues, expiry), its\nleases and queued requests, and its plugins, from the admin API."
}

func (c *statusCommand) flags(e *env, fs *flag.FlagSet) {
	c.api.register(e, fs)
	fs.BoolVar(&c.asJSON, "json", false, "print the API's JSON")
	fs.StringVar(&c.feature, "feature", "", "only this `feature`")
}

func (c *statusCommand) run(ctx context.Context, e *env, args []string) int {
	if len(args) > 0 {
		fmt.Fprintf(e.stderr, "licensegw status: unexpected argument %q\n", args[0])
		return exitUsage
	}
	cl, err := c.api.client()
	if err != nil {
		return fail(e, "%v", err)
	}
	st, err := cl.Status(ctx)
	if err != nil {
		return fail(e, "%v", err)
	}
	if c.feature != "" {
		kept := st.Features[:0]
		for _, f := range st.Features {
			if f.Name == c.feature {
				kept = append(kept, f)
			}
		}
		st.Features = kept
	}
	if c.asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(st)
		return exitOK
	}
	writeStatus(e.stdout, st, time.Now())
	return exitOK
}

// writeStatus prints the status as tables: features, leases, queues, plugins.
func writeStatus(w io.Writer, st *admin.Status, now time.Time) {
	fmt.Fprintf(w, "Gateway %s, licensegw %s, up %s\n\n", st.Gateway, st.Version, now.Sub(st.Started).Round(time.Second))
	if st.Cluster != nil {
		writeCluster(w, st.Cluster)
	}

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FEATURE\tVENDOR\tVERSION\tSEATS\tIN USE\tQUEUED\tRESERVED\tEXPIRES\t")
	for _, f := range st.Features {
		name := f.Name
		if f.Retired {
			name += " (retired)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\t\n", name, f.Vendor, f.Version, f.Seats, f.InUse, f.Queued, f.Reserved, expiryMark(f))
	}
	tw.Flush()

	var leases []admin.Lease
	var tickets []admin.Ticket
	for _, f := range st.Features {
		leases = append(leases, f.Leases...)
		tickets = append(tickets, f.Tickets...)
	}
	fmt.Fprintf(w, "\nLeases: %d\n", len(leases))
	if len(leases) > 0 {
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "LEASE\tFEATURE\tVERSION\tCOUNT\tUSER\tHOST\tPROTOCOL\tSINCE\tEXPIRES\t")
		for _, l := range leases {
			exp := l.Expires.Local().Format("15:04:05")
			if l.Borrowed {
				exp = "borrowed until " + l.Expires.Local().Format("2006-01-02 15:04")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t\n", l.ID, l.Feature, l.Version, l.Count, l.User, l.Host,
				l.Protocol, l.Granted.Local().Format("2006-01-02 15:04:05"), exp)
		}
		tw.Flush()
	}
	if len(tickets) > 0 {
		fmt.Fprintf(w, "\nQueued: %d\n", len(tickets))
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "TICKET\tFEATURE\tPOSITION\tCOUNT\tUSER\tHOST\tSINCE\t")
		for _, t := range tickets {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%s\t\n", t.ID, t.Feature, t.Position, t.Count, t.User, t.Host, t.Queued.Local().Format("15:04:05"))
		}
		tw.Flush()
	}
	if len(st.Plugins) > 0 {
		fmt.Fprintf(w, "\nPlugins: %d\n", len(st.Plugins))
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "PLUGIN\tPROTOCOL\tVERSION\tSTATE\tPID\tRESTARTS\tLISTEN\t")
		for _, p := range st.Plugins {
			var ls []string
			for name, a := range p.Listeners {
				ls = append(ls, name+"="+a)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\t\n", p.Name, p.Protocol, p.Version, p.State, p.PID, p.Restarts, strings.Join(sorted(ls), " "))
		}
		tw.Flush()
	}
}

// expiry shows when a licence ends as the last day it is usable: an expiry
// of "2027-12-31" in the configuration ends at the first instant of
// 2028-01-01 UTC, and is shown as 2027-12-31, like the configuration and
// lmstat show it. An expiry within a day shows its time.
func expiry(t *time.Time) string {
	if t == nil {
		return "permanent"
	}
	u := t.UTC()
	if u.Hour() == 0 && u.Minute() == 0 && u.Second() == 0 && u.Nanosecond() == 0 {
		return u.Add(-time.Nanosecond).Format("2006-01-02")
	}
	return u.Format("2006-01-02 15:04Z")
}

type removeCommand struct{ api adminFlags }

func (*removeCommand) synopsis() string { return "remove (release) a lease as an administrator" }
func (*removeCommand) usage() string    { return "remove [options] LEASE..." }
func (*removeCommand) help() string {
	return "Releases each LEASE as an administrator; its holder is told the lease\nis gone (reason=removed) at its next heartbeat."
}
func (c *removeCommand) flags(e *env, fs *flag.FlagSet) { c.api.register(e, fs) }

func (c *removeCommand) run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, "licensegw remove: which lease?")
		return exitUsage
	}
	cl, err := c.api.client()
	if err != nil {
		return fail(e, "%v", err)
	}
	status := exitOK
	for _, id := range args {
		err := cl.RemoveLease(ctx, id)
		switch {
		case err == nil:
			fmt.Fprintf(e.stdout, "removed %s\n", id)
		case errors.Is(err, admin.ErrNotFound):
			status = fail(e, "no lease %s", id)
		default:
			status = fail(e, "%v", err)
		}
	}
	return status
}

type reloadCommand struct{ api adminFlags }

func (*reloadCommand) synopsis() string { return "reread the configuration, keeping every lease" }
func (*reloadCommand) usage() string    { return "reload [options]" }
func (*reloadCommand) help() string {
	return "Asks the running gateway to reread its configuration (as SIGHUP does).\nLeases and queues are kept; an invalid configuration is refused and the\nrunning one stays."
}
func (c *reloadCommand) flags(e *env, fs *flag.FlagSet) { c.api.register(e, fs) }

func (c *reloadCommand) run(ctx context.Context, e *env, args []string) int {
	if len(args) > 0 {
		fmt.Fprintf(e.stderr, "licensegw reload: unexpected argument %q\n", args[0])
		return exitUsage
	}
	cl, err := c.api.client()
	if err != nil {
		return fail(e, "%v", err)
	}
	if err := cl.Reload(ctx); err != nil {
		return fail(e, "reload refused: %v", err)
	}
	fmt.Fprintln(e.stdout, "reloaded")
	return exitOK
}

// expiryMark is the EXPIRES column: the date, marked while the licence is
// within its warning period.
func expiryMark(f admin.Feature) string {
	if f.Expiring && f.Expiry != nil {
		return expiry(f.Expiry) + " (expiring in " + strconv.Itoa(int(time.Until(*f.Expiry).Hours()/24)) + "d)"
	}
	return expiry(f.Expiry)
}
