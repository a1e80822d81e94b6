package relay

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/licensegw/licensegw/plugins/relay/loadgen"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

// TestFigures compares the plugin over in-memory seats (no gateway, no
// journal: the plugin's own cost) with the trivial handler when
// RELAY_FIGURES is set; `make bench` measures it behind a real gateway.
func TestFigures(t *testing.T) {
	if os.Getenv("RELAY_FIGURES") == "" {
		t.Skip("set RELAY_FIGURES=1 to run")
	}
	seats := sdktest.NewSeats(sdktest.Feature{Name: "cad", Seats: 64})
	r := serve(t, seats, map[string]any{"licenses_dir": licenceDir(t, 64), "public_key": vendorHex(), "rate": 0}, nil)
	c, err := loadgen.Compare(context.Background(), "relay plugin, in-memory seats", loadgen.Options{URL: r.base, Clients: 32, Duration: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%v", c)
}
