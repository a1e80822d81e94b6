package config

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// TestReadmeExample keeps the README honest: its first HCL example must be
// a valid configuration as it stands.
func TestReadmeExample(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```hcl\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md has no hcl example")
	}
	// Named as if it sat beside the README, so its relative paths resolve
	// against the repository root as a reader's would.
	c, diags := Parse(filepath.Join("..", "..", "readme-example.hcl"), m[1])
	if diags.HasErrors() {
		t.Fatalf("README example is invalid:\n%s", diags)
	}
	// The imported ones come from plugins (internal/e2e runs the example
	// with them); the file itself defines at least one.
	if len(c.Features) < 1 {
		t.Fatalf("README example gives %d features, want its own", len(c.Features))
	}
}
