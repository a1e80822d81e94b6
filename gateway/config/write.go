package config

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2/hclwrite"

	"github.com/licensegw/licensegw/sdk"
	"github.com/licensegw/licensegw/sdk/policy"
)

// WriteHCL prints a policy set as licensegw configuration: group and
// host_group blocks, then one feature block per pool; reservations on
// features the set does not define are comments saying what to add where.
// sources name the files the set came from (for the header), and notes are
// printed as comments, each inside the block of the feature it concerns or
// at the top. It is what `licensegw import <format>` prints, whatever the
// format: the output decodes (Parse) to the same features and groups.
func WriteHCL(w io.Writer, set policy.Set, sources []string, notes []sdk.Diagnostic) error {
	var b bytes.Buffer
	b.WriteString("# licensegw configuration imported from")
	if len(sources) > 0 {
		b.WriteString(":\n")
		for _, s := range sources {
			fmt.Fprintf(&b, "#   %s\n", s)
		}
	} else {
		b.WriteString(" vendor files.\n")
	}
	if len(set.Features) > 0 {
		b.WriteString("# Licence signatures are kept in the source files but are NOT verified.\n")
	}
	var top []sdk.Diagnostic
	for _, d := range notes {
		if !slices.ContainsFunc(set.Features, d.Pool.Matches) {
			top = append(top, d)
		}
	}
	if len(top) > 0 {
		b.WriteString("#\n# Import notes:\n")
		for _, d := range top {
			fmt.Fprintf(&b, "#   %s\n", oneLine(noteString(d)))
		}
	}
	writeGroups(&b, "group", "users", set.Groups, set.GroupExclusions)
	writeGroups(&b, "host_group", "hosts", set.HostGroups, set.HostGroupExclusions)
	for _, f := range set.Features {
		b.WriteString("\n")
		writeFeature(&b, f, notes)
	}
	writeReservations(&b, set.Reservations)
	_, err := w.Write(hclwrite.Format(b.Bytes()))
	if err != nil {
		return fmt.Errorf("write HCL: %w", err)
	}
	return nil
}

// noteString formats a note as "file:line:col: severity: summary".
func noteString(d sdk.Diagnostic) string {
	s := string(d.Severity) + ": " + d.Summary
	if d.Detail != "" {
		s += ": " + d.Detail
	}
	if d.Pos.IsZero() {
		return s
	}
	return d.Pos.String() + ": " + s
}

// writeReservations prints reservations on features defined elsewhere as
// the reserve blocks to add to them.
func writeReservations(b *bytes.Buffer, rs []policy.FeatureReservation) {
	if len(rs) == 0 {
		return
	}
	b.WriteString("\n# Reservations on features defined elsewhere: add each reserve block\n# to the feature it names.\n")
	for _, r := range rs {
		name := r.Feature
		if r.Version != "" {
			name += " version " + r.Version
		}
		fmt.Fprintf(b, "#\n# feature %s (%s):\n#   reserve {\n#     seats = %d\n#     %s = %s\n#   }\n",
			name, r.Pos, r.Reservation.Seats, r.Reservation.Who.Kind, quote(r.Reservation.Who.Name))
	}
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }

// writeGroups prints groups; names a group excludes are a comment, since
// a group block lists members only.
func writeGroups(b *bytes.Buffer, block, attr string, groups, exclude map[string][]string) {
	for _, k := range slices.Sorted(maps.Keys(groups)) {
		members := slices.DeleteFunc(slices.Clone(groups[k]), func(m string) bool { return slices.Contains(exclude[k], m) })
		fmt.Fprintf(b, "\n%s %s {\n", block, quote(k))
		if len(exclude[k]) > 0 {
			fmt.Fprintf(b, "  # without %s, wherever else they are added\n", strings.Join(exclude[k], ", "))
		}
		fmt.Fprintf(b, "  %s = %s\n}\n", attr, list(members))
	}
}

