package lsmon

import (
	"bufio"
	"fmt"
	"io"
	"time"

	"github.com/licensegw/licensegw/plugins/sentinel/wire"
)

// ToolName and ToolVersion make the banner line.
const (
	ToolName    = "licensegw lsmon"
	ToolVersion = "v1.0"
	Product     = "licensegw Sentinel"
)

// labelWidth is the column the labels are padded to, at every level.
const labelWidth = 30

// timeLayout is how lsmon prints dates: "Thu Jan 01 00:00:00 2026".
const timeLayout = "Mon Jan 02 15:04:05 2006"

// Report is what lsmon prints: a server and its features.
type Report struct {
	Host     string // as the user named it
	Storage  string // the server's license storage (its reservation file)
	Features []Feature
}

// Feature is a feature and its token holders.
type Feature struct {
	wire.Feature
	Clients []wire.Client
}

// printer writes lsmon lines; it keeps the first write error.
type printer struct {
	w   *bufio.Writer
	loc *time.Location
}

func (p *printer) line(format string, args ...any) { fmt.Fprintf(p.w, format+"\n", args...) }

// field writes "|- label : value" at depth (1: feature, 2: license and client).
func (p *printer) field(depth int, label, format string, args ...any) {
	indent := "   "
	if depth == 2 {
		indent = "     "
	}
	p.line("%s|- %-*s : %s", indent, labelWidth, label, fmt.Sprintf(format, args...))
}

func (p *printer) date(t time.Time, none string) string {
	if t.IsZero() {
		return none
	}
	return t.In(p.loc).Format(timeLayout)
}

func yesNo(b bool) string {
	if b {
		return "YES"
	}
	return "NO"
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// Write prints r in the lsmon layout, dates in loc.
func Write(w io.Writer, r *Report, loc *time.Location) error {
	p := &printer{w: bufio.NewWriter(w), loc: loc}
	p.line("  %s %s Application Monitor", ToolName, ToolVersion)
	p.line(" [Contacting %s server on host %q]", Product, r.Host)
	if len(r.Features) == 0 {
		p.line("")
		p.line(" No features are served.")
	}
	for _, f := range r.Features {
		p.line("")
		p.writeFeature(&f, r.Storage)
	}
	return p.w.Flush()
}

func (p *printer) writeFeature(f *Feature, storage string) {
	p.line(" |- Feature Information")
	p.field(1, "Feature name", "%q", f.Name)
	p.field(1, "Feature version", "%q", f.Version)
	p.field(1, "License type", "%q", "Normal License")
	p.field(1, "Commuter license allowed", "%s", yesNo(f.Commuter))
	p.field(1, "Maximum concurrent user(s)", "%d", f.MaxUsers)
	p.field(1, "Unreserved tokens in use", "%d", f.UnreservedInUse)
	p.field(1, "Available unreserved", "%d", f.UnreservedFree)
	p.field(1, "Reserved tokens in use", "%d", f.ReservedInUse)
	p.field(1, "Available reserved", "%d", f.ReservedFree)
	p.field(1, "Unreserved tokens in queue", "%d", f.Queued)
	p.field(1, "Commuter tokens in use", "%d", f.CommuterInUse)
	p.line("   |- License Information")
	p.field(2, "License storage name", "%s", orNone(storage))
	secs := int(f.Lifetime / time.Second)
	p.field(2, "Token lifetime (heartbeat)", "%d secs (%d min(s))", secs, secs/60)
	p.field(2, "License start date", "%s", p.date(f.Start, "License has no start date."))
	p.field(2, "Expiration date", "%s", p.date(f.Expiration, "License has no expiration."))
	for _, c := range f.Clients {
		p.line("   |- Client Information")
		p.field(2, "User name", "%s", c.User)
		p.field(2, "Host name", "%s", c.Host)
		display := c.Display
		if display == "" {
			display = c.Host
		}
		p.field(2, "X display name", "%s", display)
		p.field(2, "Group name", "%s", orNone(c.Group))
		p.field(2, "Status", "Running since %s", p.date(c.Granted, "unknown"))
		p.field(2, "Is commuter token", "%s", yesNo(c.Commuter))
	}
}
