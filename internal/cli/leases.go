package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/licensegw/licensegw/gateway/admin"
)

// leasesCommand lists leases through the admin API's pages, so that a
// gateway with tens of thousands of leases never answers one huge request.
type leasesCommand struct {
	api             adminFlags
	feature, vendor string
	pageSize        int
	asJSON          bool
}

func (*leasesCommand) synopsis() string { return "list every lease (page by page from the admin API)" }
func (*leasesCommand) usage() string    { return "leases [options]" }
func (*leasesCommand) help() string {
	return "Lists the running gateway's leases in lease id order, fetching them from\nGET /v1/leases a page at a time."
}

func (c *leasesCommand) flags(e *env, fs *flag.FlagSet) {
	c.api.register(e, fs)
	fs.StringVar(&c.feature, "feature", "", "only this `feature`")
	fs.StringVar(&c.vendor, "vendor", "", "only this `vendor`")
	fs.IntVar(&c.pageSize, "page-size", admin.DefaultPage, fmt.Sprintf("leases per request (`n`, 1 to %d)", admin.MaxPage))
	fs.BoolVar(&c.asJSON, "json", false, "print one JSON array")
}

func (c *leasesCommand) run(ctx context.Context, e *env, args []string) int {
	if len(args) > 0 {
		fmt.Fprintf(e.stderr, "licensegw leases: unexpected argument %q\n", args[0])
		return exitUsage
	}
	if c.pageSize < 1 || c.pageSize > admin.MaxPage {
		fmt.Fprintf(e.stderr, "licensegw leases: -page-size is from 1 to %d\n", admin.MaxPage)
		return exitUsage
	}
	cl, err := c.api.client()
	if err != nil {
		return fail(e, "%v", err)
	}
	leases, err := cl.Leases(ctx, c.feature, c.vendor, c.pageSize)
	if err != nil {
		return fail(e, "%v", err)
	}
	if c.asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(leases)
		return exitOK
	}
	writeLeases(e.stdout, leases)
	return exitOK
}

func writeLeases(w io.Writer, leases []admin.Lease) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "LEASE\tVENDOR\tFEATURE\tVERSION\tCOUNT\tUSER\tHOST\tPROTOCOL\tSINCE\tEXPIRES\t")
	for _, l := range leases {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t\n", l.ID, l.Vendor, l.Feature, l.Version, l.Count,
			l.User, l.Host, l.Protocol, l.Granted.Local().Format("2006-01-02 15:04:05"), l.Expires.Local().Format("2006-01-02 15:04:05"))
	}
	tw.Flush()
	fmt.Fprintf(w, "%d leases\n", len(leases))
}
