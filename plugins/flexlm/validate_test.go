package flexlm

import (
	"context"
	"testing"
	"time"

	"github.com/licensegw/licensegw/sdk"
)

func TestValidateConfig(t *testing.T) {
	tests := []struct {
		config map[string]any
		attrs  []string
	}{
		{map[string]any{}, nil},
		{map[string]any{"timezone": "Europe/Paris", "max_connections": 10.0}, nil},
		{map[string]any{"timezone": "Mars/Olympus"}, []string{"timezone"}},
		{map[string]any{"max_connections": 0.0, "max_connections_per_ip": -1.0}, []string{"max_connections", "max_connections_per_ip"}},
		{map[string]any{"idle_timeout": -time.Second}, []string{"idle_timeout"}},
	}
	for _, tt := range tests {
		diags := Protocol{}.ValidateConfig(context.Background(), sdk.ValidateRequest{Config: sdk.NewConfig(tt.config)})
		var attrs []string
		for _, d := range diags {
			if d.Severity != sdk.SeverityError {
				t.Errorf("%v: %+v is not an error", tt.config, d)
			}
			attrs = append(attrs, d.Attribute)
		}
		if len(attrs) != len(tt.attrs) || (len(attrs) > 0 && attrs[0] != tt.attrs[0]) {
			t.Errorf("%v: diagnostics at %v, want %v", tt.config, attrs, tt.attrs)
		}
	}
}
