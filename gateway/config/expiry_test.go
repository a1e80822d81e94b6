package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/config"
)

func TestExpiryWarningDays(t *testing.T) {
	for _, tc := range []struct {
		body string
		want time.Duration
		err  string
	}{
		{``, 30 * 24 * time.Hour, ""},
		{`gateway { expiry_warning_days = 60 }`, 60 * 24 * time.Hour, ""},
		{`gateway { expiry_warning_days = 0 }`, 0, ""},
		{`gateway { expiry_warning_days = -1 }`, 0, "config.hcl:1,33-35: Invalid expiry warning"},
		{`gateway { expiry_warning_days = "soon" }`, 0, "config.hcl:1"},
	} {
		path := filepath.Join(t.TempDir(), "config.hcl")
		if err := os.WriteFile(path, []byte(tc.body+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, diags := config.Load(path)
		if tc.err != "" {
			if !diags.HasErrors() || !strings.Contains(diags.Error(), tc.err) {
				t.Errorf("%s: %v, want an error with %q", tc.body, diags, tc.err)
			}
			continue
		}
		if diags.HasErrors() {
			t.Errorf("%s: %v", tc.body, diags)
			continue
		}
		if cfg.Gateway.ExpiryWarning != tc.want {
			t.Errorf("%s: warning %v, want %v", tc.body, cfg.Gateway.ExpiryWarning, tc.want)
		}
	}
}
