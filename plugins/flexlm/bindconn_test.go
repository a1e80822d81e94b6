package flexlm_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/licensegw/licensegw/plugins/flexlm/client"
	"github.com/licensegw/licensegw/plugins/flexlm/internal/flextest"
	"github.com/licensegw/licensegw/sdk"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

// recordingSeats is an sdk.Seats that remembers the checkout requests the
// plugin made.
type recordingSeats struct {
	*sdktest.Seats

	mu   sync.Mutex
	reqs []sdk.CheckoutRequest
}

func (r *recordingSeats) Checkout(ctx context.Context, req sdk.CheckoutRequest) (*sdk.Checkout, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req)
	r.mu.Unlock()
	return r.Seats.Checkout(ctx, req)
}

func (r *recordingSeats) requests() []sdk.CheckoutRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]sdk.CheckoutRequest(nil), r.reqs...)
}

// TestCheckoutsAreBoundToTheConnection: the plugin asks the gateway to
// release a licence with its connection (BindConn), so a plugin that dies
// without its cleanup does not strand seats — except borrowed licences,
// which must outlive the connection and the plugin.
func TestCheckoutsAreBoundToTheConnection(t *testing.T) {
	rec := &recordingSeats{Seats: seats(time.Minute)}
	srv := flextest.Start(t, rec, cfg())
	c := dial(t, srv, "alice")
	tests := []struct {
		name string
		req  client.CheckoutRequest
		bind bool
	}{
		{"plain", client.CheckoutRequest{Feature: "cad"}, true},
		{"queueable", client.CheckoutRequest{Feature: "cad", Wait: time.Minute}, true},
		{"borrowed", client.CheckoutRequest{Feature: "cad", Borrow: 24 * time.Hour}, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lic, err := c.Checkout(ctx(t), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			reqs := rec.requests()
			if len(reqs) != i+1 {
				t.Fatalf("%d checkout requests recorded, want %d", len(reqs), i+1)
			}
			if got := reqs[i].BindConn; got != tt.bind {
				t.Errorf("BindConn = %v, want %v", got, tt.bind)
			}
			if err := lic.Checkin(ctx(t)); err != nil {
				t.Errorf("checkin: %v", err)
			}
		})
	}
}
