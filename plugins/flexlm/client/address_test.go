package client

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
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
