package rsv_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/licensegw/licensegw/gateway/config"
	"github.com/licensegw/licensegw/plugins/sentinel/rsv"
	"github.com/licensegw/licensegw/sdk"
	"github.com/licensegw/licensegw/sdk/policy"
)

// apply merges the reservation file text into the configuration cfgText the
// way the gateway does with what the sentinel plugin imports.
func apply(t *testing.T, cfgText, rsvText string) (*config.Config, []string) {
	t.Helper()
	f, err := rsv.Parse("t.rsv", []byte(rsvText))
	if err != nil {
		t.Fatal(err)
	}
	p, err := rsv.Convert(f)
	if err != nil {
		t.Fatal(err)
	}
	cfg, diags := config.Parse("gw.hcl", []byte(cfgText))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	diags = cfg.ApplyImports([]config.Imported{{Origin: "the test", Result: &sdk.ImportResult{Policy: p.Set()}}})
	var errs []string
	for _, d := range diags {
		errs = append(errs, d.Summary+" at "+d.Subject.String())
	}
	return cfg, errs
}

// TestApplyToConfig: the contract with the gateway's configuration.
// Reservations land on the features (and versions) they name; a group's
// names join the user and host group of its name; "!name" removes a name
// whatever adds it, the gateway's own group of that name included.
func TestApplyToConfig(t *testing.T) {
	cfg, errs := apply(t, `
group "night-shift" {
  users = ["dave", "frank"]
}
feature "cad_pro" {
  version = "2023.2"
  seats   = 5
}
feature "cad_pro" {
  version = "2024.1"
  seats   = 5
}
feature "solver" {
  version = "1.0"
  seats   = 3
}
feature "solver" {
  version = "2.0"
  seats   = 3
}
`, `cad_pro,2024.1:designers:2:alice bob ws-01
solver:night-shift:1:carol !dave
solver:designers:1:erin !bob
`)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	designers := policy.Subject{Kind: policy.Group, Name: "designers"}
	night := policy.Subject{Kind: policy.Group, Name: "night-shift"}
	wantReserve := [][]policy.Reservation{
		nil,
		{{Seats: 2, Who: designers}},
		{{Seats: 1, Who: night}, {Seats: 1, Who: designers}},
		{{Seats: 1, Who: night}, {Seats: 1, Who: designers}},
	}
	for i, f := range cfg.Features {
		if !reflect.DeepEqual(f.Reserve, wantReserve[i]) {
			t.Errorf("%s %s: Reserve = %+v, want %+v", f.Name, f.Version, f.Reserve, wantReserve[i])
		}
	}
	wantGroups := map[string][]string{
		"designers":   {"alice", "erin", "ws-01"}, // bob excluded by the solver line
		"night-shift": {"carol", "frank"},         // configured group merged, dave excluded
	}
	if !reflect.DeepEqual(cfg.Groups, wantGroups) {
		t.Errorf("Groups = %v, want %v", cfg.Groups, wantGroups)
	}
	wantHost := map[string][]string{
		"designers":   {"alice", "erin", "ws-01"},
		"night-shift": {"carol"},
	}
	if !reflect.DeepEqual(cfg.HostGroups, wantHost) {
		t.Errorf("HostGroups = %v, want %v", cfg.HostGroups, wantHost)
	}
}

// TestApplyErrors: a reservation for a feature the configuration lacks,
// and more seats reserved than a feature has, are errors at the line of
// the reservation file.
func TestApplyErrors(t *testing.T) {
	tests := []struct {
		name, rsv string
		want      string
	}{
		{"unknown feature", "nope:g:1:a", "Reservation for an unknown feature at t.rsv:1,1"},
		{"unknown version", "cad,9:g:1:a", "Reservation for an unknown feature at t.rsv:1,1"},
		{"over reserved", "cad:g:2:a\ncad:h:2:b", "More seats reserved than the feature has at t.rsv:2,1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := apply(t, "feature \"cad\" {\n  version = \"1\"\n  seats = 3\n}\n", tt.rsv)
			if len(errs) != 1 || !strings.HasPrefix(errs[0], tt.want) {
				t.Fatalf("errors %q, want one: %s", errs, tt.want)
			}
		})
	}
}
