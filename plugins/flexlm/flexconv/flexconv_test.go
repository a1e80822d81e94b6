package flexconv

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/licensegw/licensegw/plugins/flexlm/licfile"
	"github.com/licensegw/licensegw/plugins/flexlm/optfile"
	"github.com/licensegw/licensegw/sdk/policy"
)

var (
	update = flag.Bool("update", false, "show how the golden files would change and fail; with -accept, rewrite them")
	accept = flag.Bool("accept", false, "with -update, rewrite the golden files that differ")
)

// cases pairs licence files with options files; every case has a golden HCL.
var cases = []struct{ name, lic, opt string }{
	{"spec", "corpus/spec.lic", "corpus/spec.opt"},
	{"sample", "sample/acme.lic", "sample/acme.opt"},
	{"crlf", "corpus/crlf.lic", "corpus/crlf.opt"},
	{"pooling_odd", "corpus/pooling.lic", "corpus/options_odd.opt"},
	{"year0", "corpus/year0.lic", ""},
	{"duplicates", "corpus/duplicates.lic", ""},
	{"quoted", "corpus/quoted.lic", ""},
	{"longcont", "corpus/longcont.lic", ""},
	{"uncounted", "corpus/uncounted.lic", ""},
	{"tabs", "corpus/tabs.lic", ""},
	{"options_only", "", "corpus/spec.opt"},
}

func load(t *testing.T, lic, opt string) (*licfile.File, *optfile.File) {
	t.Helper()
	var (
		lf *licfile.File
		of *optfile.File
	)
	if lic != "" {
		src, err := os.ReadFile(filepath.Join("..", "testdata", lic))
		if err != nil {
			t.Fatal(err)
		}
		if lf, err = licfile.Parse(filepath.Base(lic), src); err != nil {
			t.Fatal(err)
		}
	}
	if opt != "" {
		src, err := os.ReadFile(filepath.Join("..", "testdata", opt))
		if err != nil {
			t.Fatal(err)
		}
		if of, err = optfile.Parse(filepath.Base(opt), src); err != nil {
			t.Fatal(err)
		}
	}
	return lf, of
}

func find(t *testing.T, r *Result, name, version string) policy.Feature {
	t.Helper()
	for _, f := range r.Features {
		if f.Name == name && (version == "" || f.Version == version) {
			return f
		}
	}
	t.Fatalf("feature %s %s not converted; have %+v", name, version, r.Features)
	return policy.Feature{}
}

