package lmutil

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/licensegw/licensegw/plugins/flexlm"
	"github.com/licensegw/licensegw/plugins/flexlm/client"
	"github.com/licensegw/licensegw/plugins/flexlm/lmstat"
)

func (r *runner) lmstat(args []string) int {
	fs := r.flags("lmstat")
	spec := fs.String("c", "", "licence search path: port@host, a triad port@h1,port@h2,port@h3, or a licence file; several separated by "+string(client.ListSeparator)+" (default: $VENDOR_LICENSE_FILE with -S, $LM_LICENSE_FILE, else 27000@localhost)")
	all := fs.Bool("a", false, "show everything")
	allToo := fs.Bool("A", false, "same as -a")
	feature := fs.String("f", "", "show the users of one feature")
	table := fs.Bool("i", false, "show the feature table")
	vendor := fs.String("S", "", "show only this vendor daemon's features")
	version := fs.Bool("v", false, "print lmstat's version")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *version {
		lmstat.WriteVersion(r.out, toolVersion(), 1, arch())
		return 0
	}
	if *spec == "" {
		*spec = r.defaultSpec(*vendor)
	}
	systems, err := client.ParseSearchPath(*spec)
	if err != nil {
		fmt.Fprintf(r.err, "lmstat: %v\n", err)
		return 2
	}
	opts := lmstat.Options{All: *all || *allToo, Feature: *feature, Features: *table}
	status := 0
	for i, sys := range systems {
		if i > 0 {
			fmt.Fprintln(r.out)
		}
		var err error
		if len(sys) == 1 {
			err = r.statusOf(sys[0], *vendor, opts)
		} else {
			err = r.statusOfSystem(sys, *vendor, opts)
		}
		if err != nil {
			status = 1
		}
	}
	return status
}

func toolVersion() string { return flexlm.Version }

// statusOf prints one server's status.
func (r *runner) statusOf(a client.Address, vendor string, opts lmstat.Options) error {
	ctx, cancel := context.WithTimeout(r.ctx, r.opts.Timeout)
	defer cancel()
	st := &lmstat.Status{Tool: toolLine(), Now: r.opts.Now(), Location: r.opts.Location, Host: a.Host, Port: a.Port}
	c, err := client.DialLmgrd(ctx, a, client.Options{Vendor: vendor, Program: "lmstat"})
	if err != nil {
		lmstat.WriteHeader(r.out, st)
		errno, reason := describe(err)
		lmstat.CannotConnect(r.out, a.Host, errno, reason)
		return err
	}
	defer c.Close()
	si, err := c.ServerInfo(ctx)
	if err != nil {
		lmstat.WriteHeader(r.out, st)
		errno, reason := describe(err)
		lmstat.CannotConnect(r.out, a.Host, errno, reason)
		return err
	}
	st.Up, st.Master = true, true
	return r.writeStatus(ctx, c, si, st, a, vendor, opts)
}

// statusOfSystem prints the status of a redundant system (a triad): a
// line for each of its servers, then the features as the first server
// that answers reports them. That server is marked MASTER: it is the one
// this status comes from (every node of a licensegw cluster serves the
// same licences). The system is up when one server answers.
func (r *runner) statusOfSystem(sys client.System, vendor string, opts lmstat.Options) error {
	st := &lmstat.Status{Tool: toolLine(), Now: r.opts.Now(), Location: r.opts.Location, System: sys.String()}
	var (
		primary   *client.Client
		primaryAt client.Address
		info      *client.ServerInfo
		lastErr   error
	)
	for _, a := range sys {
		srv := lmstat.Server{Host: a.Host}
		ctx, cancel := context.WithTimeout(r.ctx, r.opts.Timeout)
		c, err := client.DialLmgrd(ctx, a, client.Options{Vendor: vendor, Program: "lmstat"})
		var si *client.ServerInfo
		if err == nil {
			si, err = c.ServerInfo(ctx)
		}
		cancel()
		switch {
		case err != nil:
			lastErr = fmt.Errorf("%s: %w", a, err)
			if c != nil {
				c.Close()
			}
		case primary == nil:
			primary, primaryAt, info = c, a, si
			srv = lmstat.Server{Host: si.Host, Up: true, Master: true, Version: si.Version}
		default:
			srv = lmstat.Server{Host: si.Host, Up: true, Version: si.Version}
			c.Close()
		}
		st.Servers = append(st.Servers, srv)
	}
	if primary == nil {
		lmstat.WriteHeader(r.out, st)
		errno, reason := describe(lastErr)
		lmstat.CannotConnect(r.out, sys.String(), errno, reason)
		return lastErr
	}
	defer primary.Close()
	ctx, cancel := context.WithTimeout(r.ctx, r.opts.Timeout)
	defer cancel()
	st.Up, st.Master = true, true
	return r.writeStatus(ctx, primary, info, st, primaryAt, vendor, opts)
}

