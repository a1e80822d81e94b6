package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/licensegw/licensegw/gateway/config"
	"github.com/licensegw/licensegw/gateway/natscreds"
)

// TestNATSIdentity: the block printed goes into a configuration that loads,
// naming the key whose seed was written, and never the seed.
func TestNATSIdentity(t *testing.T) {
	dir := t.TempDir()
	seedFile := filepath.Join(dir, "siem.nk")
	var out, errb bytes.Buffer
	e := &env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	if code := mainEnv(t.Context(), e, []string{"nats", "identity", "-name", "siem", "-out", seedFile}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	fi, err := os.Stat(seedFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("seed file: %v, %v", fi, err)
	}
	creds, err := natscreds.ReadFile(seedFile)
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := os.ReadFile(seedFile)
	if strings.Contains(out.String(), "SU") && strings.Contains(string(seed), strings.TrimSpace(out.String())) {
		t.Fatal("the block holds the seed")
	}
	cfgFile := filepath.Join(dir, "config.hcl")
	if err := os.WriteFile(cfgFile, []byte("nats {\n"+out.String()+"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, diags := config.Load(cfgFile)
	if diags.HasErrors() {
		t.Fatalf("the printed block does not load: %v\n%s", diags, out.String())
	}
	if len(cfg.NATS.Identities) != 1 || cfg.NATS.Identities[0].NKey != creds.PublicKey || cfg.NATS.Identities[0].Write {
		t.Fatalf("identities %+v, want siem with %s, read", cfg.NATS.Identities, creds.PublicKey)
	}
}
