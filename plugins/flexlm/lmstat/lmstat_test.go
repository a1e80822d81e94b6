package lmstat

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/licensegw/licensegw/internal/golden"
)

var (
	update = flag.Bool("update", false, "show how the golden files would change (not the spec_* ones, copied from the spec) and fail; with -accept, rewrite them")
	accept = flag.Bool("accept", false, "with -update, rewrite the golden files that differ")
)

// zone is a fixed server time zone so the goldens do not depend on the host.
var zone = time.FixedZone("CET", 3600)

func at(day, hour, minute int) time.Time {
	return time.Date(2026, time.November, day, hour, minute, 0, 0, zone)
}

// specStatus is the example of docs/specs/flexlm-formats.md.
func specStatus() *Status {
	return &Status{
		Tool:          "licensegw FlexLM-compatible status tool v0.1.0",
		Now:           at(26, 20, 35).UTC(), // printed back in zone
		Location:      zone,
		Host:          "gw-01",
		Port:          27000,
		LicenseFiles:  []string{"/etc/licensegw/acme.lic"},
		Up:            true,
		Master:        true,
		ServerVersion: "11.19.5",
		Vendors:       []Vendor{{Name: "acme", Up: true, Version: "v11.19.5"}},
		Features: []Feature{
			{
				Name: "cad_pro", Vendor: "acme", Version: "2024.1",
				Expiry: time.Date(2027, 12, 31, 23, 59, 59, 0, time.UTC),
				Issued: 15, InUse: 5,
				Reservations: []Reservation{{Count: 2, Type: "GROUP", Name: "designers"}},
				Users: []User{
					{User: "alice", Host: "ws-01", Display: "/dev/pts/1", Version: "2024.1", Handle: 101, Start: at(26, 9, 14), Count: 1},
					{User: "bob", Host: "ws-02", Display: "ws-02", Version: "2024.1", Handle: 202, Start: at(26, 10, 2), Count: 2},
				},
				Queued: []Queued{{User: "erin", Host: "ws-07", Display: "ws-07", Version: "2024.1", Handle: 303, Count: 1}},
			},
			{Name: "solver", Vendor: "acme", Version: "3.0", Issued: 2},
			{Name: "viewer", Vendor: "acme", Version: "1.0", Uncounted: true},
		},
	}
}

func TestGolden(t *testing.T) {
	down := specStatus()
	down.Vendors = append(down.Vendors, Vendor{Name: "beta", Up: false})
	down.LicenseFiles = append(down.LicenseFiles, "/etc/licensegw/beta.lic")
	down.Master = false
	single := specStatus()
	single.Features[0].Reservations = []Reservation{{Count: 1, Type: "USER", Name: "carol"}}
	single.Features[0].Users = single.Features[0].Users[:1]
	single.Features[0].Issued, single.Features[0].InUse = 1, 1
	single.Features[0].Queued = []Queued{{User: "q", Host: "h", Display: "d", Version: "2024.1", Handle: 9, Count: 3}}
	tests := []struct {
		golden string
		st     *Status
		opts   Options
	}{
		{"spec_a", specStatus(), Options{All: true}},
		{"spec_i", specStatus(), Options{Features: true}},
		{"plain", specStatus(), Options{}},
		{"feature_cad_pro", specStatus(), Options{Feature: "cad_pro"}},
		{"feature_solver", specStatus(), Options{Feature: "solver"}},
		{"feature_missing", specStatus(), Options{Feature: "nosuch"}},
		{"vendor_down", down, Options{All: true}},
		{"singular", single, Options{All: true}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			var buf bytes.Buffer
			err := Write(&buf, tt.st, tt.opts)
			if missing := tt.golden == "feature_missing"; missing != errors.Is(err, ErrNoSuchFeature) || (!missing && err != nil) {
				t.Fatalf("Write = %v", err)
			}
			checkGolden(t, tt.golden, buf.String())
		})
	}
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	// The spec_* files are copied from the spec, never rewritten.
	golden.Check(t, path, []byte(got), golden.ModeOf(*update && !strings.HasPrefix(name, "spec_"), *accept))
}

func TestCannotConnectAndVersion(t *testing.T) {
	var buf bytes.Buffer
	CannotConnect(&buf, "gw-01", 111, "Connection refused")
	WriteVersion(&buf, "v0.1.0", 42, "x64_lsb")
	want := "gw-01: Cannot connect to license server system. (-15,570:111 \"Connection refused\")\n" +
		"lmstat v0.1.0 build 42 x64_lsb\n"
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
}

func TestUsersLineRule(t *testing.T) {
	// The exact "Users of" line parsers match, with singulars.
	for _, tt := range []struct {
		issued, inUse int
		want          string
	}{
		{1, 1, "Users of f:  (Total of 1 license issued;  Total of 1 license in use)\n"},
		{2, 0, "Users of f:  (Total of 2 licenses issued;  Total of 0 licenses in use)\n"},
	} {
		var buf bytes.Buffer
		st := &Status{Features: []Feature{{Name: "f", Issued: tt.issued, InUse: tt.inUse}}}
		if err := Write(&buf, st, Options{Feature: "f"}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), "\n"+tt.want) {
			t.Errorf("output\n%s\nlacks %q", buf.String(), tt.want)
		}
	}
}

func TestUserFieldsStayWords(t *testing.T) {
	st := specStatus()
	st.Features[0].Users = []User{{User: "Jane Doe", Host: "", Display: "", Version: "2024.1", Handle: 7, Start: at(26, 9, 0)}}
	var buf bytes.Buffer
	if err := Write(&buf, st, Options{Feature: "cad_pro"}); err != nil {
		t.Fatal(err)
	}
	if want := "    Jane_Doe - - (v2024.1) (gw-01/27000 7), start Thu 11/26 9:00\n"; !strings.Contains(buf.String(), want) {
		t.Errorf("output\n%s\nlacks %q", buf.String(), want)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

func TestWriteError(t *testing.T) {
	if err := Write(failWriter{}, specStatus(), Options{All: true}); err == nil {
		t.Error("Write to a failing writer returned nil")
	}
}
