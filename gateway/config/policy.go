package config

import (
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/licensegw/licensegw/gateway/seats"
)

// refs are the names a policy may refer to.
type refs struct {
	groups, hostGroups map[string][]string
}

// subjectKinds are the subject kinds, in the order they are listed in
// messages. A reserve or max block names one with a singular attribute; an
// include or exclude block lists names with the plural one.
var subjectKinds = []struct {
	kind   seats.SubjectKind
	plural string
}{
	{seats.User, "users"},
	{seats.Host, "hosts"},
	{seats.Display, "displays"},
	{seats.Group, "groups"},
	{seats.HostGroup, "host_groups"},
	{seats.Internet, "internet"},
	{seats.Project, "projects"},
}

// limitSchema is the schema of reserve and max blocks.
func limitSchema() *hcl.BodySchema {
	s := &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "seats", Required: true}}}
	for _, k := range subjectKinds {
		s.Attributes = append(s.Attributes, hcl.AttributeSchema{Name: string(k.kind)})
	}
	return s
}

// listSchema is the schema of include and exclude blocks.
func listSchema() *hcl.BodySchema {
	s := &hcl.BodySchema{}
	for _, k := range subjectKinds {
		s.Attributes = append(s.Attributes, hcl.AttributeSchema{Name: k.plural})
	}
	return s
}

func kindNames() string {
	names := make([]string, len(subjectKinds))
	for i, k := range subjectKinds {
		names[i] = string(k.kind)
	}
	return strings.Join(names, ", ")
}

// limit decodes a reserve (reserve true) or max block: a seat count and
// exactly one subject. It returns the range of the seats attribute too.
func (d *decoder) limit(b *hcl.Block, r refs, reserve bool) (n int, who seats.Subject, seatsRange hcl.Range, ok bool) {
	a := d.content(b.Body, limitSchema()).Attributes
	ok = d.integer(a, "seats", &n)
	if ok {
		seatsRange = a["seats"].Expr.Range()
		switch {
		case reserve && n <= 0:
			d.errorf(seatsRange, "Invalid seat count", "A reservation keeps at least 1 seat, not %d.", n)
			ok = false
		case n < 0:
			d.errorf(seatsRange, "Invalid seat count", "A maximum is zero or more seats, not %d.", n)
			ok = false
		}
	}

	var first *hcl.Attribute
	for _, k := range subjectKinds {
		attr, set := a[string(k.kind)]
		if !set {
			continue
		}
		if first != nil {
			// Attribute order in a.Attributes is a map's: report the later
			// one in the file so the message is stable.
			later, earlier := attr, first
			if later.Range.Start.Byte < earlier.Range.Start.Byte {
				later, earlier = earlier, later
			}
			d.errorf(later.Range, "Too many subjects",
				"A %s block names exactly one of %s; this one names %s and %s.", b.Type, kindNames(), earlier.Name, later.Name)
			return 0, seats.Subject{}, seatsRange, false
		}
		first = attr
	}
	if first == nil {
		d.errorf(b.DefRange, "Missing subject", "A %s block names exactly one of %s.", b.Type, kindNames())
		return 0, seats.Subject{}, seatsRange, false
	}
	var name string
	if !d.str(a, first.Name, &name) {
		return 0, seats.Subject{}, seatsRange, false
	}
	who = seats.Subject{Kind: seats.SubjectKind(first.Name), Name: name}
	if !d.checkSubject(who, first.Expr.Range(), r) {
		return 0, seats.Subject{}, seatsRange, false
	}
	return n, who, seatsRange, ok
}

// subjects decodes an include or exclude block.
func (d *decoder) subjects(b *hcl.Block, r refs) []seats.Subject {
	a := d.content(b.Body, listSchema()).Attributes
	var out []seats.Subject
	for _, k := range subjectKinds {
		var names []string
		if !d.strings(a, k.plural, &names) {
			continue
		}
		for i, name := range names {
			who := seats.Subject{Kind: k.kind, Name: name}
			if d.checkSubject(who, elemRange(a[k.plural].Expr, i), r) {
				out = append(out, who)
			}
		}
	}
	if len(a) == 0 {
		d.errorf(b.DefRange, "Empty "+b.Type+" block", "An %s block lists at least one of %s.", b.Type, pluralNames())
	}
	return out
}

func pluralNames() string {
	names := make([]string, len(subjectKinds))
	for i, k := range subjectKinds {
		names[i] = k.plural
	}
	return strings.Join(names, ", ")
}

// checkSubject checks a subject's name: not empty, a defined group or host
// group, a valid IPv4 pattern.
func (d *decoder) checkSubject(who seats.Subject, rng hcl.Range, r refs) bool {
	switch {
	case who.Name == "":
		d.errorf(rng, "Invalid "+string(who.Kind), "A %s name must not be empty.", who.Kind)
	case who.Kind == seats.Group && !has(r.groups, who.Name):
		d.errorf(rng, "Undefined group", "There is no group %q; define it with a group %q { users = [...] } block.", who.Name, who.Name)
	case who.Kind == seats.HostGroup && !has(r.hostGroups, who.Name):
		d.errorf(rng, "Undefined host group", "There is no host_group %q; define it with a host_group %q { hosts = [...] } block.", who.Name, who.Name)
	case who.Kind == seats.Internet:
		if err := checkInternet(who.Name); err != nil {
			d.errorf(rng, "Invalid internet pattern", "The internet address %s.", err)
			return false
		}
		return true
	default:
		return true
	}
	return false
}

func has(m map[string][]string, name string) bool { _, ok := m[name]; return ok }
