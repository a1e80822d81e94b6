package vendors

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/licensegw/licensegw/internal/e2etest"
)

// seatlistConfig serves the features of examples/seatlist-importer's seat
// list beside one of its own.
const seatlistConfig = `
feature "local" {
  seats = 1
}

plugin "seatlist" {
  path = "{{.Bin "seatlist-importer"}}"
  config {
    seat_list = "seats.list"
    vendor    = "globex"
  }
}
`

// TestThirdPartyImporter: examples/seatlist-importer, an importer written
// only against the sdk, gives the real gateway features from its own
// format: validate counts them and shows the line it could not read at
// file:line:col, the daemon serves them, and a reload rereads the file.
func TestThirdPartyImporter(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	g := e2etest.Start(t, e2etest.Options{
		Bins:   bins,
		Config: seatlistConfig,
		Files:  map[string]string{"seats.list": "../../../examples/seatlist-importer/testdata/seats.list"},
	})
	v := g.CLI(ctx, "validate", g.ConfigPath)
	if v.Code != 0 || !strings.Contains(v.Stdout, "valid (3 features, 1 plugins, 1 warnings)") ||
		!strings.Contains(v.Stderr, g.Path("seats.list")+":4:1: warning: Line not imported") {
		t.Fatalf("validate: exit %d\n%s%s", v.Code, v.Stdout, v.Stderr)
	}
	seats := func() map[string]int {
		out := map[string]int{}
		for _, f := range g.Status().Features {
			out[f.Vendor+"/"+f.Name] = f.Seats
		}
		return out
	}
	if got := seats(); got["globex/modeler"] != 5 || got["globex/viewer"] != 40 || got["local/local"] != 1 || len(got) != 3 {
		t.Fatalf("features served: %v", got)
	}

	g.WriteFile("seats.list", "modeler 2.1 7 2027-06-30\n")
	if r := g.CLI(ctx, "reload"); r.Code != 0 {
		t.Fatalf("reload: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	// The reload answers once applied; viewer is kept as retired only
	// while it has leases (it has none).
	if got := seats(); got["globex/modeler"] != 7 || got["globex/viewer"] != 0 {
		t.Fatalf("features after the reload: %v", got)
	}

	// A bad value of the block is the plugin's own check, at its attribute.
	g.ReconfigureUnchecked(strings.Replace(seatlistConfig, `"globex"`, `"not a vendor"`, 1))
	v = g.CLI(ctx, "validate", g.ConfigPath)
	if v.Code != 3 || !strings.Contains(v.Stderr, ":17: error: Invalid vendor") || !strings.Contains(v.Stderr, `vendor    = "not a vendor"`) {
		t.Fatalf("validate of a bad vendor: exit %d\n%s%s", v.Code, v.Stdout, v.Stderr)
	}
}
