package lsmon

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/licensegw/licensegw/internal/golden"
	"github.com/licensegw/licensegw/plugins/sentinel/wire"
)

var (
	update = flag.Bool("update", false, "show how the golden files would change and fail; with -accept, rewrite them")
	accept = flag.Bool("accept", false, "with -update, rewrite the golden files that differ")
)

func date(s string) time.Time {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestWriteGolden(t *testing.T) {
	cad := Feature{
		Feature: wire.Feature{
			Name: "cad_pro", Version: "2024.1", Commuter: true, MaxUsers: 10,
			UnreservedInUse: 3, UnreservedFree: 5, ReservedFree: 2, Queued: 1, CommuterInUse: 1,
			Lifetime: 300 * time.Second, Start: date("Thu Jan 01 00:00:00 2026"), Expiration: date("Fri Dec 31 23:59:59 2027"),
		},
		Clients: []wire.Client{
			{User: "alice", Host: "ws-01", Display: "ws-01", Group: "designers", Count: 1, Granted: date("Thu Nov 26 09:14:40 2026")},
			{User: "bob", Host: "lap-7", Count: 1, Commuter: true, Granted: date("Wed Nov 25 17:00:00 2026")},
		},
	}
	solver := Feature{Feature: wire.Feature{Name: "solver", Version: "", MaxUsers: 2, UnreservedFree: 2, Lifetime: 90 * time.Second}}
	tests := []struct {
		name string
		r    Report
	}{
		{"spec", Report{Host: "gw-01", Storage: "/etc/licensegw/sentinel.rsv", Features: []Feature{cad, solver}}},
		{"empty", Report{Host: "127.0.0.1:5093"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, &tt.r, time.UTC); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", tt.name+".golden"), buf.Bytes(), golden.ModeOf(*update, *accept))
		})
	}
}

// TestSpecLines checks the golden output against the layout of
// specs/sentinel-formats.md line by line (banner aside).
func TestSpecLines(t *testing.T) {
	spec := []string{
		`   |- Feature name                   : "cad_pro"`,
		`   |- Maximum concurrent user(s)     : 10`,
		`   |- Commuter tokens in use         : 1`,
		`     |- License storage name           : /etc/licensegw/sentinel.rsv`,
		`     |- Token lifetime (heartbeat)     : 300 secs (5 min(s))`,
		`     |- Expiration date                : Fri Dec 31 23:59:59 2027`,
		`     |- Status                         : Running since Thu Nov 26 09:14:40 2026`,
		`     |- Is commuter token              : NO`,
		` [Contacting licensegw Sentinel server on host "gw-01"]`,
	}
	got, err := os.ReadFile(filepath.Join("testdata", "spec.golden"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range spec {
		if !bytes.Contains(got, []byte(l+"\n")) {
			t.Errorf("missing line %q", l)
		}
	}
}
