package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/licensegw/licensegw/gateway/seats"
)

func TestImports(t *testing.T) {
	c, diags := Load("testdata/imports/imports.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	byName := map[string]seats.Feature{}
	for _, f := range c.Features {
		byName[f.Name] = f
	}
	cad, solver := byName["cad_pro"], byName["solver"]
	if cad.Vendor != "acme" || cad.Seats != 15 || len(cad.Reserve) != 1 || cad.Reserve[0].Who != (seats.Subject{Kind: seats.Group, Name: "designers"}) {
		t.Errorf("cad_pro from the licence and options files: %+v", cad)
	}
	if solver.Seats != 4 || len(solver.Reserve) != 1 || solver.Reserve[0].Seats != 1 {
		t.Errorf("solver with the reservation file's reservation: %+v", solver)
	}
	if got := c.Groups["designers"]; strings.Join(got, ",") != "alice,bob,carol" {
		t.Errorf("designers = %v", got)
	}
	if got := c.Groups["night-shift"]; strings.Join(got, ",") != "carol,erin" {
		t.Errorf("night-shift = %v, want carol and erin", got)
	}
}

func TestImportErrorsHavePositions(t *testing.T) {
	_, diags := Load("testdata/imports/bad.hcl")
	want := []struct {
		summary string
		line    int
	}{
		{"Cannot read licence file", 2},
		{"Reservation for an unknown feature", 6},
		{"Unknown import format", 9},
	}
	if len(diags) != len(want) {
		t.Fatalf("got %d diagnostics, want %d: %v", len(diags), len(want), diags)
	}
	for i, w := range want {
		if diags[i].Summary != w.summary || diags[i].Subject.Start.Line != w.line {
			t.Errorf("diagnostic %d: %q at line %d, want %q at line %d", i, diags[i].Summary, diags[i].Subject.Start.Line, w.summary, w.line)
		}
	}
}

// A negative seat count is the first (and only) complaint about a feature
// that a reservation file also names: "more seats reserved than the feature
// has" would be its consequence, not the fault.
func TestNegativeSeatsBeforeReservations(t *testing.T) {
	dir := t.TempDir()
	rsv, err := os.ReadFile("testdata/imports/sentinel.rsv")
	if err != nil {
		t.Fatal(err)
	}
	cfg := `feature "solver" {
  version = "3.0"
  seats   = -3
}

import "sentinel_reservations" {
  file = "sentinel.rsv"
}
`
	for name, body := range map[string][]byte{"sentinel.rsv": rsv, "gw.hcl": []byte(cfg)} {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	_, diags := Load(filepath.Join(dir, "gw.hcl"))
	if len(diags) == 0 {
		t.Fatal("seats = -3 accepted")
	}
	if d := diags[0]; d.Summary != "Invalid seat count" || d.Subject.Start.Line != 3 || !strings.Contains(d.Detail, "-3") {
		t.Fatalf("first diagnostic %q (%s) at line %d, want the seat count at line 3; all: %v", d.Summary, d.Detail, d.Subject.Start.Line, diags)
	}
	for _, d := range diags[1:] {
		if strings.Contains(d.Detail, "reserved") {
			t.Errorf("a consequence reported too: %s: %s", d.Summary, d.Detail)
		}
	}
}
