package flexconv

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/licensegw/licensegw/plugins/flexlm/internal/lex"
	"github.com/licensegw/licensegw/plugins/flexlm/licfile"
	"github.com/licensegw/licensegw/plugins/flexlm/optfile"
	"github.com/licensegw/licensegw/sdk"
	"github.com/licensegw/licensegw/sdk/policy"
)

// Severity grades a Diagnostic.
type Severity = lex.Severity

// The severities.
const (
	Info    = lex.Info
	Warning = lex.Warning
	Error   = lex.Error
)

// Diagnostic is a note about something the conversion could not carry over
// exactly. Feature, when set, names the converted feature it concerns;
// Vendor and Version, when set too, narrow it to one pool.
type Diagnostic struct {
	Pos      lex.Pos
	Severity Severity
	Feature  string
	Vendor   string
	Version  string
	Message  string
}

// Concerns reports whether d is about the pool f.
func (d Diagnostic) Concerns(f policy.Feature) bool {
	return d.Feature == f.Name && (d.Vendor == "" || d.Vendor == f.Vendor) && (d.Version == "" || d.Version == f.Version)
}

// String formats the diagnostic as "file:line:col: severity: message".
func (d Diagnostic) String() string {
	return lex.Diagnostic{Pos: d.Pos, Severity: d.Severity, Message: d.Message}.String()
}

// Result is the converted configuration.
type Result struct {
	Features   []policy.Feature
	Groups     map[string][]string
	HostGroups map[string][]string

	// Sources names the files converted, for the HCL header.
	Sources []string
	// Diagnostics repeats what Convert returned so WriteHCL can print it.
	Diagnostics []Diagnostic
}

// Convert maps a licence file and an options file (nil when there is none)
// onto the gateway's model. Dates are taken in UTC: Start is the start of
// the START day, Expiry the end of the expiry day (see EndOfDay).
func Convert(lic *licfile.File, opts *optfile.File) (*Result, []Diagnostic) {
	c := &converter{
		r: &Result{Groups: map[string][]string{}, HostGroups: map[string][]string{}},
	}
	if lic != nil {
		c.r.Sources = append(c.r.Sources, lic.Name)
		c.licence(lic)
	}
	if opts != nil {
		c.r.Sources = append(c.r.Sources, opts.Name)
		c.options(opts, lic)
	}
	// Report in source order: the licence file first, then the options.
	order := map[string]int{}
	for i, s := range c.r.Sources {
		order[s] = i
	}
	slices.SortStableFunc(c.diags, func(a, b Diagnostic) int {
		return cmp.Or(cmp.Compare(order[a.Pos.File], order[b.Pos.File]),
			cmp.Compare(a.Pos.Line, b.Pos.Line), cmp.Compare(a.Pos.Col, b.Pos.Col))
	})
	c.r.Diagnostics = c.diags
	return c.r, c.diags
}

type converter struct {
	r     *Result
	diags []Diagnostic
}

func (c *converter) add(pos lex.Pos, sev Severity, feature, format string, args ...any) {
	c.diags = append(c.diags, Diagnostic{Pos: pos, Severity: sev, Feature: feature, Message: fmt.Sprintf(format, args...)})
}

// addPool records a diagnostic about one pool.
func (c *converter) addPool(pos lex.Pos, sev Severity, vendor, name, version, format string, args ...any) {
	c.diags = append(c.diags, Diagnostic{Pos: pos, Severity: sev, Feature: name, Vendor: vendor, Version: version,
		Message: fmt.Sprintf(format, args...)})
}

// poolName names a pool in messages: "acme cad_pro v2024.1".
func poolName(vendor, name, version string) string {
	return vendor + " " + name + " v" + version
}

// EndOfDay is the end of day d in UTC, that is the start of the next day:
// a licence expiring on d is usable through that whole day. It is what the
// gateway's configuration makes of expiry = "YYYY-MM-DD".
func EndOfDay(d licfile.Date) time.Time {
	return time.Date(d.Year, d.Month, d.Day+1, 0, 0, 0, 0, time.UTC)
}

