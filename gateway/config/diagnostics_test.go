package config

import (
	"bytes"
	"flag"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/licensegw/licensegw/internal/golden"
)

var (
	update = flag.Bool("update", false, "show how the golden files would change (in testdata) and fail; with -accept, rewrite them")
	accept = flag.Bool("accept", false, "with -update, rewrite the golden files that differ")
)

// TestWriteDiagnosticsGolden pins the text an operator sees for a broken
// file: positions, source snippets, wrapping. Run with -update after a
// deliberate change.
func TestWriteDiagnosticsGolden(t *testing.T) {
	path := filepath.Join("testdata", "invalid", "policies.hcl")
	goldenPath := filepath.Join("testdata", "policies.golden")
	c, diags := Load(path)
	if !diags.HasErrors() {
		t.Fatal("no errors")
	}
	var buf bytes.Buffer
	if err := WriteDiagnostics(&buf, c.Files(), diags); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, goldenPath, buf.Bytes(), golden.ModeOf(*update, *accept))
}

// TestWriteDiagnosticsWithoutSource checks that a diagnostic still prints
// its position when the file is not at hand, and that no colour codes leak.
func TestWriteDiagnosticsWithoutSource(t *testing.T) {
	rng := hcl.Range{Filename: "gone.hcl", Start: hcl.Pos{Line: 3, Column: 7, Byte: 20}, End: hcl.Pos{Line: 3, Column: 9, Byte: 22}}
	diags := hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Bad thing", Detail: "It is bad.", Subject: &rng}}
	var buf bytes.Buffer
	if err := WriteDiagnostics(&buf, nil, diags); err != nil {
		t.Fatal(err)
	}
	got := buf.String()
	for _, s := range []string{"gone.hcl:3:7: error: Bad thing", "It is bad."} {
		if !strings.Contains(got, s) {
			t.Errorf("output lacks %q:\n%s", s, got)
		}
	}
	if strings.Contains(got, "\x1b[") {
		t.Errorf("output has colour codes:\n%q", got)
	}
}

// TestLoadMissingFile checks that an unreadable file is one error and still
// gives a usable (empty) file map.
func TestLoadMissingFile(t *testing.T) {
	c, diags := Load(filepath.Join(t.TempDir(), "nope.hcl"))
	if len(diags) != 1 || !diags.HasErrors() || diags[0].Summary != "Failed to read configuration" {
		t.Fatalf("diags = %v", diags)
	}
	if c == nil || len(c.Files()) != 0 {
		t.Errorf("Config = %+v, want non-nil with no files", c)
	}
	var nilConfig *Config
	if nilConfig.Files() != nil {
		t.Error("Files on a nil Config is not nil")
	}
}
