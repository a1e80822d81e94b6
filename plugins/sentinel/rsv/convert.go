package rsv

import (
	"errors"
	"fmt"
	"slices"

	"github.com/licensegw/licensegw/sdk/policy"
)

// Errors Policy.Apply returns; callers branch on them with errors.Is.
var (
	// ErrUnknownFeature: a reservation names a feature (or version) the
	// configuration does not have.
	ErrUnknownFeature = errors.New("reservation for an unknown feature")
	// ErrOverReserved: a feature's reservations add up to more seats than it has.
	ErrOverReserved = errors.New("more seats reserved than the feature has")
)

// Policy is a reservation file in the core's terms, ready to Apply to a
// policy.Set.
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
// Apply merges with the file's definition. That is what makes
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

// Apply adds the policy to cfg: reservations on the matching features and
// the group definitions, merged with groups of the same names already in
// cfg. A reservation matching no feature is ErrUnknownFeature; a feature
// left with more seats reserved than it has is ErrOverReserved. On error cfg
// is unchanged.
func (p *Policy) Apply(cfg *policy.Set) error {
	features := slices.Clone(cfg.Features)
	for i := range features {
		features[i].Reserve = slices.Clone(features[i].Reserve)
	}
	for _, r := range p.Reservations {
		matched := false
		for i := range features {
			f := &features[i]
			if f.Name != r.Feature || (r.Version != "" && f.Version != r.Version) {
				continue
			}
			matched = true
			f.Reserve = append(f.Reserve, r.Reservation)
		}
		if !matched {
			name := r.Feature
			if r.Version != "" {
				name += "," + r.Version
			}
			return fmt.Errorf("%s: %q: %w", r.Pos, name, ErrUnknownFeature)
		}
	}
	for _, f := range features {
		total := 0
		for _, r := range f.Reserve {
			total += r.Seats
		}
		if total > f.Seats {
			return fmt.Errorf("feature %s %s: %d seats reserved of %d: %w", f.Name, f.Version, total, f.Seats, ErrOverReserved)
		}
	}
	groups := cloneGroups(cfg.Groups)
	hostGroups := cloneGroups(cfg.HostGroups)
	for name, g := range p.Groups {
		groups[name] = g.Members(groups[name])
		hostGroups[name] = g.Members(hostGroups[name])
	}
	cfg.Features, cfg.Groups, cfg.HostGroups = features, groups, hostGroups
	return nil
}

func cloneGroups(m map[string][]string) map[string][]string {
	out := make(map[string][]string, len(m))
	for k, v := range m {
		out[k] = slices.Clone(v)
	}
	return out
}

// Load parses the reservation file at path and converts it: what the
// gateway calls before Policy.Apply.
func Load(path string) (*Policy, error) {
	f, err := ParseFile(path)
	if err != nil {
		return nil, err
	}
	return Convert(f)
}