func (c *converter) licence(lic *licfile.File) {
	for _, d := range lic.Diagnostics {
		c.add(d.Pos, d.Severity, "", "%s", d.Message)
	}
	switch len(lic.Servers) {
	case 0:
		c.add(lex.Pos{File: lic.Name}, Info, "", "no SERVER line: the gateway's flexlm plugin listens where its own configuration says")
	case 1:
	default:
		c.add(lic.Servers[1].Pos, Warning, "", "%d SERVER lines (a redundant server set): licensegw does not do FlexLM three-server redundancy; run one gateway, or several sharing a NATS cluster", len(lic.Servers))
	}
	for _, s := range lic.Servers {
		if !strings.EqualFold(s.HostID, "ANY") && !strings.EqualFold(s.HostID, "DEMO") {
			c.add(s.Pos, Info, "", "SERVER %s host id %s is not checked by the gateway", s.Host, s.HostID)
		}
		if s.Port != 0 {
			c.add(s.Pos, Info, "", "SERVER port %d: the flexlm plugin's \"lmgrd\" listener (default :27000) should listen on it", s.Port)
		}
		if s.PrimaryIsMaster || s.HeartbeatInterval != 0 {
			c.add(s.Pos, Info, "", "PRIMARY_IS_MASTER and HEARTBEAT_INTERVAL concern server redundancy and are ignored")
		}
	}
	for _, v := range lic.Vendors {
		if v.Port != 0 {
			c.add(v.Pos, Info, "", "VENDOR %s port %d: the flexlm plugin's \"vendor\" listener (default :27100) should listen on it", v.Name, v.Port)
		}
		if v.DaemonPath != "" {
			c.add(v.Pos, Info, "", "VENDOR %s daemon path %s is not used: the gateway is the vendor daemon", v.Name, v.DaemonPath)
		}
		if v.Options != "" {
			c.add(v.Pos, Info, "", "VENDOR %s names options file %s: import it with --options", v.Name, v.Options)
		}
	}
	if lic.UseServer != nil {
		c.add(*lic.UseServer, Info, "", "USE_SERVER: clients are served by the gateway; the line has no further effect")
	}
	for _, o := range lic.Other {
		c.add(o.Pos, Warning, "", "%s line not imported: the gateway has no equivalent", o.Keyword)
	}
	for i := range lic.Pools {
		c.pool(&lic.Pools[i])
	}
}

func (c *converter) pool(p *licfile.Pool) {
	first := p.First()
	if p.Uncounted {
		c.add(first.Pos, Warning, "", "%s %s v%s is uncounted (node-locked to HOSTID=%s): it is not served by a floating gateway and was not imported",
			first.Keyword, p.Name, p.Version, first.HostID)
		return
	}
	// FlexLM lets any client that asks wait in a queue, so imported
	// features queue too (with the gateway's default limits).
	f := policy.Feature{Vendor: p.Vendor, Name: p.Name, Version: p.Version, Seats: p.Count, Queue: true}
	if first.Notice != "" {
		f.Description = first.Notice
	} else if first.Issuer != "" {
		f.Description = "issued by " + first.Issuer
	}
	// Lines of one pool may differ in dates and borrowing, but the gateway
	// has one set per pool: take the most restrictive so the import never
	// grants more than the licence does.
	var (
		expiry    licfile.Date
		permanent = true
		start     licfile.Date
		borrow    = true
		hours     = 0
	)
	for _, l := range p.Lines {
		if !l.Permanent && (permanent || l.Expiry.Before(expiry)) {
			expiry, permanent = l.Expiry, false
		}
		if !l.Start.IsZero() && (start.IsZero() || start.Before(l.Start)) {
			start = l.Start
		}
		if !l.Borrow {
			borrow = false
		} else if hours == 0 || l.BorrowHours < hours {
			hours = l.BorrowHours
		}
		c.lineAttrs(p, l)
	}
	if len(p.Lines) > 1 {
		var differ []string
		for _, l := range p.Lines[1:] {
			if l.Permanent != first.Permanent || l.Expiry != first.Expiry {
				differ = append(differ, "expiry")
			}
			if l.Start != first.Start {
				differ = append(differ, "START")
			}
			if l.Borrow != first.Borrow || l.BorrowHours != first.BorrowHours {
				differ = append(differ, "BORROW")
			}
		}
		slices.Sort(differ)
		differ = slices.Compact(differ)
		c.addPool(first.Pos, Info, p.Vendor, p.Name, p.Version, "%d lines pooled into %d seats of %s", len(p.Lines), p.Count, poolName(p.Vendor, p.Name, p.Version))
		if len(differ) > 0 {
			c.addPool(first.Pos, Warning, p.Vendor, p.Name, p.Version, "the pooled lines differ in %s; the gateway keeps one value per pool and takes the most restrictive (earliest expiry, latest start, shortest borrow)",
				strings.Join(differ, ", "))
		}
	}
	if !permanent {
		f.Expiry = EndOfDay(expiry)
	}
	if !start.IsZero() {
		f.Start = start.Time(time.UTC)
	}
	if borrow && hours > 0 {
		f.Borrow = true
		f.MaxBorrow = time.Duration(hours) * time.Hour
	} else if first.Borrow || anyBorrow(p.Lines) {
		c.addPool(first.Pos, Warning, p.Vendor, p.Name, p.Version, "only some pooled lines allow BORROW; borrowing is not enabled for the pool")
	}
	c.r.Features = append(c.r.Features, f)
}

