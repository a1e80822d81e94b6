package flexlm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/licensegw/licensegw/plugins/flexlm/wire"
	"github.com/licensegw/licensegw/sdk"
)

func (c *conn) serverInfo(ctx context.Context, f *wire.Frame) error {
	s := c.s
	now := time.Now().In(s.st.location)
	zone, offset := now.Zone()
	fr := wire.New(wire.ServerInfoOK, f.ID).Str(wire.TServerHost, s.st.host).Int(wire.TPort, int64(s.lmgrdPort)).
		Str(wire.TServerVer, s.st.version).Str(wire.TZoneName, zone).Int(wire.TZoneOffset, int64(offset))
	for _, lf := range s.st.licenseFiles {
		fr.Str(wire.TLicenseFile, lf)
	}
	up := !s.isDown()
	// Vendors are listed as repeated (VENDOR, PORT, UP) fields, in order.
	names, _ := s.vendorNames(ctx, false)
	for _, v := range names {
		fr.Str(wire.TVendor, v).Int(wire.TPort, int64(s.vendorPort)).Bool(wire.TUp, up)
	}
	return c.send(fr)
}

func (c *conn) vendorPort(ctx context.Context, f *wire.Frame) error {
	want := f.GetStr(wire.TVendor)
	names, known := c.s.vendorNames(ctx, false)
	if known && want != "" && !slices.Contains(names, want) {
		names, known = c.s.vendorNames(ctx, true) // added by a reload since?
	}
	if !known && want != "" {
		// The gateway's features cannot be read now (a node cut off
		// from its cluster): the vendor daemon serves every vendor, and
		// its checkout answers whether this one's features are there.
		names = []string{want}
	}
	for _, v := range names {
		if want == "" || v == want {
			if c.s.isDown() {
				return c.fail(f.ID, wire.CodeVendorDown, "vendor daemon "+v+" is down")
			}
			return c.send(wire.New(wire.VendorPortOK, f.ID).Str(wire.TVendor, v).Int(wire.TPort, int64(c.s.vendorPort)))
		}
	}
	return c.fail(f.ID, wire.CodeNoFeature, fmt.Sprintf("no vendor daemon %q on this server", want))
}

func (c *conn) reread(ctx context.Context, f *wire.Frame) error {
	if !c.s.st.allowReread.allows(c.nc.RemoteAddr()) {
		return c.fail(f.ID, wire.CodeNotAllowed, c.s.st.allowReread.refusal("lmreread", "allow_reread"))
	}
	if err := c.s.seats.Reload(ctx); err != nil {
		if errors.Is(err, sdk.ErrUnavailable) {
			return c.seatsError(f.ID, err)
		}
		// Not a passing failure: the files do not load, and retrying
		// will not help until they are fixed. The running configuration
		// stays.
		return c.fail(f.ID, wire.CodeBadConfig, "configuration not reread, the running one stays: "+err.Error())
	}
	c.s.mu.Lock()
	restarted := c.s.down
	c.s.down = false
	c.s.mu.Unlock()
	msg := "configuration reread"
	if restarted {
		msg += "; vendor daemon started"
	}
	c.s.log.Info("lmreread", "addr", c.addr, "user", c.helloUser, "host", c.helloHost, "restarted", restarted)
	return c.send(wire.New(wire.OK, f.ID).Str(wire.TMessage, msg))
}

// shutdown is lmdown: the vendor daemon stops serving (its clients are
// disconnected and their licences given back) until lmreread. The plugin
// itself keeps running, so the gateway does not restart it.
func (c *conn) shutdown(f *wire.Frame) error {
	if !c.s.st.allowShutdown {
		return c.fail(f.ID, wire.CodeNotAllowed, "lmdown is disabled by this server's configuration (allow_shutdown = false); stop the gateway instead")
	}
	c.s.mu.Lock()
	c.s.down = true
	c.s.mu.Unlock()
	c.s.log.Info("lmdown: vendor daemon stopped", "addr", c.addr)
	err := c.send(wire.New(wire.OK, f.ID).Str(wire.TMessage, "vendor daemon shut down"))
	// Each client is told why it is cut off (ERROR -97, id 0): a client
	// library that reconnects after a restart must not after an lmdown.
	c.s.mu.Lock()
	var vendors []*conn
	for vc := range c.s.conns {
		if vc.role == roleVendor {
			vendors = append(vendors, vc)
		}
	}
	c.s.mu.Unlock()
	for _, vc := range vendors {
		vc.refuseDown()
	}
	return err
}

