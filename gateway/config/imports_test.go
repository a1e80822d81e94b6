package config

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/licensegw/licensegw/sdk"
	"github.com/licensegw/licensegw/sdk/policy"
)

func mustParse(t *testing.T, src string) *Config {
	t.Helper()
	c, diags := Parse("gw.hcl", []byte(src))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return c
}

// TestImportBlocks: import blocks are kept for the plugins that provide
// their formats, in file order.
func TestImportBlocks(t *testing.T) {
	c := mustParse(t, `
import "flexlm" {
  license_file = "a.lic"
}
import "sentinel_reservations" {
  file = "b.rsv"
}
`)
	if len(c.Imports) != 2 || c.Imports[0].Format != "flexlm" || c.Imports[1].Format != "sentinel_reservations" || c.Imports[1].DeclRange.Start.Line != 5 {
		t.Fatalf("Imports = %+v", c.Imports)
	}
}

// TestApplyImports: the features of every import first, then groups and
// exclusions, then reservations on features from anywhere, whatever the
// order of the blocks.
func TestApplyImports(t *testing.T) {
	c := mustParse(t, `
group "night" {
  users = ["dave", "frank"]
}
feature "local" {
  seats = 2
}
`)
	designers := policy.Subject{Kind: policy.Group, Name: "designers"}
	reservations := &sdk.ImportResult{Policy: policy.Set{
		Reservations: []policy.FeatureReservation{
			{Feature: "cad", Reservation: policy.Reservation{Seats: 1, Who: designers}, Pos: policy.Pos{File: "r.rsv", Line: 1, Col: 1}},
			{Feature: "local", Reservation: policy.Reservation{Seats: 1, Who: designers}, Pos: policy.Pos{File: "r.rsv", Line: 2, Col: 1}},
		},
		GroupExclusions: map[string][]string{"night": {"dave"}},
	}}
	features := &sdk.ImportResult{
		Policy: policy.Set{
			Features: []policy.Feature{{Vendor: "acme", Name: "cad", Version: "1.0", Seats: 3}},
			Groups:   map[string][]string{"designers": {"bob", "alice"}, "night": {"dave", "erin"}},
		},
		Diagnostics: []sdk.Diagnostic{
			{Severity: sdk.SeverityInfo, Summary: "a note", Pos: policy.Pos{File: "a.lic", Line: 1}},
			{Severity: sdk.SeverityWarning, Summary: "not honoured", Pos: policy.Pos{File: "a.lic", Line: 3, Col: 5}},
		},
		Sources: []sdk.Source{{Name: "a.lic", Text: []byte("x\ny\nFEATURE cad\n")}},
	}
	diags := c.ApplyImports([]Imported{
		{Origin: "the reservations", Result: reservations},
		{Origin: "the licences", Result: features},
	})
	if len(diags) != 1 || diags[0].Severity != hcl.DiagWarning || diags[0].Subject.String() != "a.lic:3,5-5" {
		t.Fatalf("diagnostics %v, want the warning at a.lic:3:5", diags)
	}
	if !strings.Contains(diags[0].Detail, "From the licences") {
		t.Errorf("detail %q does not say which block imported the file", diags[0].Detail)
	}
	if _, ok := c.Files()["a.lic"]; !ok {
		t.Error("the imported file's text is not kept for quoting")
	}
	if len(c.Features) != 2 || len(c.Features[0].Reserve) != 1 || len(c.Features[1].Reserve) != 1 {
		t.Fatalf("features %+v, want a reservation on each", c.Features)
	}
	if got := strings.Join(c.Groups["night"], ","); got != "erin,frank" {
		t.Errorf("night = %s, want dave excluded whatever adds him", got)
	}
	if got := strings.Join(c.Groups["designers"], ","); got != "alice,bob" {
		t.Errorf("designers = %s", got)
	}
}

func TestApplyImportsErrors(t *testing.T) {
	res := func(s policy.Set, ds ...sdk.Diagnostic) *sdk.ImportResult {
		return &sdk.ImportResult{Policy: s, Diagnostics: ds}
	}
	cad := policy.Feature{Name: "cad", Version: "1.0", Seats: 2}
	tests := []struct {
		name    string
		config  string
		imp     *sdk.ImportResult
		summary string
		at      string
	}{
		{"duplicate feature", "feature \"cad\" {\n  version = \"1.0\"\n  seats = 1\n}\n",
			res(policy.Set{Features: []policy.Feature{cad}}), "Duplicate feature", "gw.hcl:6,1-11"},
		{"unknown feature", "",
			res(policy.Set{Reservations: []policy.FeatureReservation{{Feature: "nope", Pos: policy.Pos{File: "r.rsv", Line: 4, Col: 2}}}}),
			"Reservation for an unknown feature", "r.rsv:4,2-2"},
		{"over reserved", "",
			res(policy.Set{Features: []policy.Feature{cad}, Reservations: []policy.FeatureReservation{
				{Feature: "cad", Reservation: policy.Reservation{Seats: 3, Who: policy.Subject{Kind: policy.User, Name: "a"}}, Pos: policy.Pos{File: "r.rsv", Line: 1, Col: 1}}}}),
			"More seats reserved than the feature has", "r.rsv:1,1-1"},
		{"error at an attribute", "",
			res(policy.Set{Features: []policy.Feature{cad}}, sdk.AttrError("license_file", "Cannot read licence file", "no such file")),
			"Cannot read licence file", "gw.hcl:3,18-25"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustParse(t, tt.config+"\nimport \"x\" {\n  license_file = \"a.lic\"\n}\n")
			imp := c.Imports[0]
			diags := c.ApplyImports([]Imported{{Origin: "the x import", Block: imp.DeclRange, Body: imp.Body, Result: tt.imp}})
			if len(diags) != 1 || diags[0].Summary != tt.summary || diags[0].Subject.String() != tt.at {
				t.Fatalf("diagnostics %v (at %v), want %q at %s", diags, subjects(diags), tt.summary, tt.at)
			}
		})
	}
}

func subjects(diags hcl.Diagnostics) []string {
	var out []string
	for _, d := range diags {
		out = append(out, d.Subject.String())
	}
	return out
}

// A negative seat count is the first (and only) complaint about a feature
// that a reservation file also names: "more seats reserved than the feature
// has" would be its consequence, not the fault.
func TestNegativeSeatsBeforeReservations(t *testing.T) {
	c, diags := Parse("gw.hcl", []byte("feature \"solver\" {\n  seats = -3\n}\n"))
	if !diags.HasErrors() {
		t.Fatal("seats = -3 accepted")
	}
	more := c.ApplyImports([]Imported{{Origin: "r", Result: &sdk.ImportResult{Policy: policy.Set{Reservations: []policy.FeatureReservation{
		{Feature: "solver", Reservation: policy.Reservation{Seats: 1, Who: policy.Subject{Kind: policy.User, Name: "a"}}},
	}}}}})
	if len(more) != 0 {
		t.Errorf("a consequence reported too: %v", more)
	}
}
