package licfile

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/licensegw/licensegw/internal/golden"
)

var (
	update = flag.Bool("update", false, "show how the golden files would change and fail; with -accept, rewrite them")
	accept = flag.Bool("accept", false, "with -update, rewrite the golden files that differ")
)

// dump renders a parse result as stable text for the golden files.
func dump(f *File, err error) string {
	var b strings.Builder
	for _, s := range f.Servers {
		fmt.Fprintf(&b, "SERVER %s host=%s hostid=%s port=%d master=%v heartbeat=%d attrs=%d\n",
			s.Pos, s.Host, s.HostID, s.Port, s.PrimaryIsMaster, s.HeartbeatInterval, len(s.Attrs))
	}
	for _, v := range f.Vendors {
		fmt.Fprintf(&b, "VENDOR %s name=%s daemon=%q options=%q port=%d\n", v.Pos, v.Name, v.DaemonPath, v.Options, v.Port)
	}
	if f.UseServer != nil {
		fmt.Fprintf(&b, "USE_SERVER %s\n", *f.UseServer)
	}
	for _, l := range f.Lines {
		exp := "permanent"
		if !l.Permanent {
			exp = l.Expiry.String()
		}
		cnt := fmt.Sprint(l.Count)
		if l.Uncounted {
			cnt = "uncounted"
		}
		fmt.Fprintf(&b, "%s %s %s/%s v%s expiry=%s count=%s ignored=%v sig=%q\n",
			l.Keyword, l.Pos, l.Vendor, l.Name, l.Version, exp, cnt, l.Ignored, l.SignatureStatus())
		if !l.Start.IsZero() {
			fmt.Fprintf(&b, "  start=%s\n", l.Start)
		}
		if l.Borrow {
			fmt.Fprintf(&b, "  borrow=%dh\n", l.BorrowHours)
		}
		for _, a := range l.Attrs {
			fmt.Fprintf(&b, "  attr %s %s=%q eq=%v quoted=%v\n", a.Pos, a.Key, a.Value, a.HasEq, a.Quoted)
		}
	}
	for _, p := range f.Pools {
		var at []string
		for _, l := range p.Lines {
			at = append(at, l.Pos.String())
		}
		fmt.Fprintf(&b, "POOL %s/%s v%s count=%d uncounted=%v lines=%s\n", p.Vendor, p.Name, p.Version, p.Count, p.Uncounted, strings.Join(at, ","))
	}
	for _, o := range f.Other {
		fmt.Fprintf(&b, "OTHER %s %s %q\n", o.Pos, o.Keyword, o.Args)
	}
	for _, d := range f.Diagnostics {
		fmt.Fprintf(&b, "DIAG %s\n", d)
	}
	if err != nil {
		fmt.Fprintf(&b, "ERROR %s\n", strings.ReplaceAll(err.Error(), "\n", "\nERROR "))
	}
	return b.String()
}

func TestCorpusGolden(t *testing.T) {
	files, err := filepath.Glob("../testdata/corpus/*.lic")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	files = append(files, "../testdata/sample/acme.lic")
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			f, perr := Parse(name, src)
			got := dump(f, perr)
			golden.Check(t, filepath.Join("testdata", "golden", strings.TrimSuffix(name, ".lic")+".txt"), []byte(got), golden.ModeOf(*update, *accept))
			if bad := strings.HasPrefix(name, "bad"); bad != (perr != nil) {
				t.Errorf("error = %v; want an error only for bad* files", perr)
			}
		})
	}
}

