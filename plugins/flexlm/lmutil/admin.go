package lmutil

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/licensegw/licensegw/plugins/flexlm"
	"github.com/licensegw/licensegw/plugins/flexlm/client"
)

// dial connects to the first reachable server of spec (lmgrd only).
func (r *runner) dial(ctx context.Context, spec, program string) (*client.Client, error) {
	servers, err := client.ParseServers(spec)
	if err != nil {
		return nil, err
	}
	var last error
	for _, a := range servers {
		c, err := client.DialLmgrd(ctx, a, client.Options{Program: program})
		if err == nil {
			return c, nil
		}
		errno, reason := describe(err)
		last = fmt.Errorf("%s: Cannot connect to license server system. (-15,570:%d \"%s\")", a.Host, errno, reason)
	}
	return nil, last
}

func (r *runner) lmremove(args []string) int {
	fs := r.flags("lmremove")
	spec := fs.String("c", r.defaultSpec(""), "licence server(s)")
	byHandle := fs.Bool("h", false, "remove by handle: feature host port handle")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	rest := fs.Args()
	ctx, cancel := context.WithTimeout(r.ctx, r.opts.Timeout)
	defer cancel()
	c, err := r.dial(ctx, *spec, "lmremove")
	if err != nil {
		fmt.Fprintln(r.err, err)
		return 1
	}
	defer c.Close()
	var n int
	switch {
	case *byHandle && len(rest) == 4:
		handle, perr := strconv.Atoi(rest[3])
		if perr != nil {
			fmt.Fprintf(r.err, "lmremove: bad handle %q\n", rest[3])
			return 2
		}
		n, err = c.Remove(ctx, handle)
	case !*byHandle && (len(rest) == 3 || len(rest) == 4):
		display := ""
		if len(rest) == 4 {
			display = rest[3]
		}
		n, err = c.RemoveUser(ctx, rest[0], rest[1], rest[2], display)
	default:
		fmt.Fprintln(r.err, "usage: lmremove [-c ...] feature user host display\n       lmremove [-c ...] -h feature host port handle")
		return 2
	}
	if err != nil {
		fmt.Fprintf(r.err, "lmremove: %v\n", err)
		return 1
	}
	fmt.Fprintf(r.out, "lmremove: %d license(s) removed\n", n)
	return 0
}

func (r *runner) lmreread(args []string) int {
	fs := r.flags("lmreread")
	spec := fs.String("c", r.defaultSpec(""), "licence server(s)")
	fs.String("vendor", "", "accepted for compatibility; every vendor is reread")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx, cancel := context.WithTimeout(r.ctx, r.opts.Timeout)
	defer cancel()
	c, err := r.dial(ctx, *spec, "lmreread")
	if err != nil {
		fmt.Fprintln(r.err, err)
		return 1
	}
	defer c.Close()
	msg, err := c.Reread(ctx)
	if err != nil {
		fmt.Fprintf(r.err, "lmreread: %v\n", err)
		return 1
	}
	fmt.Fprintf(r.out, "lmreread successful (%s)\n", msg)
	return 0
}

func (r *runner) lmdown(args []string) int {
	fs := r.flags("lmdown")
	spec := fs.String("c", r.defaultSpec(""), "licence server(s)")
	fs.Bool("q", false, "accepted for compatibility: lmutil never prompts")
	fs.Bool("force", false, "accepted for compatibility")
	fs.String("vendor", "", "accepted for compatibility")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx, cancel := context.WithTimeout(r.ctx, r.opts.Timeout)
	defer cancel()
	c, err := r.dial(ctx, *spec, "lmdown")
	if err != nil {
		fmt.Fprintln(r.err, err)
		return 1
	}
	defer c.Close()
	msg, err := c.Down(ctx)
	if err != nil {
		fmt.Fprintf(r.err, "lmdown: %v\n", err)
		return 1
	}
	fmt.Fprintf(r.out, "Shutting down vendor daemon on %s: %s\n1 license server shut down\n", c.Address(), msg)
	return 0
}

func (r *runner) lmhostid(args []string) int {
	fs := r.flags("lmhostid")
	hostname := fs.Bool("hostname", false, "print the host name id")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *hostname {
		h, err := os.Hostname()
		if err != nil {
			fmt.Fprintf(r.err, "lmhostid: %v\n", err)
			return 1
		}
		fmt.Fprintf(r.out, "The host ID of this machine is \"HOSTNAME=%s\"\n", h)
		return 0
	}
	ids := hostIDs()
	if len(ids) == 0 {
		fmt.Fprintln(r.err, "lmhostid: no network interface with a hardware address")
		return 1
	}
	fmt.Fprintf(r.out, "The host ID of this machine is \"%s\"\n", strings.Join(ids, " "))
	return 0
}

// hostIDs are the hardware addresses of the up, non-loopback interfaces,
// as 12 hex digits (FlexLM's Ethernet host id).
func hostIDs() []string {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var out []string
	for _, i := range ifs {
		if i.Flags&net.FlagLoopback != 0 || len(i.HardwareAddr) != 6 {
			continue
		}
		out = append(out, strings.ReplaceAll(i.HardwareAddr.String(), ":", ""))
	}
	return out
}

func (r *runner) lmver(args []string) int {
	fs := r.flags("lmver")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fmt.Fprintf(r.out, "%s\nflexlm plugin v%s, wire protocol 1, %s\n", toolLine(), flexlm.Version, arch())
	return 0
}