// writeStatus completes st with what the server c (at a) reports and
// prints it.
func (r *runner) writeStatus(ctx context.Context, c *client.Client, si *client.ServerInfo, st *lmstat.Status, a client.Address, vendor string, opts lmstat.Options) error {
	st.Location, st.ServerVersion = si.Location, si.Version
	st.Host = si.Host
	st.Port = si.Port
	st.LicenseFiles = si.LicenseFiles
	if len(st.LicenseFiles) == 0 {
		st.LicenseFiles = []string{a.String()}
	}
	anyUp := false
	for _, v := range si.Vendors {
		if vendor != "" && v.Name != vendor {
			continue
		}
		st.Vendors = append(st.Vendors, lmstat.Vendor{Name: v.Name, Up: v.Up, Version: si.Version})
		anyUp = anyUp || v.Up
	}
	var statusErr error
	if anyUp && (opts.All || opts.Feature != "" || opts.Features) {
		features, err := c.Status(ctx, opts.Feature)
		if err != nil {
			statusErr = err
		}
		for _, f := range features {
			if vendor != "" && f.Vendor != vendor {
				continue
			}
			st.Features = append(st.Features, convert(f))
		}
	}
	if err := lmstat.Write(r.out, st, opts); err != nil {
		return err
	}
	if statusErr != nil {
		fmt.Fprintf(r.out, "Error getting status: %v\n", statusErr)
		return statusErr
	}
	return nil
}

// convert maps the server's status of a pool onto lmstat's model.
func convert(f client.FeatureStatus) lmstat.Feature {
	out := lmstat.Feature{Name: f.Feature, Vendor: f.Vendor, Version: f.Version, Issued: f.Seats, InUse: f.InUse}
	if !f.Expiry.IsZero() {
		// The gateway's expiry is the end of the last day (the start of the
		// next, in UTC); lmstat shows the last day.
		out.Expiry = f.Expiry.UTC().Add(-time.Second)
	}
	// Reserved seats nobody of theirs uses count as in use, as in FlexLM.
	for _, res := range f.Reservations {
		if free := res.Seats - res.InUse; free > 0 {
			out.InUse += free
			out.Reservations = append(out.Reservations, lmstat.Reservation{Count: free, Type: strings.ToUpper(res.Kind), Name: res.Name})
		}
	}
	for _, l := range f.Leases {
		// A client that names no display (other protocols) shows its host,
		// as FlexLM does.
		display := l.Display
		if display == "" {
			display = l.Host
		}
		out.Users = append(out.Users, lmstat.User{User: l.User, Host: l.Host, Display: display,
			Version: f.Version, Handle: l.Handle, Start: l.Start, Count: l.Count})
	}
	for _, t := range f.Tickets {
		display := t.Display
		if display == "" {
			display = t.Host
		}
		out.Queued = append(out.Queued, lmstat.Queued{User: t.User, Host: t.Host, Display: display,
			Version: f.Version, Handle: t.Handle, Count: t.Count})
	}
	return out
}

// describe gives the errno and words of a connection failure, for the
// "Cannot connect" line.
func describe(err error) (int, string) {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return int(errno), capitalize(errno.Error())
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return 0, "Unknown host " + dnsErr.Name
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return int(syscall.ETIMEDOUT), "Connection timed out"
	}
	var se *client.ServerError
	if errors.As(err, &se) {
		return -se.Code, se.Message
	}
	return 0, capitalize(err.Error())
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
