package flexlm

import (
	"context"
	"fmt"
	"time"

	"github.com/licensegw/licensegw/sdk"
)

var _ sdk.ConfigValidator = Protocol{}

// ValidateConfig implements sdk.ConfigValidator: the settings Serve would
// refuse, at their attributes, before the plugin is started with them. (The
// licence and options files are the importer's to report.)
func (Protocol) ValidateConfig(_ context.Context, req sdk.ValidateRequest) []sdk.Diagnostic {
	var out []sdk.Diagnostic
	for _, name := range []string{"max_connections", "max_connections_per_ip"} {
		if n := req.Config.Int(name, 1); n < 1 {
			out = append(out, sdk.AttrError(name, "Invalid flexlm setting", fmt.Sprintf("%s must be at least 1, not %d.", name, n)))
		}
	}
	if d := req.Config.Duration("idle_timeout", DefaultIdleTimeout); d <= 0 {
		out = append(out, sdk.AttrError("idle_timeout", "Invalid flexlm setting", fmt.Sprintf("idle_timeout must be positive, not %v.", d)))
	}
	if tz := req.Config.String("timezone", ""); tz != "" {
		if _, err := time.LoadLocation(tz); err != nil {
			out = append(out, sdk.AttrError("timezone", "Unknown time zone", fmt.Sprintf("%q is not an IANA time zone: %v.", tz, err)))
		}
	}
	return out
}
