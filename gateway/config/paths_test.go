package config

import (
	"os"
	"path/filepath"
	"testing"
)

// TestRelativePaths checks that relative paths are taken from the
// configuration file's directory, not from the working directory.
func TestRelativePaths(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bin", "plug"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	src := `
gateway { data_dir = "state" }
nats {
  url         = "nats://n:4222"
  credentials = "../secrets/gw.creds"
}
plugin "p" { path = "bin/plug" }
`
	path := filepath.Join(dir, "gw.hcl")
	c, diags := Parse(path, []byte(src))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	checks := []struct{ name, got, want string }{
		{"data_dir", c.Gateway.DataDir, filepath.Join(dir, "state")},
		{"key_file", c.Signing.KeyFile, filepath.Join(dir, "state", "signing.key")},
		{"credentials", c.NATS.Credentials, filepath.Join(filepath.Dir(dir), "secrets", "gw.creds")},
		{"plugin path", c.Plugins[0].Path, filepath.Join(dir, "bin", "plug")},
		{"File", c.File, path},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s = %q, want %q", ck.name, ck.got, ck.want)
		}
	}

	// The same source elsewhere has no plugin executable.
	_, diags = Parse(filepath.Join(t.TempDir(), "gw.hcl"), []byte(src))
	if len(diags) != 1 || diags[0].Summary != "Plugin executable not found" || diags[0].Subject.Start.Line != 7 {
		t.Errorf("diags = %v", diags)
	}
}
