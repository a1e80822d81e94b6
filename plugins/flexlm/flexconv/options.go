package flexconv

import (
	"fmt"
	"time"

	"github.com/licensegw/licensegw/plugins/flexlm/internal/lex"
	"github.com/licensegw/licensegw/plugins/flexlm/licfile"
	"github.com/licensegw/licensegw/plugins/flexlm/optfile"
	"github.com/licensegw/licensegw/sdk/policy"
)

var kinds = map[optfile.Type]policy.SubjectKind{
	optfile.User:      policy.User,
	optfile.Host:      policy.Host,
	optfile.Display:   policy.Display,
	optfile.GroupType: policy.Group,
	optfile.HostGroup: policy.HostGroup,
	optfile.Internet:  policy.Internet,
	optfile.Project:   policy.Project,
}

func (c *converter) options(opts *optfile.File, lic *licfile.File) {
	for _, d := range opts.Diagnostics {
		c.add(d.Pos, d.Severity, "", "%s", d.Message)
	}
	if lic != nil && len(lic.Vendors) > 1 {
		c.add(lex.Pos{File: opts.Name}, Info, "", "the licence file has %d vendors; the options file is applied to the features of all of them", len(lic.Vendors))
	}
	users, hosts := map[string]bool{}, map[string]bool{}
	for _, g := range opts.Groups {
		c.r.Groups[g.Name] = g.Members
		users[g.Name] = true
		if len(g.Lines) > 1 {
			c.add(g.Lines[1], Info, "", "GROUP %s is defined on %d lines; their members are combined, as FlexLM does", g.Name, len(g.Lines))
		}
	}
	for _, g := range opts.HostGroups {
		c.r.HostGroups[g.Name] = g.Members
		hosts[g.Name] = true
		if len(g.Lines) > 1 {
			c.add(g.Lines[1], Info, "", "HOST_GROUP %s is defined on %d lines; their members are combined, as FlexLM does", g.Name, len(g.Lines))
		}
	}
	for _, r := range opts.Rules {
		c.rule(r, users, hosts)
	}
	for _, o := range opts.Other {
		c.add(o.Pos, Warning, "", "%s not imported: the gateway has no equivalent", o.Keyword)
	}
}

// matching returns the indices of the features a rule's feature names.
func (c *converter) matching(ref optfile.FeatureRef) []int {
	var out []int
	for i, f := range c.r.Features {
		if f.Name == ref.Name && (ref.Version == "" || ref.Version == f.Version) {
			out = append(out, i)
		}
	}
	return out
}

func (c *converter) rule(r optfile.Rule, users, hosts map[string]bool) {
	name := r.Feature.Name
	var subj policy.Subject
	if r.Type != "" {
		subj = policy.Subject{Kind: kinds[r.Type], Name: r.Who}
		// An undefined group matches no one. It is imported as an empty
		// group rather than dropped: dropping an INCLUDE would let everyone in.
		if r.Type == optfile.GroupType && !users[r.Who] {
			c.add(r.Pos, Warning, name, "GROUP %s is not defined in the options file; imported as an empty group", r.Who)
			c.r.Groups[r.Who] = []string{}
			users[r.Who] = true
		}
		if r.Type == optfile.HostGroup && !hosts[r.Who] {
			c.add(r.Pos, Warning, name, "HOST_GROUP %s is not defined in the options file; imported as an empty host group", r.Who)
			c.r.HostGroups[r.Who] = []string{}
			hosts[r.Who] = true
		}
	}
	for q := range r.Feature.Qualifiers {
		if q != "VERSION" {
			c.add(r.Pos, Warning, name, "qualifier %s on %s is not supported; the line applies to every pool of %s", q, r.Keyword, name)
		}
	}
	targets := func() []int {
		idx := c.matching(r.Feature)
		if len(idx) == 0 {
			what := name
			if r.Feature.Version != "" {
				what += " version " + r.Feature.Version
			}
			c.add(r.Pos, Warning, name, "%s: feature %s is not in the licence (or not served by the gateway); line ignored", r.Keyword, what)
		}
		return idx
	}
	all := func() []int {
		idx := make([]int, len(c.r.Features))
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	switch r.Keyword {
	case optfile.Reserve:
		for _, i := range targets() {
			f := &c.r.Features[i]
			f.Reserve = append(f.Reserve, policy.Reservation{Seats: r.Count, Who: subj})
			total := 0
			for _, res := range f.Reserve {
				total += res.Seats
			}
			if total > f.Seats {
				c.addPool(r.Pos, Warning, f.Vendor, f.Name, f.Version, "reservations of %s total %d seats, more than the %d the licence has", poolName(f.Vendor, f.Name, f.Version), total, f.Seats)
			}
		}
	case optfile.Max:
		for _, i := range targets() {
			f := &c.r.Features[i]
			f.Max = append(f.Max, policy.Limit{Seats: r.Count, Who: subj})
		}
	case optfile.Include:
		for _, i := range targets() {
			c.r.Features[i].Include = append(c.r.Features[i].Include, subj)
		}
	case optfile.Exclude:
		for _, i := range targets() {
			c.r.Features[i].Exclude = append(c.r.Features[i].Exclude, subj)
		}
	case optfile.IncludeAll:
		for _, i := range all() {
			c.r.Features[i].Include = append(c.r.Features[i].Include, subj)
		}
	case optfile.ExcludeAll:
		for _, i := range all() {
			c.r.Features[i].Exclude = append(c.r.Features[i].Exclude, subj)
		}
	case optfile.IncludeBorrow, optfile.ExcludeBorrow:
		c.add(r.Pos, Warning, name, "%s not honoured: the gateway has no separate borrowing policy; INCLUDE/EXCLUDE apply to borrowing too", r.Keyword)
	case optfile.MaxBorrowHours:
		for _, i := range targets() {
			f := &c.r.Features[i]
			limit := time.Duration(r.Count) * time.Hour
			switch {
			case !f.Borrow:
				c.addPool(r.Pos, Warning, f.Vendor, f.Name, f.Version, "MAX_BORROW_HOURS %d: the licence does not allow borrowing %s; nothing to limit", r.Count, poolName(f.Vendor, f.Name, f.Version))
			case limit < f.MaxBorrow:
				f.MaxBorrow = limit
			default:
				c.addPool(r.Pos, Info, f.Vendor, f.Name, f.Version, "MAX_BORROW_HOURS %d does not lower the licence's BORROW of %s for %s", r.Count, duration(f.MaxBorrow), poolName(f.Vendor, f.Name, f.Version))
			}
		}
	case optfile.Timeout, optfile.TimeoutAll:
		c.add(r.Pos, Warning, name, "%s %ds not honoured: FlexLM reclaims licences idle that long, while the gateway reclaims a seat when its client stops heartbeating for lease_ttl; mapping it to lease_ttl would keep crashed clients' seats that long, so lease_ttl is left at its default", r.Keyword, r.Count)
	case optfile.Linger:
		c.add(r.Pos, Warning, name, "LINGER %ds not honoured: a checked-in seat is freed at once", r.Count)
	case optfile.BorrowLowwater:
		c.add(r.Pos, Warning, name, "BORROW_LOWWATER %d not honoured: the gateway does not keep seats back from borrowing", r.Count)
	case optfile.NoLog:
		c.add(r.Pos, Warning, name, "NOLOG %s not honoured: every state change is an event in the gateway's journal", r.What)
	}
}

// duration prints d the way the gateway's configuration reads it: whole
// hours as "72h", whole minutes as "90m", else seconds.
func duration(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	default:
		return fmt.Sprintf("%ds", d/time.Second)
	}
}