func parse(t *testing.T, src string) *File {
	t.Helper()
	f, err := Parse("t.lic", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return f
}

func TestPoolingAndFirstFeatureWins(t *testing.T) {
	f := parse(t, `VENDOR acme
FEATURE cad acme 2024.1 31-dec-2027 10 SIGN=1
INCREMENT cad acme 2024.1 31-dec-2027 5 SIGN=2
INCREMENT cad acme 2025.0 31-dec-2027 1 SIGN=3
FEATURE cad acme 2024.1 31-dec-2027 100 SIGN=4
`)
	if len(f.Pools) != 2 {
		t.Fatalf("pools = %d, want 2", len(f.Pools))
	}
	if p := f.Pools[0]; p.Count != 15 || len(p.Lines) != 2 || p.Version != "2024.1" {
		t.Errorf("first pool = %+v, want 15 seats from 2 lines", p)
	}
	if p := f.Pools[1]; p.Count != 1 || p.Version != "2025.0" {
		t.Errorf("second pool = %+v", p)
	}
	if !f.Lines[3].Ignored {
		t.Errorf("second FEATURE not ignored")
	}
	var warned bool
	for _, d := range f.Diagnostics {
		if d.Severity == Warning && d.Pos.Line == 5 && strings.Contains(d.Message, "already defined at t.lic:2:1") {
			warned = true
		}
	}
	if !warned {
		t.Errorf("no warning at line 5 about the ignored FEATURE: %v", f.Diagnostics)
	}
}

func TestExpiryForms(t *testing.T) {
	tests := []struct {
		in        string
		permanent bool
		want      Date
		wantErr   bool
	}{
		{"permanent", true, Date{}, false},
		{"PERMANENT", true, Date{}, false},
		{"1-jan-0", true, Date{}, false},
		{"1-jan-00", true, Date{}, false},
		{"1-jan-0000", true, Date{}, false},
		{"31-DEC-2027", false, Date{2027, time.December, 31}, false},
		{"01-Jan-2026", false, Date{2026, time.January, 1}, false},
		{"29-feb-2028", false, Date{2028, time.February, 29}, false},
		{"29-feb-2027", false, Date{}, true},
		{"1-jan-000", false, Date{}, true},
		{"1-jan-27", false, Date{}, true},
		{"1-janu-2027", false, Date{}, true},
		{"32-jan-2027", false, Date{}, true},
		{"2027-01-01", false, Date{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			f, err := Parse("t.lic", []byte("FEATURE x v 1.0 "+tt.in+" 1\n"))
			if tt.wantErr {
				var errs Errors
				if !errors.As(err, &errs) || errs[0].Pos.Line != 1 || errs[0].Pos.Col != 17 {
					t.Fatalf("err = %v, want an error at t.lic:1:17", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			l := f.Lines[0]
			if l.Permanent != tt.permanent || l.Expiry != tt.want {
				t.Errorf("permanent=%v expiry=%v, want %v %v", l.Permanent, l.Expiry, tt.permanent, tt.want)
			}
		})
	}
}

func TestCountForms(t *testing.T) {
	for in, want := range map[string]struct {
		count     int
		uncounted bool
	}{"uncounted": {0, true}, "UNCOUNTED": {0, true}, "0": {0, true}, "7": {7, false}} {
		f := parse(t, "FEATURE x v 1.0 permanent "+in+" HOSTID=ANY\n")
		if l := f.Lines[0]; l.Count != want.count || l.Uncounted != want.uncounted {
			t.Errorf("%s: count=%d uncounted=%v", in, l.Count, l.Uncounted)
		}
	}
}

func TestAttributes(t *testing.T) {
	f := parse(t, `FEATURE x acme 1.0 permanent 2 SIGN="AB CD" HOSTID=ANY DUP_GROUP=UHD BORROW START=2-feb-2026 \
  ISSUER="Acme Corp" ISSUED=1-jan-2026 NOTICE="n o" SN=9 VENDOR_STRING="k=v" PLATFORMS="a b" TS_OK SUPERSEDE ck=12 FUTURE=yes
`)
	l := f.Lines[0]
	checks := []struct {
		name      string
		got, want any
	}{
		{"Sign", l.Sign, "AB CD"},
		{"HostID", l.HostID, "ANY"},
		{"DupGroup", l.DupGroup, "UHD"},
		{"Borrow", l.Borrow, true},
		{"BorrowHours", l.BorrowHours, DefaultBorrowHours},
		{"Start", l.Start, Date{2026, time.February, 2}},
		{"Issuer", l.Issuer, "Acme Corp"},
		{"Issued", l.Issued, Date{2026, time.January, 1}},
		{"Notice", l.Notice, "n o"},
		{"SN", l.SN, "9"},
		{"VendorString", l.VendorString, "k=v"},
		{"Platforms", l.Platforms, "a b"},
		{"TSOK", l.TSOK, true},
		{"HasSupersede", l.HasSupersede, true},
		{"Ck", l.Ck, "12"},
		{"FUTURE kept", l.Attrs.Value("FUTURE"), "yes"},
		{"attrs", len(l.Attrs), 15},
		{"signature", l.SignatureStatus(), "not verified"},
		{"continued attr line", mustGet(t, l.Attrs, "ISSUER").Pos.Line, 2},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func mustGet(t *testing.T, as Attrs, key string) Attr {
	t.Helper()
	a, ok := as.Get(key)
	if !ok {
		t.Fatalf("attribute %s missing", key)
	}
	return a
}

func TestServerAndVendor(t *testing.T) {
	f := parse(t, `SERVER gw-02 ANY 27001 PRIMARY_IS_MASTER HEARTBEAT_INTERVAL=20
VENDOR acme /opt/acme/acmed /etc/acme.opt 27100
DAEMON beta OPTIONS=/etc/beta.opt PORT=27200
`)
	s := f.Servers[0]
	if s.Host != "gw-02" || s.HostID != "ANY" || s.Port != 27001 || !s.PrimaryIsMaster || s.HeartbeatInterval != 20 {
		t.Errorf("server = %+v", s)
	}
	a, b := f.Vendors[0], f.Vendors[1]
	if a.Name != "acme" || a.DaemonPath != "/opt/acme/acmed" || a.Options != "/etc/acme.opt" || a.Port != 27100 {
		t.Errorf("vendor acme = %+v", a)
	}
	if b.Name != "beta" || b.Options != "/etc/beta.opt" || b.Port != 27200 {
		t.Errorf("vendor beta = %+v", b)
	}
}

func TestErrorsCarryPositions(t *testing.T) {
	_, err := Parse("bad.lic", []byte("VENDOR acme\n\tFEATURE x acme 1.0 permanent lots\n"))
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 1 {
		t.Fatalf("err = %v", err)
	}
	if got := errs[0].Pos.String(); got != "bad.lic:2:31" {
		t.Errorf("error at %s, want bad.lic:2:31", got)
	}
	if !strings.HasPrefix(err.Error(), "bad.lic:2:31: error: ") {
		t.Errorf("error text %q", err)
	}
}

func TestParseFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lic")
	if err := os.WriteFile(path, []byte("FEATURE a v 1 permanent 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := ParseFile(path)
	if err != nil || len(f.Pools) != 1 || f.Lines[0].Pos.File != path {
		t.Fatalf("ParseFile = %+v, %v", f, err)
	}
	if _, err := ParseFile(filepath.Join(t.TempDir(), "missing.lic")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file err = %v, want ErrNotExist", err)
	}
}