func (c *conn) status(ctx context.Context, f *wire.Frame) error {
	mark := c.s.handles.mark()
	q := sdk.StatusQuery{Vendor: f.GetStr(wire.TVendor), Feature: f.GetStr(wire.TFeature)}
	fs, err := c.s.seats.Status(ctx, q)
	if err != nil {
		return c.seatsError(f.ID, err)
	}
	live := map[string]bool{}
	// The answer is written in one go: a status of many leases is many
	// frames, and one write per frame would cost a system call each.
	var out []*wire.Frame
	for _, ft := range fs {
		fr := wire.New(wire.StatusFeature, f.ID).Str(wire.TFeature, ft.Feature).Str(wire.TVendor, ft.Vendor).
			Str(wire.TVersion, ft.Version).Int(wire.TSeats, int64(ft.Seats)).Int(wire.TInUse, int64(ft.InUse)).
			Int(wire.TQueued, int64(ft.Queued)).Str(wire.TDescription, ft.Description)
		if !ft.Expiry.IsZero() {
			fr.Int(wire.TExpires, ft.Expiry.Unix())
		}
		if !ft.Start.IsZero() {
			fr.Int(wire.TStartDate, ft.Start.Unix())
		}
		out = append(out, fr)
		for _, r := range ft.Reserved {
			out = append(out, wire.New(wire.StatusReservation, f.ID).Str(wire.TKind, r.Kind).Str(wire.TName, r.Name).
				Int(wire.TSeats, int64(r.Seats)).Int(wire.TInUse, int64(r.InUse)))
		}
		for _, l := range ft.Leases {
			live[l.Lease] = true
			n := c.s.handles.of(l.Lease)
			if l.Borrowed {
				// After a restart this is how a borrower finds its
				// licence again: its new handle is returnable.
				c.s.handles.setBorrowed(n, true)
			}
			out = append(out, wire.New(wire.StatusLease, f.ID).Int(wire.THandle, int64(n)).
				Str(wire.TLease, l.Lease).Str(wire.TUser, l.Client.User).Str(wire.THost, l.Client.Host).
				Str(wire.TDisplay, l.Client.Display).Str(wire.TProject, l.Client.Project).
				Int(wire.TStart, l.Granted.Unix()).Int(wire.TCount, int64(max(l.Count, 1))).
				Bool(wire.TBorrowed, l.Borrowed).Int(wire.TReserved, int64(l.Reserved)).
				Str(wire.TProtocol, l.Protocol))
		}
		for _, t := range ft.Tickets {
			live[t.Ticket] = true
			out = append(out, wire.New(wire.StatusTicket, f.ID).Int(wire.TTicket, int64(c.s.handles.of(t.Ticket))).
				Str(wire.TUser, t.Client.User).Str(wire.THost, t.Client.Host).Str(wire.TDisplay, t.Client.Display).
				Int(wire.TCount, int64(max(t.Count, 1))).Int(wire.TPosition, int64(t.Position)).
				Int(wire.TStart, t.Queued.Unix()))
		}
	}
	if q == (sdk.StatusQuery{}) {
		// A full status shows every live lease: numbers of leases that have
		// gone meanwhile (through other protocols) can be forgotten.
		c.s.handles.prune(mark, c.s.connHeld(live))
	}
	return c.sendAll(append(out, wire.New(wire.StatusEnd, f.ID).Int(wire.TCount, int64(len(fs)))))
}

// connHeld adds the ids connections hold to live, so that pruning never
// forgets a handle a client still uses.
func (s *server) connHeld(live map[string]bool) map[string]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.mu.Lock()
		for _, h := range c.leases {
			live[h.id] = true
		}
		for _, t := range c.tickets {
			live[t] = true
		}
		c.mu.Unlock()
	}
	return live
}

// remove is lmremove: by handle (-h), or by feature, user, host and display.
func (c *conn) remove(ctx context.Context, f *wire.Frame) error {
	if !c.s.st.allowRemove.allows(c.nc.RemoteAddr()) {
		return c.fail(f.ID, wire.CodeNotAllowed, c.s.st.allowRemove.refusal("lmremove", "allow_remove"))
	}
	var ids []string
	if f.Has(wire.THandle) {
		id, ok := c.s.handles.id(int(f.GetInt(wire.THandle)))
		if !ok {
			return c.fail(f.ID, wire.CodeNoHandle, fmt.Sprintf("no license with handle %d", f.GetInt(wire.THandle)))
		}
		ids = append(ids, id)
	} else {
		feature, user := f.GetStr(wire.TFeature), f.GetStr(wire.TUser)
		host, display := f.GetStr(wire.THost), f.GetStr(wire.TDisplay)
		if feature == "" || user == "" {
			return c.fail(f.ID, wire.CodeBadRequest, "REMOVE needs a handle, or a feature and a user")
		}
		fs, err := c.s.seats.Status(ctx, sdk.StatusQuery{Feature: feature})
		if err != nil {
			return c.seatsError(f.ID, err)
		}
		for _, ft := range fs {
			for _, l := range ft.Leases {
				if l.Client.User == user && (host == "" || strings.EqualFold(l.Client.Host, host)) &&
					(display == "" || l.Client.Display == display) {
					ids = append(ids, l.Lease)
				}
			}
		}
		if len(ids) == 0 {
			return c.fail(f.ID, wire.CodeNoHandle, fmt.Sprintf("%s holds no %s license on %s %s", user, feature, host, display))
		}
	}
	removed := 0
	for _, id := range ids {
		if err := c.s.seats.Remove(ctx, id, c.actor()); err != nil {
			return c.seatsError(f.ID, err)
		}
		// The handle is kept so that the holder's next heartbeat learns the
		// licence was removed (GONE removed) rather than unknown.
		removed++
	}
	c.s.log.Info("lmremove", "addr", c.addr, "user", c.helloUser, "host", c.helloHost, "removed", removed)
	return c.send(wire.New(wire.OK, f.ID).Int(wire.TCount, int64(removed)))
}

// refusal is the ERROR message for a request p does not allow.
func (p permission) refusal(what, attr string) string {
	if p == loopbackOnly {
		return what + " is allowed only from the server's own host (set " + attr + " = true in the plugin's configuration to allow it from anywhere)"
	}
	return what + " is disabled by this server's configuration (" + attr + " = false)"
}

// actor is who sends this connection's administrative requests, as the
// removed event names them: the address, and the user and host its HELLO
// declared.
func (c *conn) actor() sdk.Client {
	return sdk.Client{Addr: c.addr, User: c.helloUser, Host: c.helloHost}
}