func writeFeature(b *bytes.Buffer, f policy.Feature, notes []sdk.Diagnostic) {
	fmt.Fprintf(b, "feature %s {\n", quote(f.Name))
	for _, d := range notes {
		if d.Pool.Matches(f) {
			fmt.Fprintf(b, "  # %s\n", oneLine(noteString(d)))
		}
	}
	if f.Vendor != "" {
		fmt.Fprintf(b, "  vendor = %s\n", quote(f.Vendor))
	}
	if f.Version != "" {
		fmt.Fprintf(b, "  version = %s\n", quote(f.Version))
	}
	fmt.Fprintf(b, "  seats = %d\n", f.Seats)
	if !f.Start.IsZero() {
		fmt.Fprintf(b, "  start = %s\n", quote(f.Start.Format("2006-01-02")))
	}
	if f.Expiry.IsZero() {
		b.WriteString("  expiry = \"permanent\"\n")
	} else {
		// Expiry is the end of the last day: print that day.
		fmt.Fprintf(b, "  expiry = %s\n", quote(f.Expiry.Add(-time.Nanosecond).Format("2006-01-02")))
	}
	if f.LeaseTTL > 0 {
		fmt.Fprintf(b, "  lease_ttl = %s\n", quote(duration(f.LeaseTTL)))
	}
	if f.Description != "" {
		fmt.Fprintf(b, "  description = %s\n", quote(f.Description))
	}
	if f.Queue {
		if f.MaxQueue == 0 && f.MaxWait == 0 {
			b.WriteString("\n  queue {}\n")
		} else {
			b.WriteString("\n  queue {\n")
			if f.MaxQueue > 0 {
				fmt.Fprintf(b, "    max_length = %d\n", f.MaxQueue)
			}
			if f.MaxWait > 0 {
				fmt.Fprintf(b, "    max_wait = %s\n", quote(duration(f.MaxWait)))
			}
			b.WriteString("  }\n")
		}
	}
	if f.Borrow {
		fmt.Fprintf(b, "\n  borrow {\n    max = %s\n  }\n", quote(duration(f.MaxBorrow)))
	}
	for _, r := range f.Reserve {
		fmt.Fprintf(b, "\n  reserve {\n    seats = %d\n    %s = %s\n  }\n", r.Seats, r.Who.Kind, quote(r.Who.Name))
	}
	for _, l := range f.Max {
		fmt.Fprintf(b, "\n  max {\n    seats = %d\n    %s = %s\n  }\n", l.Seats, l.Who.Kind, quote(l.Who.Name))
	}
	writeSubjects(b, "include", f.Include)
	writeSubjects(b, "exclude", f.Exclude)
	b.WriteString("}\n")
}

// subjectAttrs orders and names the attributes of include and exclude.
var subjectAttrs = []struct {
	kind policy.SubjectKind
	attr string
}{
	{policy.User, "users"},
	{policy.Host, "hosts"},
	{policy.Group, "groups"},
	{policy.HostGroup, "host_groups"},
	{policy.Display, "displays"},
	{policy.Internet, "internet"},
	{policy.Project, "projects"},
}

func writeSubjects(b *bytes.Buffer, block string, subs []policy.Subject) {
	if len(subs) == 0 {
		return
	}
	fmt.Fprintf(b, "\n  %s {\n", block)
	for _, sa := range subjectAttrs {
		var names []string
		seen := map[string]bool{}
		for _, s := range subs {
			if s.Kind == sa.kind && !seen[s.Name] {
				seen[s.Name] = true
				names = append(names, s.Name)
			}
		}
		if len(names) > 0 {
			fmt.Fprintf(b, "    %s = %s\n", sa.attr, list(names))
		}
	}
	b.WriteString("  }\n")
}

func list(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// duration prints d the way the configuration reads it: whole hours as
// "72h", whole minutes as "90m", else seconds.
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

// quote writes s as an HCL string literal, escaping template sequences too.
func quote(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case (c == '$' || c == '%') && i+1 < len(s) && s[i+1] == '{':
			b.WriteByte(c)
			b.WriteByte(c)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\u%04x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