func anyBorrow(ls []*licfile.Line) bool {
	for _, l := range ls {
		if l.Borrow {
			return true
		}
	}
	return false
}

// lineAttrs reports the attributes of one line the gateway does not honour.
func (c *converter) lineAttrs(p *licfile.Pool, l *licfile.Line) {
	add := func(pos lex.Pos, sev Severity, format string, args ...any) {
		c.addPool(pos, sev, p.Vendor, p.Name, p.Version, format, args...)
	}
	if l.Sign != "" || l.Key != "" {
		add(l.Pos, Info, "signature kept but not verified (verifying needs the vendor's keys)")
	} else {
		add(l.Pos, Info, "line is unsigned")
	}
	var meta []string
	for _, a := range l.Attrs {
		key := strings.ToUpper(a.Key)
		switch key {
		case "SIGN", "SIGN2", "START", "BORROW":
			// Carried over, or reported above.
		case "ISSUER", "ISSUED", "NOTICE", "SN", "CK":
			meta = append(meta, a.Key)
		case "HOSTID":
			add(a.Pos, Warning, "HOSTID=%s is not checked: the gateway serves the seats to any host its policy admits", a.Value)
		case "DUP_GROUP":
			add(a.Pos, Warning, "DUP_GROUP=%s not honoured: every checkout takes its own seats (no sharing of a seat by the same user/host/display)", a.Value)
		case "TS_OK":
			add(a.Pos, Warning, "TS_OK not honoured: the gateway does not detect terminal-server sessions")
		case "VENDOR_STRING":
			add(a.Pos, Warning, "VENDOR_STRING=%q not passed to clients: applications that read it will not see it", a.Value)
		case "PLATFORMS":
			add(a.Pos, Warning, "PLATFORMS=%q not enforced: any client platform may check out", a.Value)
		case "SUPERSEDE":
			add(a.Pos, Warning, "SUPERSEDE not honoured: earlier lines are not cancelled; remove them from the licence file")
		default:
			add(a.Pos, Warning, "attribute %s not understood; ignored", a.Key)
		}
	}
	if len(meta) > 0 {
		add(l.Pos, Info, "%s kept as metadata only", strings.Join(meta, ", "))
	}
}

// ConvertFiles is Convert for several licence files served together (the
// flexlm plugin's license_file may name several): their pools are one
// list, and the options file applies to all of them.
func ConvertFiles(lics []*licfile.File, opts *optfile.File) (*Result, []Diagnostic) {
	if len(lics) == 0 {
		return Convert(nil, opts)
	}
	if len(lics) == 1 {
		return Convert(lics[0], opts)
	}
	merged := *lics[0]
	merged.Name = lics[0].Name
	for _, l := range lics[1:] {
		merged.Servers = append(slices.Clip(merged.Servers), l.Servers...)
		merged.Vendors = append(slices.Clip(merged.Vendors), l.Vendors...)
		merged.Lines = append(slices.Clip(merged.Lines), l.Lines...)
		merged.Pools = append(slices.Clip(merged.Pools), l.Pools...)
		merged.Other = append(slices.Clip(merged.Other), l.Other...)
		merged.Diagnostics = append(slices.Clip(merged.Diagnostics), l.Diagnostics...)
	}
	res, diags := Convert(&merged, opts)
	res.Sources = res.Sources[:0]
	for _, l := range lics {
		res.Sources = append(res.Sources, l.Name)
	}
	if opts != nil {
		res.Sources = append(res.Sources, opts.Name)
	}
	return res, diags
}

// Set is the converted policy in the neutral model.
func (r *Result) Set() policy.Set {
	return policy.Set{Features: r.Features, Groups: r.Groups, HostGroups: r.HostGroups}
}

// Notes are the conversion's diagnostics in the SDK's terms, as an import
// returns them. A line the converter could not use was left out and the
// rest imported, so an Error of the files is a warning for the gateway.
func Notes(diags []Diagnostic) []sdk.Diagnostic {
	out := make([]sdk.Diagnostic, 0, len(diags))
	for _, d := range diags {
		sev := sdk.SeverityInfo
		if d.Severity >= Warning {
			sev = sdk.SeverityWarning
		}
		out = append(out, sdk.Diagnostic{
			Severity: sev,
			Summary:  d.Message,
			Pos:      policy.Pos{File: d.Pos.File, Line: d.Pos.Line, Col: d.Pos.Col},
			Pool:     policy.PoolRef{Vendor: d.Vendor, Name: d.Feature, Version: d.Version},
		})
	}
	return out
}
