package flexlm_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/licensegw/licensegw/plugins/flexlm/client"
	"github.com/licensegw/licensegw/plugins/flexlm/internal/flextest"
	"github.com/licensegw/licensegw/plugins/flexlm/wire"
	"github.com/licensegw/licensegw/sdk"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

// cutOffSeats is the gateway of a node cut off from its cluster: a
// status is forwarded to a leader that cannot be reached and gets no
// answer until the caller gives up, and a checkout is answered
// "unavailable, retry".
type cutOffSeats struct{ *sdktest.Seats }

func (cutOffSeats) Status(ctx context.Context, _ sdk.StatusQuery) ([]sdk.FeatureStatus, error) {
	<-ctx.Done()
	return nil, sdk.ErrUnavailable
}

// TestLmgrdAnswersWithoutTheGatewaysFeatures: with no vendors configured,
// lmgrd names the vendor daemon from the gateway's features. On a node
// that cannot read them, it must still answer inside a FlexLM client's
// default 5 s connect timeout, so that the client reaches the vendor
// daemon and hears ERROR -96 (retry elsewhere) rather than a timeout.
func TestLmgrdAnswersWithoutTheGatewaysFeatures(t *testing.T) {
	s := seats(time.Minute)
	s.FailWith(sdk.ErrUnavailable)
	srv := flextest.Start(t, cutOffSeats{s}, map[string]any{"server_host": "gw-test"})
	for _, vendor := range []string{"", "acme"} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		began := time.Now()
		c, err := client.Dial(ctx, srv.LmgrdSpec(), client.Options{
			Vendor: vendor, User: "ned", Host: "ws7", NoReconnect: true, ConnectTimeout: client.DefaultConnectTimeout,
		})
		if err != nil {
			cancel()
			t.Fatalf("vendor %q: dial with the default connect timeout: %v (after %v)", vendor, err, time.Since(began))
		}
		t.Logf("vendor %q: connected after %v", vendor, time.Since(began).Round(time.Millisecond))
		_, err = c.Checkout(ctx, client.CheckoutRequest{Feature: "cad"})
		var se *client.ServerError
		if !errors.As(err, &se) || se.Code != wire.CodeUnavailable {
			t.Errorf("vendor %q: checkout = %v, want ERROR %d", vendor, err, wire.CodeUnavailable)
		}
		c.Close()
		cancel()
	}
}

// TestLmgrdNamesTheFeaturesVendors: lmgrd reports the vendors of the
// gateway's features when the configuration names none, and points a
// client that names one of them at the vendor daemon.
func TestLmgrdNamesTheFeaturesVendors(t *testing.T) {
	srv := flextest.Start(t, seats(time.Minute), map[string]any{"server_host": "gw-test"})
	c, err := client.Dial(ctx(t), srv.LmgrdSpec(), client.Options{Vendor: "acme", User: "ned", Host: "ws7", NoReconnect: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Checkout(ctx(t), client.CheckoutRequest{Feature: "cad"}); err != nil {
		t.Fatalf("checkout through vendor acme: %v", err)
	}
	_, err = client.Dial(ctx(t), srv.LmgrdSpec(), client.Options{Vendor: "other", User: "ned", Host: "ws7", NoReconnect: true})
	if err == nil {
		t.Fatal("vendor other: connected, want no such vendor daemon")
	}
}
