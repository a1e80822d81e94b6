package lmstat

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// ErrNoSuchFeature is returned by Write when Options.Feature names no
// feature of the Status (after printing FlexLM's line saying so).
var ErrNoSuchFeature = errors.New("no such feature")

// Options select what Write prints, as lmstat's flags do.
type Options struct {
	All      bool   // -a: server, vendors and every feature's usage
	Feature  string // -f NAME: only that feature's usage
	Features bool   // -i: the feature table
}

// Write prints st as lmstat does with opts. Without any option it prints the
// server and vendor daemon status only, as plain `lmstat` does.
func Write(w io.Writer, st *Status, opts Options) error {
	ew := &errWriter{w: w}
	WriteHeader(ew, st)
	switch {
	case opts.Features:
		writeTable(ew, st.Features)
	case opts.Feature != "":
		found := false
		for i := range st.Features {
			if st.Features[i].Name == opts.Feature {
				writeFeature(ew, st, &st.Features[i])
				found = true
			}
		}
		if !found {
			ew.printf("Users of %s:  Cannot get users of %s: No such feature exists. (-5)\n\n", opts.Feature, opts.Feature)
			if ew.err == nil {
				return fmt.Errorf("%w: %s", ErrNoSuchFeature, opts.Feature)
			}
		}
	default:
		writeServer(ew, st)
		if opts.All {
			ew.printf("Feature usage info:\n\n")
			for i := range st.Features {
				writeFeature(ew, st, &st.Features[i])
			}
		}
	}
	return ew.err
}

// WriteHeader prints the tool line and the "status on" line.
func WriteHeader(w io.Writer, st *Status) {
	fmt.Fprintf(w, "lmutil - %s\n", st.Tool)
	fmt.Fprintf(w, "Flexible License Manager status on %s\n\n", st.Now.In(loc(st)).Format("Mon 1/2/2006 15:04"))
}

// CannotConnect prints FlexLM's line for a server that cannot be reached
// (error -15). reason is the system's words, e.g. "Connection refused";
// errno its number (111 for ECONNREFUSED on Linux).
func CannotConnect(w io.Writer, host string, errno int, reason string) {
	fmt.Fprintf(w, "%s: Cannot connect to license server system. (-15,570:%d \"%s\")\n", host, errno, reason)
}

// WriteVersion prints the line of `lmstat -v`.
func WriteVersion(w io.Writer, version string, build int, arch string) {
	fmt.Fprintf(w, "lmstat v%s build %d %s\n", strings.TrimPrefix(version, "v"), build, arch)
}

func loc(st *Status) *time.Location {
	if st.Location == nil {
		return time.UTC
	}
	return st.Location
}

func writeServer(w *errWriter, st *Status) {
	if len(st.Servers) > 0 {
		w.printf("License server status: %s\n", st.System)
	} else {
		w.printf("License server status: %d@%s\n", st.Port, st.Host)
	}
	files := strings.Join(st.LicenseFiles, ":")
	w.printf("    License file(s) on %s: %s:\n\n", st.Host, files)
	servers := st.Servers
	if len(servers) == 0 {
		servers = []Server{{Host: st.Host, Up: st.Up, Master: st.Master, Version: st.ServerVersion}}
	}
	for _, s := range servers {
		if s.Up {
			role := ""
			if s.Master {
				role = " (MASTER)"
			}
			w.printf("%10s: license server UP%s v%s\n", s.Host, role, strings.TrimPrefix(s.Version, "v"))
		} else {
			w.printf("%10s: license server DOWN\n", s.Host)
		}
	}
	w.printf("\n")
	w.printf("Vendor daemon status (on %s):\n\n", st.Host)
	for _, v := range st.Vendors {
		if v.Up {
			w.printf("%10s: UP v%s\n", v.Name, strings.TrimPrefix(v.Version, "v"))
		} else {
			w.printf("%10s: DOWN\n", v.Name)
		}
	}
	w.printf("\n")
}

// licenses writes "1 license" or "N licenses".
func licenses(n int) string {
	if n == 1 {
		return "1 license"
	}
	return fmt.Sprintf("%d licenses", n)
}

func writeFeature(w *errWriter, st *Status, f *Feature) {
	if f.Uncounted {
		w.printf("Users of %s:  (Uncounted, node-locked)\n\n", f.Name)
		return
	}
	w.printf("Users of %s:  (Total of %s issued;  Total of %s in use)\n\n", f.Name, licenses(f.Issued), licenses(f.InUse))
	if len(f.Users) == 0 && len(f.Reservations) == 0 && len(f.Queued) == 0 {
		return
	}
	kind := "floating license"
	if f.NodeLocked {
		kind = "nodelocked license"
	}
	w.printf("  \"%s\" v%s, vendor: %s, expiry: %s\n", f.Name, f.Version, f.Vendor, Expiry(f.Expiry))
	w.printf("  %s\n\n", kind)
	where := fmt.Sprintf("%s/%d", st.Host, st.Port)
	for _, r := range f.Reservations {
		word := "RESERVATIONs"
		if r.Count == 1 {
			word = "RESERVATION"
		}
		w.printf("\t%d %s for %s %s (%s)\n", r.Count, word, r.Type, r.Name, where)
	}
	for _, u := range f.Users {
		w.printf("    %s %s %s (v%s) (%s %d), start %s", word(u.User), word(u.Host), word(u.Display),
			strings.TrimPrefix(u.Version, "v"), where, u.Handle, startTime(u.Start.In(loc(st))))
		if u.Count > 1 {
			w.printf(", %d licenses", u.Count)
		}
		w.printf("\n")
	}
	for _, q := range f.Queued {
		n := max(q.Count, 1)
		v := strings.TrimPrefix(q.Version, "v")
		w.printf("    %s %s %s %s (v%s) (%s %d) queued for %s\n", word(q.User), word(q.Host), word(q.Display), v, v, where, q.Handle, licenses(n))
	}
	w.printf("\n")
}

// word keeps a user, host or display one whitespace-free word, as the
// parsers of lmstat output split on whitespace: empty becomes "-", spaces
// become "_".
func word(s string) string {
	if s == "" {
		return "-"
	}
	return strings.Join(strings.Fields(s), "_")
}

// startTime formats a start time as FlexLM does, the hour unpadded:
// "Thu 11/26 9:14".
func startTime(t time.Time) string {
	return fmt.Sprintf("%s %d/%d %d:%02d", t.Format("Mon"), t.Month(), t.Day(), t.Hour(), t.Minute())
}

// Expiry formats an expiry date as FlexLM does: 31-dec-2027, or permanent.
func Expiry(t time.Time) string {
	if t.IsZero() {
		return "permanent"
	}
	return fmt.Sprintf("%d-%s-%d", t.Day(), strings.ToLower(t.Month().String()[:3]), t.Year())
}

func writeTable(w *errWriter, fs []Feature) {
	w.printf("%-32s%-12s%-13s%-13s%s\n", "Feature", "Version", "#licenses", "Expires", "Vendor")
	w.printf("%-32s%-12s%-13s%-13s%s\n", "_______", "_________", "_________", "__________", "______")
	for _, f := range fs {
		count := fmt.Sprint(f.Issued)
		if f.Uncounted {
			count = "uncounted"
		}
		w.printf("%-32s%-12s %-12s%-13s%s\n", f.Name, f.Version, count, Expiry(f.Expiry), f.Vendor)
	}
	w.printf("\n")
}

// errWriter keeps the first write error so the formatting code stays flat.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) {
	fmt.Fprintf(e, format, args...)
}
