package seats

import (
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	groups := map[string][]string{"eng": {"alice"}}
	tests := []struct {
		name string
		f    []Feature
		want []string // substrings of the error; none: valid
	}{
		{"valid", []Feature{{Name: "cad", Version: "2024.1", Seats: 3, Reserve: []Reservation{{Seats: 2, Who: Subject{Kind: Group, Name: "eng"}}}}}, nil},
		{"negative seats", []Feature{{Name: "cad", Seats: -1}}, []string{"local/cad", "negative seats"}},
		{"no name", []Feature{{Seats: 1}}, []string{"no name"}},
		{"expiry before start", []Feature{{Name: "cad", Seats: 1, Start: at(24 * time.Hour), Expiry: at(0)}}, []string{"local/cad", "expiry"}},
		{"reserves exceed seats", []Feature{{Name: "cad", Seats: 2, Reserve: []Reservation{{Seats: 2, Who: Subject{Kind: User, Name: "a"}}, {Seats: 1, Who: Subject{Kind: User, Name: "b"}}}}}, []string{"reservations total 3"}},
		{"zero reservation", []Feature{{Name: "cad", Seats: 2, Reserve: []Reservation{{Seats: 0, Who: Subject{Kind: User, Name: "a"}}}}}, []string{"must be positive"}},
		{"duplicate pool", []Feature{{Name: "cad", Seats: 1}, {Vendor: "local", Name: "cad", Seats: 2}}, []string{"local/cad: defined twice"}},
		{"same name other version is fine", []Feature{{Name: "cad", Version: "1", Seats: 1}, {Name: "cad", Version: "2", Seats: 2}}, nil},
		{"unknown group", []Feature{{Name: "cad", Seats: 1, Max: []Limit{{Seats: 1, Who: Subject{Kind: Group, Name: "ops"}}}}}, []string{"limit", `unknown group "ops"`}},
		{"unknown host group", []Feature{{Name: "cad", Seats: 1, Include: []Subject{{Kind: HostGroup, Name: "lab"}}}}, []string{"include", `unknown host group "lab"`}},
		{"bad internet", []Feature{{Name: "cad", Seats: 1, Exclude: []Subject{{Kind: Internet, Name: "10.1.*"}}}}, []string{"exclude", "bad internet pattern"}},
		{"bad kind", []Feature{{Name: "cad", Seats: 1, Exclude: []Subject{{Kind: "planet", Name: "mars"}}}}, []string{"unknown subject kind"}},
		{"bad version", []Feature{{Name: "cad", Version: "1..2", Seats: 1}}, []string{`bad version "1..2"`}},
		{"negative durations", []Feature{{Name: "cad", Seats: 1, LeaseTTL: -1, MaxWait: -1, MaxBorrow: -1, MaxQueue: -1}}, []string{"lease TTL", "max wait", "max borrow", "max queue"}},
		{"every problem reported", []Feature{{Name: "a", Seats: -1}, {Name: "b", Version: "x..", Seats: 1}}, []string{"local/a: negative seats", "local/b x..: bad version"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{Features: tt.f, Groups: groups, HostGroups: map[string][]string{}}
			err := Validate(cfg)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v, want nil", err)
				}
				if _, err := New(cfg, Options{}); err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate: nil, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate: %q lacks %q", err, w)
				}
			}
			if _, err := New(cfg, Options{}); err == nil {
				t.Errorf("New accepted an invalid configuration")
			}
		})
	}
}

func TestValidateTooManyReservations(t *testing.T) {
	f := Feature{Name: "cad", Seats: 100}
	for range maxReservations + 1 {
		f.Reserve = append(f.Reserve, Reservation{Seats: 1, Who: Subject{Kind: User, Name: "u"}})
	}
	if err := Validate(Config{Features: []Feature{f}}); err == nil || !strings.Contains(err.Error(), "at most 64") {
		t.Fatalf("Validate: %v", err)
	}
}
