package loadgen

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/licensegw/licensegw/plugins/concurrentlm"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

// TestFigures prints a longer comparison when CLM_FIGURES is set.
func TestFigures(t *testing.T) {
	if os.Getenv("CLM_FIGURES") == "" {
		t.Skip("set CLM_FIGURES=1 to run")
	}
	seats := sdktest.NewSeats(sdktest.Feature{Name: "bench", Seats: 1000})
	h := sdktest.Run(t, concurrentlm.New(), seats, map[string]any{"rate": 0})
	c, err := Compare(context.Background(), Options{Addr: h.Addr(concurrentlm.ListenerTCP), Clients: 16, Duration: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%v", c)
}
