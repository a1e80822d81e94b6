package rsv

import (
	"slices"

	"github.com/licensegw/licensegw/sdk/policy"
)

// Policy is a reservation file in the core's terms; Set gives it in the
// neutral policy model.
type Policy struct {
	Reservations []FeatureReservation
	// Groups are the group definitions by group name. Each becomes both a
	// user group (policy.Set.Groups) and a host group
	// (policy.Set.HostGroups) of that name; see Convert.
	Groups map[string]*Group
}

// FeatureReservation is a reservation for the features named Feature (at
// Version when not empty).
type FeatureReservation struct {
	Pos         Pos
	Feature     string
	Version     string
	Reservation policy.Reservation
}

// Group is what a reservation file says about one group: the names it adds
// and the names it excludes.
type Group struct {
	Include []string // sorted, without duplicates
	Exclude []string // sorted, without duplicates
}

// Members is the group's members given the members base already has (a
// group of the same name in the gateway configuration, or none): base plus
// Include, minus Exclude, sorted. Exclusion wins over inclusion.
func (g *Group) Members(base []string) []string {
	out := make([]string, 0, len(base)+len(g.Include))
	for _, names := range [][]string{base, g.Include} {
		for _, n := range names {
			if !slices.Contains(g.Exclude, n) {
				out = append(out, n)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Convert maps a reservation file onto the core model.
//
// A line feature[,version]:group:count:members becomes
// policy.Reservation{Seats: count, Who: {Kind: policy.Group, Name: group}} on
// the matching features, and its members go into the group definition.
// Several lines naming the same group add up to one definition.
//
// Users and hosts: the file does not say whether a member is a user or a
// host name, and the core's Reservation names one subject. The group
// therefore becomes two definitions of the same name holding the same
// names, a user group and a host group (policy.Set.Groups and
// HostGroups), and the reservation is for the user group. Limitation: a
// reserved seat goes to a client whose user name is a member; a client that
// matches only by host name (ws-01 in "cad:designers:2:alice ws-01") is not
// given the reserved seat by the core, although the host group is there for
// other policies (Include, Max) and for displays.
//
// Exclusions: "!name" removes name from the group, whatever adds it: other
// lines of the file, or a gateway-configured group of the same name, which
// the gateway merges with the file's definition (policy.Set's exclusions). That is what makes
// "solver:night-shift:1:!dave" useful: night-shift as configured, less dave.
func Convert(f *File) (*Policy, error) {
	p := &Policy{Groups: map[string]*Group{}}
	for _, r := range f.Reservations {
		if r.Count < 1 || r.Feature == "" || r.Group == "" {
			return nil, &Error{Pos: r.Pos, Msg: "incomplete reservation"}
		}
		p.Reservations = append(p.Reservations, FeatureReservation{
			Pos:     r.Pos,
			Feature: r.Feature,
			Version: r.Version,
			Reservation: policy.Reservation{
				Seats: r.Count,
				Who:   policy.Subject{Kind: policy.Group, Name: r.Group},
			},
		})
		g := p.Groups[r.Group]
		if g == nil {
			g = &Group{}
			p.Groups[r.Group] = g
		}
		for _, m := range r.Members {
			if m.Exclude {
				g.Exclude = append(g.Exclude, m.Name)
			} else {
				g.Include = append(g.Include, m.Name)
			}
		}
	}
	for _, g := range p.Groups {
		slices.Sort(g.Include)
		g.Include = slices.Compact(g.Include)
		slices.Sort(g.Exclude)
		g.Exclude = slices.Compact(g.Exclude)
	}
	return p, nil
}

// Set is the policy in the neutral model: each reservation on the
// features it names (which the gateway's configuration defines), each
// group's names added to the user group and the host group of its name,
// and its exclusions removed from both, whatever adds them. The gateway
// reports a reservation on a feature it does not have, or more seats
// reserved than a feature has, at the reservation's line.
func (p *Policy) Set() policy.Set {
	set := policy.Set{
		Groups: map[string][]string{}, HostGroups: map[string][]string{},
		GroupExclusions: map[string][]string{}, HostGroupExclusions: map[string][]string{},
	}
	for _, r := range p.Reservations {
		set.Reservations = append(set.Reservations, policy.FeatureReservation{
			Feature: r.Feature, Version: r.Version, Reservation: r.Reservation,
			Pos: policy.Pos{File: r.Pos.File, Line: r.Pos.Line, Col: r.Pos.Col},
		})
	}
	for name, g := range p.Groups {
		set.Groups[name] = slices.Clone(g.Include)
		set.HostGroups[name] = slices.Clone(g.Include)
		if len(g.Exclude) > 0 {
			set.GroupExclusions[name] = slices.Clone(g.Exclude)
			set.HostGroupExclusions[name] = slices.Clone(g.Exclude)
		}
	}
	return set
}

// Load parses the reservation file at path and converts it.
func Load(path string) (*Policy, error) {
	f, err := ParseFile(path)
	if err != nil {
		return nil, err
	}
	return Convert(f)
}