func TestConvertSpec(t *testing.T) {
	lf, of := load(t, "corpus/spec.lic", "corpus/spec.opt")
	r, diags := Convert(lf, of)
	cad := find(t, r, "cad_pro", "2024.1")
	if cad.Seats != 15 || cad.Vendor != "acme" {
		t.Errorf("cad_pro seats=%d vendor=%s, want 15 acme", cad.Seats, cad.Vendor)
	}
	if want := time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC); !cad.Expiry.Equal(want) {
		t.Errorf("expiry = %v, want %v", cad.Expiry, want)
	}
	if want := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC); !cad.Start.Equal(want) {
		t.Errorf("start = %v, want %v", cad.Start, want)
	}
	// Only the INCREMENT allows borrowing, so the pool does not.
	if cad.Borrow {
		t.Errorf("cad_pro borrow enabled though its FEATURE line has no BORROW")
	}
	if len(cad.Reserve) != 1 || cad.Reserve[0] != (policy.Reservation{Seats: 2, Who: policy.Subject{Kind: policy.Group, Name: "designers"}}) {
		t.Errorf("reserve = %+v", cad.Reserve)
	}
	if len(cad.Max) != 1 || cad.Max[0] != (policy.Limit{Seats: 1, Who: policy.Subject{Kind: policy.User, Name: "dave"}}) {
		t.Errorf("max = %+v", cad.Max)
	}
	if len(cad.Exclude) != 2 || len(cad.Include) != 1 {
		t.Errorf("cad_pro include=%+v exclude=%+v", cad.Include, cad.Exclude)
	}
	solver := find(t, r, "solver", "")
	if !solver.Expiry.IsZero() || solver.Seats != 2 || len(solver.Include) != 2 {
		t.Errorf("solver = %+v", solver)
	}
	for _, f := range r.Features {
		if f.Name == "viewer" {
			t.Errorf("uncounted viewer was converted")
		}
	}
	if got := r.Groups["designers"]; strings.Join(got, ",") != "alice,bob,carol" {
		t.Errorf("groups = %v", r.Groups)
	}
	if got := r.HostGroups["lab"]; strings.Join(got, ",") != "ws-01,ws-02" {
		t.Errorf("host groups = %v", r.HostGroups)
	}
	// Every line the core cannot honour is reported at its own line.
	mustReport := map[string]string{
		"spec.lic:10:1": "uncounted",
		"spec.lic:7:45": "DUP_GROUP",
		"spec.lic:9:39": "VENDOR_STRING",
		"spec.lic:6:1":  "not verified",
		"spec.lic:3:1":  "redundant",
		"spec.opt:9:1":  "TIMEOUT",
		"spec.opt:10:1": "TIMEOUTALL",
		"spec.opt:11:1": "LINGER",
		"spec.opt:12:1": "BORROW",
		"spec.opt:13:1": "BORROW_LOWWATER",
		"spec.opt:14:1": "NOLOG",
	}
	for pos, word := range mustReport {
		found := false
		for _, d := range diags {
			if strings.HasPrefix(d.Pos.String(), pos) && strings.Contains(d.Message, word) {
				found = true
			}
		}
		if !found {
			t.Errorf("no diagnostic at %s mentioning %s", pos, word)
		}
	}
}

func TestConvertPooling(t *testing.T) {
	lf, of := load(t, "corpus/pooling.lic", "corpus/options_odd.opt")
	r, _ := Convert(lf, of)
	sim5 := find(t, r, "sim", "5.0")
	if sim5.Seats != 16 {
		t.Errorf("sim 5.0 seats = %d, want 16", sim5.Seats)
	}
	// The pool's earliest expiry wins.
	if want := time.Date(2027, 7, 1, 0, 0, 0, 0, time.UTC); !sim5.Expiry.Equal(want) {
		t.Errorf("sim 5.0 expiry = %v, want 2027-06-30", sim5.Expiry)
	}
	if len(sim5.Reserve) != 1 {
		t.Errorf("sim 5.0 reserve = %+v, want the VERSION=5.0 one only", sim5.Reserve)
	}
	sim6 := find(t, r, "sim", "6.0")
	if len(sim6.Reserve) != 0 || len(sim6.Max) != 2 {
		t.Errorf("sim 6.0 reserve=%+v max=%+v", sim6.Reserve, sim6.Max)
	}
	mesh := find(t, r, "mesh", "")
	if !mesh.Borrow || mesh.MaxBorrow != 24*time.Hour || mesh.Seats != 7 {
		t.Errorf("mesh = %+v, want 7 seats borrowable 24h", mesh)
	}
	if got := r.Groups["g1"]; strings.Join(got, ",") != "alice,bob" {
		t.Errorf("g1 = %v", got)
	}
}

func TestMaxBorrowHoursLowers(t *testing.T) {
	lf, err := licfile.Parse("t.lic", []byte("FEATURE f v 1.0 permanent 2 BORROW=100\n"))
	if err != nil {
		t.Fatal(err)
	}
	of, err := optfile.Parse("t.opt", []byte("MAX_BORROW_HOURS f 10\n"))
	if err != nil {
		t.Fatal(err)
	}
	r, _ := Convert(lf, of)
	if f := r.Features[0]; !f.Borrow || f.MaxBorrow != 10*time.Hour {
		t.Errorf("feature = %+v, want borrow 10h", f)
	}
}
