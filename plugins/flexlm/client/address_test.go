package client

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseServers(t *testing.T) {
	dir := t.TempDir()
	lic := filepath.Join(dir, "a.lic")
	if err := os.WriteFile(lic, []byte("SERVER gw-01 ANY 27001\nSERVER gw-02 ANY\nSERVER this_host ANY 5\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "b.lic")
	if err := os.WriteFile(empty, []byte("VENDOR acme\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in      string
		want    []Address
		wantErr bool
	}{
		{"27000@gw-01", []Address{{"gw-01", 27000}}, false},
		{"@gw-01", []Address{{"gw-01", DefaultPort}}, false},
		{"1@a,2@b", []Address{{"a", 1}, {"b", 2}}, false},
		{"1@a:2@b", []Address{{"a", 1}, {"b", 2}}, false},
		{lic, []Address{{"gw-01", 27001}, {"gw-02", DefaultPort}, {"localhost", 5}}, false},
		{empty, nil, true},
		{"9@x:" + lic, []Address{{"x", 9}, {"gw-01", 27001}, {"gw-02", DefaultPort}, {"localhost", 5}}, false},
		{"gw-01", nil, true},
		{"x@gw", nil, true},
		{"70000@gw", nil, true},
		{"", nil, true},
	}
	for _, tt := range tests {
		got, err := ParseServers(tt.in)
		if tt.wantErr {
			if err == nil {
				t.Errorf("ParseServers(%q) = %v, want an error", tt.in, got)
			} else if tt.in != empty && !errors.Is(err, ErrBadAddress) {
				t.Errorf("ParseServers(%q) error %v does not wrap ErrBadAddress", tt.in, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseServers(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	if s := (Address{"gw", 27000}).String(); s != "27000@gw" {
		t.Errorf("String = %q", s)
	}
}

func TestParseSearchPath(t *testing.T) {
	dir := t.TempDir()
	triadFile := filepath.Join(dir, "b.lic")
	if err := os.WriteFile(triadFile, []byte("SERVER h1 ANY 27001\nSERVER h2 ANY 27001\nSERVER h3 ANY 27001\nVENDOR acme\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.lic"), []byte("SERVER one ANY 5\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a licence"), 0o600); err != nil {
		t.Fatal(err)
	}
	sep := string(ListSeparator)
	tests := []struct {
		in   string
		want []System
	}{
		{"27000@gw-01", []System{{{"gw-01", 27000}}}},
		{"27000@h1,27000@h2,27000@h3", []System{{{"h1", 27000}, {"h2", 27000}, {"h3", 27000}}}},
		{"1@a,2@b" + sep + "@c", []System{{{"a", 1}, {"b", 2}}, {{"c", DefaultPort}}}},
		{" 1@a , 2@b ," + sep + sep, []System{{{"a", 1}, {"b", 2}}}},
		{triadFile, []System{{{"h1", 27001}, {"h2", 27001}, {"h3", 27001}}}},
		{dir, []System{{{"one", 5}}, {{"h1", 27001}, {"h2", 27001}, {"h3", 27001}}}},
		{"7@x" + sep + triadFile, []System{{{"x", 7}}, {{"h1", 27001}, {"h2", 27001}, {"h3", 27001}}}},
		{"27000@[fd00::1],27000@[::1]", []System{{{"fd00::1", 27000}, {"::1", 27000}}}},
		{"", nil},
		{sep + " " + sep, nil},
		{",", nil},
		{"1@a,b", nil},
		{"1@a,,x@b", nil},
		{"27000@fd00::1", nil},
		{"27000@[gw]", nil},
		{"27000@gw 2", nil},
		{"+1@gw", nil},
		{filepath.Join(dir, "missing.lic"), nil},
		{t.TempDir(), nil}, // a directory without *.lic files
		{strings.Repeat("1@a,", maxServers+1), nil},
	}
	for _, tt := range tests {
		got, err := ParseSearchPath(tt.in)
		if tt.want == nil {
			if err == nil || !errors.Is(err, ErrBadAddress) {
				t.Errorf("ParseSearchPath(%q) = %v, %v; want an error wrapping ErrBadAddress", tt.in, got, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseSearchPath(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	if s := (System{{"h1", 1}, {"::1", 2}}).String(); s != "1@h1,2@[::1]" {
		t.Errorf("System.String = %q", s)
	}
}

func TestSearchPathFromEnv(t *testing.T) {
	env := map[string]string{"ACME_LICENSE_FILE": " 1@a ", "LM_LICENSE_FILE": "2@b,3@c"}
	getenv := func(k string) string { return env[k] }
	sep := string(ListSeparator)
	if got := SearchPathFromEnv("acme", getenv); got != "1@a"+sep+"2@b,3@c" {
		t.Errorf("with the vendor's variable = %q", got)
	}
	if got := SearchPathFromEnv("", getenv); got != "2@b,3@c" {
		t.Errorf("without a vendor = %q", got)
	}
	if got := SearchPathFromEnv("other", func(string) string { return "" }); got != "" {
		t.Errorf("with nothing set = %q", got)
	}
}

// FuzzParseSearchPath: any input parses, with ':' or ';' between entries
// and paths naming no file, to systems that print as a search path that
// parses back to the same systems, or fails with ErrBadAddress.
func FuzzParseSearchPath(f *testing.F) {
	for _, s := range []string{"27000@gw", "1@a,2@b,3@c", "1@a:@b", "1@[::1]:2@c", "x.lic", "[:]@", "1@a;2@b", ",,:"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	noFiles := func(path string) ([]System, error) {
		return nil, fmt.Errorf("%w: %q: no such file", ErrBadAddress, path)
	}
	f.Fuzz(func(t *testing.T, spec string, windows bool) {
		sep := ':'
		if windows {
			sep = ';'
		}
		systems, err := parseSearchPath(spec, sep, noFiles)
		if err != nil {
			if !errors.Is(err, ErrBadAddress) {
				t.Fatalf("error %v does not wrap ErrBadAddress", err)
			}
			return
		}
		n := 0
		var parts []string
		for _, s := range systems {
			if len(s) == 0 {
				t.Fatal("an empty system")
			}
			for _, a := range s {
				if a.Port < 1 || a.Port > 65535 || a.Host == "" {
					t.Fatalf("address %+v", a)
				}
				n++
			}
			parts = append(parts, s.String())
		}
		if n > maxServers {
			t.Fatalf("%d servers", n)
		}
		again, err := parseSearchPath(strings.Join(parts, string(sep)), sep, noFiles)
		if err != nil || !reflect.DeepEqual(again, systems) {
			t.Fatalf("%v prints as %q, which parses to %v, %v", systems, strings.Join(parts, string(sep)), again, err)
		}
	})
}
