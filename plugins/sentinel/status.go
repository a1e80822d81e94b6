package sentinel

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/licensegw/licensegw/plugins/sentinel/rsv"
	"github.com/licensegw/licensegw/plugins/sentinel/wire"
	"github.com/licensegw/licensegw/sdk"
)

// groupIndex is what the reservation file says about who belongs to which
// group, by feature, to name a token holder's group in lsmon.
type groupIndex struct {
	// byFeature lists, per feature name, the groups reserving it, in
	// file order, with their members (users or hosts).
	byFeature map[string][]reservedGroup
}

type reservedGroup struct {
	name    string
	version string
	members []string
}

func newGroupIndex(p *rsv.Policy) groupIndex {
	gi := groupIndex{byFeature: map[string][]reservedGroup{}}
	if p == nil {
		return gi
	}
	for _, r := range p.Reservations {
		g := p.Groups[r.Reservation.Who.Name]
		gi.byFeature[r.Feature] = append(gi.byFeature[r.Feature], reservedGroup{
			name: r.Reservation.Who.Name, version: r.Version, members: g.Members(nil),
		})
	}
	return gi
}

// group names the reservation group a lease's reserved tokens came from:
// the first group reserving the feature that has the user or the host.
func (gi groupIndex) group(fs *sdk.FeatureStatus, l *sdk.LeaseInfo) string {
	if l.Reserved == 0 {
		return ""
	}
	for _, g := range gi.byFeature[fs.Feature] {
		if g.version != "" && g.version != fs.Version {
			continue
		}
		if slices.Contains(g.members, l.Client.User) || slices.Contains(g.members, l.Client.Host) {
			return g.name
		}
	}
	return ""
}

// status asks the gateway for features named name ("" for all), sorted by
// name and version.
func (s *server) status(ctx context.Context, name string) ([]sdk.FeatureStatus, error) {
	fss, err := s.seats.Status(ctx, sdk.StatusQuery{Feature: name})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(fss, func(a, b sdk.FeatureStatus) int {
		return cmp.Or(cmp.Compare(a.Feature, b.Feature), cmp.Compare(a.Version, b.Version), cmp.Compare(a.Vendor, b.Vendor))
	})
	return fss, nil
}

func (s *server) features(ctx context.Context, req *wire.Request) *wire.Response {
	fss, err := s.status(ctx, req.Feature)
	if err != nil {
		return s.failure(err)
	}
	resp := &wire.Response{Status: wire.OK, Total: len(fss)}
	for i := req.Cursor; i < len(fss); i++ {
		resp.Features = append(resp.Features, featureOf(&fss[i]))
	}
	return resp
}

// featureOf computes lsmon's counts from a pool's state.
func featureOf(fs *sdk.FeatureStatus) wire.Feature {
	reserved, reservedInUse := 0, 0
	for _, r := range fs.Reserved {
		reserved += r.Seats
		reservedInUse += r.InUse
	}
	commuter := 0
	for _, l := range fs.Leases {
		if l.Borrowed {
			commuter += l.Count
		}
	}
	unreservedInUse := max(0, fs.InUse-reservedInUse)
	return wire.Feature{
		Name:            truncate(fs.Feature),
		Version:         truncate(fs.Version),
		Commuter:        fs.Borrow,
		Queue:           fs.Queue,
		MaxUsers:        fs.Seats,
		UnreservedInUse: unreservedInUse,
		UnreservedFree:  max(0, fs.Seats-reserved-unreservedInUse),
		ReservedInUse:   reservedInUse,
		ReservedFree:    max(0, reserved-reservedInUse),
		Queued:          fs.Queued,
		CommuterInUse:   commuter,
		Lifetime:        fs.LeaseTTL,
		MaxCommuterDays: int(fs.MaxBorrow / day),
		Start:           fs.Start.Truncate(time.Second),
		Expiration:      fs.Expiry.Truncate(time.Second),
	}
}

func (s *server) clients(ctx context.Context, req *wire.Request) *wire.Response {
	if req.Feature == "" {
		return &wire.Response{Status: wire.BadRequest}
	}
	fss, err := s.status(ctx, req.Feature)
	if err != nil {
		return s.failure(err)
	}
	var all []wire.Client
	for i := range fss {
		fs := &fss[i]
		if req.Version != "" && fs.Version != req.Version {
			continue
		}
		for j := range fs.Leases {
			l := &fs.Leases[j]
			all = append(all, wire.Client{
				User: truncate(l.Client.User), Host: truncate(l.Client.Host), Display: truncate(l.Client.Display),
				Group: truncate(s.groups.group(fs, l)), Count: l.Count, Commuter: l.Borrowed,
				Granted: l.Granted, Expires: l.Expires,
			})
		}
	}
	slices.SortStableFunc(all, func(a, b wire.Client) int { return a.Granted.Compare(b.Granted) })
	resp := &wire.Response{Status: wire.OK, Total: len(all)}
	if req.Cursor < len(all) {
		resp.Clients = all[req.Cursor:]
	}
	return resp
}

// discover answers server information for "" and stays silent (nil) for a
// feature this server does not serve, so that a broadcast is answered only
// by servers that can help.
func (s *server) discover(ctx context.Context, feature string) *wire.Response {
	all, err := s.seats.Status(ctx, sdk.StatusQuery{})
	if err != nil {
		if feature != "" {
			return nil
		}
		return s.failure(err)
	}
	if feature != "" && !slices.ContainsFunc(all, func(fs sdk.FeatureStatus) bool { return fs.Feature == feature }) {
		return nil
	}
	return &wire.Response{Status: wire.OK, Server: wire.Server{
		Name:     truncate(s.opts.serverName),
		Version:  truncate(s.version),
		Storage:  truncate(s.opts.reservationFile),
		Features: len(all),
	}}
}
