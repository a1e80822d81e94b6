package config

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/licensegw/licensegw/sdk"
)

// FuzzParse feeds Parse arbitrary bytes: it must not panic, every
// diagnostic must have a summary and a subject inside the source, and a
// file without errors must satisfy what validation promises.
func FuzzParse(f *testing.F) {
	for _, pattern := range []string{"testdata/*.hcl", "testdata/valid/*.hcl", "testdata/invalid/*.hcl"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			src, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(src)
		}
	}
	schema := sdk.Schema{
		{Name: "s", Type: sdk.String}, {Name: "n", Type: sdk.Number}, {Name: "b", Type: sdk.Bool},
		{Name: "l", Type: sdk.StringList}, {Name: "d", Type: sdk.Duration, Required: true},
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		const name = "fuzz.hcl"
		c, diags := Parse(name, src)
		if c == nil {
			t.Fatal("nil Config")
		}
		checkDiagnostics(t, src, name, diags)
		var buf bytes.Buffer
		if err := WriteDiagnostics(&buf, c.Files(), diags); err != nil {
			t.Fatalf("WriteDiagnostics: %v", err)
		}
		if diags.HasErrors() {
			return
		}
		for _, ft := range c.Features {
			reserved := 0
			for _, r := range ft.Reserve {
				if r.Seats <= 0 {
					t.Errorf("%s: reservation of %d seats", ft.Name, r.Seats)
				}
				reserved += r.Seats
			}
			switch {
			case ft.Seats < 0 || reserved > ft.Seats:
				t.Errorf("%s: %d seats, %d reserved", ft.Name, ft.Seats, reserved)
			case ft.LeaseTTL < MinLeaseTTL:
				t.Errorf("%s: lease TTL %s", ft.Name, ft.LeaseTTL)
			case !versionRE.MatchString(ft.Version):
				t.Errorf("%s: version %q", ft.Name, ft.Version)
			case !ft.Expiry.IsZero() && !ft.Start.IsZero() && !ft.Expiry.After(ft.Start):
				t.Errorf("%s: expiry %v not after start %v", ft.Name, ft.Expiry, ft.Start)
			}
		}
		for _, p := range c.Plugins {
			if len(p.SHA256) != 0 && len(p.SHA256) != 64 {
				t.Errorf("plugin %s: sha256 %q", p.Name, p.SHA256)
			}
			if p.Config == nil {
				t.Fatalf("plugin %s: nil Config", p.Name)
			}
			_, pdiags := DecodePluginConfig(p.Config, schema)
			checkDiagnostics(t, src, name, pdiags)
		}
		c.Engine()
	})
}

// checkDiagnostics checks that each diagnostic says what and where.
func checkDiagnostics(t *testing.T, src []byte, name string, diags hcl.Diagnostics) {
	t.Helper()
	for _, d := range diags {
		if d.Summary == "" {
			t.Errorf("diagnostic without a summary: %+v", d)
		}
		if d.Subject == nil {
			t.Errorf("%q: no subject", d.Summary)
			continue
		}
		s := d.Subject
		if s.Filename != name || s.Start.Line < 1 || s.Start.Column < 1 ||
			s.Start.Byte > s.End.Byte || s.End.Byte > len(src) {
			t.Errorf("%q: bad subject %#v for %d bytes of source", d.Summary, s, len(src))
		}
	}
}
