package config

import (
	"fmt"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/seats"
	"github.com/zclconf/go-cty/cty"
)

// permanent is the expiry of a feature that never expires.
const permanent = "permanent"

var featureSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "vendor"}, {Name: "version"}, {Name: "seats", Required: true},
		{Name: "start"}, {Name: "expiry"}, {Name: "lease_ttl"}, {Name: "description"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "queue"}, {Type: "borrow"},
		{Type: "reserve"}, {Type: "max"}, {Type: "include"}, {Type: "exclude"},
	},
}

var queueSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "max_length"}, {Name: "max_wait"}},
}

var borrowSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "max", Required: true}},
}

// feature decodes a feature "<name>" block. It reports false when the
// feature is too broken to check against the others for duplicates.
func (d *decoder) feature(b *hcl.Block, r refs) (seats.Feature, bool) {
	f := seats.Feature{
		Name:     b.Labels[0],
		Vendor:   events.DefaultVendor,
		Version:  DefaultVersion,
		LeaseTTL: seats.DefaultLeaseTTL,
	}
	ok := true
	if err := checkName(f.Name); err != nil {
		d.errorf(b.LabelRanges[0], "Invalid feature name", "The feature name %s.", err)
		ok = false
	}
	content := d.content(b.Body, featureSchema)
	a := content.Attributes

	if d.str(a, "vendor", &f.Vendor) {
		if err := checkName(f.Vendor); err != nil {
			d.errorf(a["vendor"].Expr.Range(), "Invalid vendor name", "The vendor name %s.", err)
			ok = false
		}
	}
	if attr, set := a["version"]; set {
		ok = d.version(attr, &f.Version) && ok
	}
	seatsSet := d.integer(a, "seats", &f.Seats)
	if seatsSet && f.Seats < 0 {
		d.errorf(a["seats"].Expr.Range(), "Invalid seat count", "A feature has zero or more seats, not %d.", f.Seats)
		seatsSet = false
	}
	startSet := false
	if attr, set := a["start"]; set {
		f.Start, startSet = d.time(attr, false)
	}
	if attr, set := a["expiry"]; set {
		var expirySet bool
		f.Expiry, expirySet = d.time(attr, true)
		if expirySet && startSet && !f.Expiry.IsZero() && !f.Expiry.After(f.Start) {
			d.errorf(attr.Expr.Range(), "Expiry before start",
				"The feature expires at %s, which is not after its start at %s.",
				f.Expiry.Format(time.RFC3339), f.Start.Format(time.RFC3339))
		}
	}
	if d.duration(a, "lease_ttl", &f.LeaseTTL) && f.LeaseTTL < MinLeaseTTL {
		d.errorf(a["lease_ttl"].Expr.Range(), "Lease TTL too short",
			"A lease lives at least %s, so that heartbeats have time to arrive; %s is too short.", MinLeaseTTL, f.LeaseTTL)
	}
	d.str(a, "description", &f.Description)

	if q := d.single(content.Blocks, "queue"); q != nil {
		f.Queue = true
		f.MaxQueue = seats.DefaultMaxQueue
		qa := d.content(q.Body, queueSchema).Attributes
		if d.integer(qa, "max_length", &f.MaxQueue) && f.MaxQueue < 1 {
			d.errorf(qa["max_length"].Expr.Range(), "Invalid queue length",
				"A queue holds at least 1 ticket; leave the queue block out to disable queueing.")
		}
		if d.duration(qa, "max_wait", &f.MaxWait) && f.MaxWait == 0 {
			d.errorf(qa["max_wait"].Expr.Range(), "Invalid maximum wait",
				"The maximum wait must be positive; leave it out to let each request say how long it waits.")
		}
	}
	if bb := d.single(content.Blocks, "borrow"); bb != nil {
		f.Borrow = true
		ba := d.content(bb.Body, borrowSchema).Attributes
		if d.duration(ba, "max", &f.MaxBorrow) && f.MaxBorrow == 0 {
			d.errorf(ba["max"].Expr.Range(), "Invalid borrow period",
				"The longest borrow must be positive; leave the borrow block out to disable borrowing.")
		}
	}

	reserved, over := 0, false
	for _, pb := range content.Blocks {
		switch pb.Type {
		case "reserve":
			n, who, nr, ok := d.limit(pb, r, true)
			if !ok {
				continue
			}
			f.Reserve = append(f.Reserve, seats.Reservation{Seats: n, Who: who})
			reserved += n
			if seatsSet && reserved > f.Seats && !over {
				over = true
				d.errorf(nr, "Too many reserved seats",
					"The feature's reservations add up to %d seats so far, more than its %d seats.", reserved, f.Seats)
			}
		case "max":
			n, who, _, ok := d.limit(pb, r, false)
			if ok {
				f.Max = append(f.Max, seats.Limit{Seats: n, Who: who})
			}
		case "include":
			f.Include = append(f.Include, d.subjects(pb, r)...)
		case "exclude":
			f.Exclude = append(f.Exclude, d.subjects(pb, r)...)
		}
	}
	return f, ok
}

// version decodes a version attribute. A number literal is refused because
// HCL would turn 1.10 into "1.1".
func (d *decoder) version(attr *hcl.Attribute, dst *string) bool {
	v, ok := d.value(attr, cty.DynamicPseudoType)
	if !ok {
		return false
	}
	if v.Type() != cty.String {
		d.errorf(attr.Expr.Range(), "Invalid version",
			"A version must be a quoted string, such as \"2024.1\": as a number, 1.10 would read as 1.1.")
		return false
	}
	s := v.AsString()
	if !versionRE.MatchString(s) {
		d.errorf(attr.Expr.Range(), "Invalid version",
			"The version %q is not letters and digits in components separated by dots, such as \"2024.1\".", s)
		return false
	}
	*dst = s
	return true
}

// time decodes a start or expiry: a date (YYYY-MM-DD) or an RFC 3339 time,
// in UTC. A date means the start of that day for a start and the end of that
// day for an expiry, that is the start of the next day. An expiry may also be
// "permanent", which is the zero time.
func (d *decoder) time(attr *hcl.Attribute, expiry bool) (time.Time, bool) {
	v, ok := d.value(attr, cty.String)
	if !ok {
		return time.Time{}, false
	}
	t, err := parseTime(v.AsString(), expiry)
	if err != nil {
		d.errorf(attr.Expr.Range(), "Invalid date", "The argument %q %s.", attr.Name, err)
		return time.Time{}, false
	}
	return t, true
}

func parseTime(s string, expiry bool) (time.Time, error) {
	if expiry && s == permanent {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		if expiry {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		if expiry {
			return time.Time{}, fmt.Errorf(`must be a date (YYYY-MM-DD), an RFC 3339 time or "permanent"; %q is not`, s)
		}
		return time.Time{}, fmt.Errorf(`must be a date (YYYY-MM-DD) or an RFC 3339 time; %q is not`, s)
	}
	if t.IsZero() {
		return time.Time{}, fmt.Errorf("must not be the zero time")
	}
	return t.UTC(), nil
}
