package rsv

import (
	"errors"
	"path/filepath"
	"reflect"
	"testing"
)

func TestParseExample(t *testing.T) {
	f, err := ParseFile(filepath.Join("testdata", "example.rsv"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Reservation{
		{
			Pos:     Pos{File: "testdata/example.rsv", Line: 2, Col: 1},
			Feature: "cad_pro", Version: "2024.1", Group: "designers", Count: 2,
			Members: []Member{{Name: "alice"}, {Name: "bob"}, {Name: "ws-01"}},
		},
		{
			Pos:     Pos{File: "testdata/example.rsv", Line: 4, Col: 1},
			Feature: "solver", Group: "night-shift", Count: 1,
			Members: []Member{{Name: "carol"}, {Name: "dave", Exclude: true}},
		},
	}
	if !reflect.DeepEqual(f.Reservations, want) {
		t.Errorf("got %+v\nwant %+v", f.Reservations, want)
	}
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name, in string
		want     string // Format of the result
	}{
		{"empty", "", ""},
		{"comments only", "# a\n   # b\n\n", ""},
		{"blanks around fields", " f,1.0 : g : 3 :  a\tb  \r\n", "f,1.0:g:3:a b\n"},
		{"no members", "f:g:1:", "f:g:1:\n"},
		{"exclude only", "f:g:1:!x", "f:g:1:!x\n"},
		{"crlf", "f:g:1:a\r\n", "f:g:1:a\n"},
		{"leading zero", "f:g:007:a", "f:g:7:a\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse("t.rsv", []byte(tt.in))
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if got := string(f.Format()); got != tt.want {
				t.Errorf("Format = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in string
		want     string
	}{
		{"too few fields", "f:g:1", "t.rsv:1:6: want feature[,version]:group:count:members, found 3 field(s)"},
		{"empty feature", "\n:g:1:a", "t.rsv:2:1: empty feature name"},
		{"blank in feature", "  f , 1.0:g:1:a", "t.rsv:1:4: invalid character ' ' in feature name"},
		{"empty version", "f,:g:1:a", "t.rsv:1:3: empty version after ','"},
		{"bad version", "f,1?:g:1:a", "t.rsv:1:4: invalid character '?' in version"},
		{"bad group", "f:g g:1:a", "t.rsv:1:4: invalid character ' ' in group name"},
		{"zero count", "f:g:0:a", `t.rsv:1:5: count must be a whole number from 1 to 65535, found "0"`},
		{"signed count", "f:g:+1:a", `t.rsv:1:5: count must be a whole number from 1 to 65535, found "+1"`},
		{"huge count", "f:g:99999999999999999999:a", `t.rsv:1:5: count must be a whole number from 1 to 65535, found "99999999999999999999"`},
		{"lone bang", "f:g:1:a !", "t.rsv:1:10: empty member name"},
		{"colon in members", "f:g:1:a:b", "t.rsv:1:8: invalid character ':' in member name"},
		{"double bang", "f:g:1:!!a", "t.rsv:1:8: invalid character '!' in member name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.rsv", []byte(tt.in))
			if err == nil {
				t.Fatalf("Parse(%q) = nil error", tt.in)
			}
			if !errors.Is(err, ErrSyntax) {
				t.Errorf("error %v does not wrap ErrSyntax", err)
			}
			if err.Error() != tt.want {
				t.Errorf("error = %q\nwant    %q", err, tt.want)
			}
		})
	}
}

func TestParseFileMissing(t *testing.T) {
	if _, err := ParseFile(filepath.Join(t.TempDir(), "none.rsv")); err == nil {
		t.Fatal("ParseFile of a missing file succeeded")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("cad_pro,2024.1:designers:2:alice bob ws-01\nsolver:night-shift:1:carol !dave\n"))
	f.Add([]byte("# c\n\nf:g:1:\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("fuzz.rsv", data)
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("error %v does not wrap ErrSyntax", err)
			}
			return
		}
		// What parses formats back to something that parses the same.
		again, err := Parse("fuzz.rsv", file.Format())
		if err != nil {
			t.Fatalf("reparse of %q: %v", file.Format(), err)
		}
		if len(again.Reservations) != len(file.Reservations) {
			t.Fatalf("reparse: %d reservations, want %d", len(again.Reservations), len(file.Reservations))
		}
		for i, r := range file.Reservations {
			a := again.Reservations[i]
			if a.String() != r.String() || a.Count != r.Count || !reflect.DeepEqual(a.Members, r.Members) {
				t.Fatalf("reparse: %q, want %q", a.String(), r.String())
			}
		}
		if _, err := Convert(file); err != nil {
			t.Fatalf("Convert of a parsed file: %v", err)
		}
	})
}
