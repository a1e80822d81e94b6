package e2etest

import (
	"os"
	"strings"
	"testing"
)

// TestConcurrentLMPlugin: the block loads as configuration, listens on one
// address for TCP and UDP, names the built plugin and carries the config
// body only when there is one.
func TestConcurrentLMPlugin(t *testing.T) {
	for _, tc := range []struct {
		name, config string
		wantConfig   bool
	}{
		{"no config", "", false},
		{"config", "    rate = 1", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The loader wants an executable there; it is never run.
			bins := Binaries{Dir: t.TempDir()}
			if err := os.WriteFile(bins.Path("licensegw-concurrentlm"), []byte("#!/bin/sh\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			g := New(t, Options{
				Bins:   bins,
				Config: "feature \"f\" {\n  seats = 1\n}\n" + ConcurrentLMPlugin(tc.config),
			})
			b, err := os.ReadFile(g.ConfigPath)
			if err != nil {
				t.Fatal(err)
			}
			text := string(b)
			addr := g.Addr(CLMAddr)
			for _, want := range []string{
				`path   = "` + bins.Path("licensegw-concurrentlm") + `"`,
				`listen = { tcp = "` + addr + `", udp = "` + addr + `" }`,
			} {
				if !strings.Contains(text, want) {
					t.Errorf("config lacks %q:\n%s", want, text)
				}
			}
			if got := strings.Contains(text, "rate = 1"); got != tc.wantConfig {
				t.Errorf("config body present = %v, want %v:\n%s", got, tc.wantConfig, text)
			}
			if len(g.plugins) != 1 || g.plugins[0] != "concurrentlm" {
				t.Errorf("plugins waited for: %v, want [concurrentlm]", g.plugins)
			}
		})
	}
}

// TestRelayPlugin: the block loads as configuration, names the built
// plugin, listens on the address named RelayAddr and carries the body.
func TestRelayPlugin(t *testing.T) {
	bins := Binaries{Dir: t.TempDir()}
	if err := os.WriteFile(bins.Path("licensegw-relay"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	g := New(t, Options{
		Bins:   bins,
		Config: "feature \"f\" {\n  seats = 1\n}\n" + RelayPlugin(`    pool = "f"`),
	})
	b, err := os.ReadFile(g.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, want := range []string{
		`path   = "` + bins.Path("licensegw-relay") + `"`,
		`listen = { http = "` + g.Addr(RelayAddr) + `" }`,
		`pool = "f"`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("config lacks %q:\n%s", want, text)
		}
	}
	if len(g.plugins) != 1 || g.plugins[0] != "relay" {
		t.Errorf("plugins waited for: %v, want [relay]", g.plugins)
	}
}
