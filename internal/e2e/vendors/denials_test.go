package vendors

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/internal/e2etest"
	flex "github.com/licensegw/licensegw/plugins/flexlm/client"
	"github.com/licensegw/licensegw/plugins/sentinel/client"
	"github.com/licensegw/licensegw/plugins/sentinel/wire"
)

// TestFlexLMDenials: each way a FlexLM checkout is refused comes back as
// the gateway's reason, and is a denied event with that reason.
func TestFlexLMDenials(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	g := startFlexLM(t)
	c := dialFlex(ctx, t, g, "dan")
	if _, err := c.Checkout(ctx, flex.CheckoutRequest{Feature: "meshgen"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		req    flex.CheckoutRequest
		reason string
	}{
		{"unknown feature", flex.CheckoutRequest{Feature: "nothing"}, "unknown-feature"},
		{"version too high", flex.CheckoutRequest{Feature: "render", Version: "9.0"}, "version"},
		{"more than the feature has", flex.CheckoutRequest{Feature: "render", Count: 4}, "count"},
		{"over dan's MAX", flex.CheckoutRequest{Feature: "meshgen"}, "limit"},
		{"borrow of a feature without BORROW", flex.CheckoutRequest{Feature: "render", Borrow: time.Hour}, "borrow"},
		{"borrow beyond BORROW=48", flex.CheckoutRequest{Feature: "meshgen", Borrow: 72 * time.Hour}, "borrow"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Checkout(ctx, tc.req)
			var d *flex.DeniedError
			if !errors.As(err, &d) || d.Reason != tc.reason {
				t.Fatalf("checkout %+v: %v, want a denial: %s", tc.req, err, tc.reason)
			}
			g.WaitEvent(10*time.Second, "denied "+tc.reason, func(e e2etest.Event) bool {
				return e.Kind == events.Denied && e.Feature == tc.req.Feature && e.Reason == tc.reason && e.Protocol == "flexlm"
			})
		})
	}
}

// TestSentinelDenials: each way a Sentinel checkout or commute is refused
// has its status.
func TestSentinelDenials(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	g := startSentinel(t, "10m")
	c := dialSentinel(t, g.Addr("sentinel"), "carl")
	for _, tc := range []struct {
		name string
		do   func() error
		want wire.Status
	}{
		{"unknown feature", func() error {
			_, _, err := c.Checkout(ctx, client.CheckoutRequest{Feature: "nothing"})
			return err
		}, wire.UnknownFeature},
		{"version too high", func() error {
			_, _, err := c.Checkout(ctx, client.CheckoutRequest{Feature: "cad", Version: "3.0"})
			return err
		}, wire.VersionTooHigh},
		{"more tokens than the feature has", func() error {
			_, _, err := c.Checkout(ctx, client.CheckoutRequest{Feature: "cad", Count: 4})
			return err
		}, wire.TooMany},
		{"commute on a feature that does not allow it", func() error {
			_, err := c.Commute(ctx, "solver", "", 1, 1)
			return err
		}, wire.CommuterRefused},
		{"commute beyond borrow max", func() error {
			_, err := c.Commute(ctx, "cad", "", 1, 4) // 96h > 72h
			return err
		}, wire.CommuterRefused},
		{"refresh of an unknown token", func() error {
			_, err := c.Refresh(ctx, "no-such-lease")
			return err
		}, wire.Gone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.do(); !isStatus(err, tc.want) {
				t.Errorf("%v, want status %v", err, tc.want)
			}
		})
	}
	if f := g.Feature("cad"); f.InUse != 0 {
		t.Errorf("cad: %d in use after refusals only", f.InUse)
	}
}
