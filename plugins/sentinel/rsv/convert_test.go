package rsv

import (
	"errors"
	"reflect"
	"testing"

	"github.com/licensegw/licensegw/sdk/policy"
)

func mustParse(t *testing.T, text string) *File {
	t.Helper()
	f, err := Parse("t.rsv", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestConvertApply(t *testing.T) {
	f := mustParse(t, `cad_pro,2024.1:designers:2:alice bob ws-01
solver:night-shift:1:carol !dave
solver:designers:1:erin !bob
`)
	p, err := Convert(f)
	if err != nil {
		t.Fatal(err)
	}
	cfg := policy.Set{
		Features: []policy.Feature{
			{Name: "cad_pro", Version: "2023.2", Seats: 5},
			{Name: "cad_pro", Version: "2024.1", Seats: 5},
			{Name: "solver", Version: "1.0", Seats: 3},
			{Name: "solver", Version: "2.0", Seats: 3},
		},
		Groups: map[string][]string{"night-shift": {"dave", "frank"}},
	}
	if err := p.Apply(&cfg); err != nil {
		t.Fatal(err)
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

func TestApplyErrors(t *testing.T) {
	tests := []struct {
		name, rsv string
		want      error
	}{
		{"unknown feature", "nope:g:1:a", ErrUnknownFeature},
		{"unknown version", "cad,9:g:1:a", ErrUnknownFeature},
		{"over reserved", "cad:g:2:a\ncad:h:2:b", ErrOverReserved},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Convert(mustParse(t, tt.rsv))
			if err != nil {
				t.Fatal(err)
			}
			cfg := policy.Set{Features: []policy.Feature{{Name: "cad", Version: "1", Seats: 3}}}
			err = p.Apply(&cfg)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Apply = %v, want %v", err, tt.want)
			}
			if cfg.Features[0].Reserve != nil || cfg.Groups != nil {
				t.Errorf("Apply changed cfg on error: %+v", cfg)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	p, err := Load("testdata/example.rsv")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Reservations) != 2 || p.Groups["night-shift"].Exclude[0] != "dave" {
		t.Errorf("Load = %+v", p)
	}
	if _, err := Load("testdata/none.rsv"); err == nil {
		t.Error("Load of a missing file succeeded")
	}
}
