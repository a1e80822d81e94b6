package config

import (
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
