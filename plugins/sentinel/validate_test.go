package sentinel

import (
	"context"
	"testing"
	"time"

	"github.com/licensegw/licensegw/sdk"
)

// TestValidateConfig: what Serve would refuse is reported at its attribute
// before the plugin runs.
func TestValidateConfig(t *testing.T) {
	for cfg, attr := range map[*map[string]any]string{
		{"cache_ttl": 10 * time.Second}: "cache_ttl",
		{"rate_limit": 0.0}:             "rate_limit",
		{"workers": 0.0}:                "workers",
		{"rate_limit": 10.0}:            "",
	} {
		diags := New().(*Plugin).ValidateConfig(context.Background(), sdk.ValidateRequest{Name: "s", Config: sdk.NewConfig(*cfg)})
		switch {
		case attr == "" && len(diags) != 0:
			t.Errorf("%v: %+v, want none", *cfg, diags)
		case attr != "" && (len(diags) != 1 || diags[0].Attribute != attr || diags[0].Severity != sdk.SeverityError):
			t.Errorf("%v: %+v, want an error at %s", *cfg, diags, attr)
		}
	}
}
