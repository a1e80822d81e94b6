package client_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/licensegw/licensegw/plugins/flexlm/client"
	"github.com/licensegw/licensegw/plugins/flexlm/internal/flextest"
	"github.com/licensegw/licensegw/plugins/flexlm/wire"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

func start(t *testing.T, extra map[string]any) (*flextest.Server, *sdktest.Seats) {
	t.Helper()
	s := sdktest.NewSeats(sdktest.Feature{Vendor: "acme", Name: "cad", Version: "2.0", Seats: 1, Queue: true, TTL: time.Minute})
	cfg := map[string]any{"server_host": "gw-c", "vendors": []string{"acme"}, "timezone": "Asia/Tokyo",
		"license_file": "../testdata/sample/acme.lic"}
	for k, v := range extra {
		cfg[k] = v
	}
	return flextest.Start(t, s, cfg), s
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return c
}

func dial(t *testing.T, spec, user string) *client.Client {
	t.Helper()
	c, err := client.Dial(ctx(t), spec, client.Options{Vendor: "acme", User: user, Host: "h-" + user})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestServerInfo(t *testing.T) {
	srv, _ := start(t, nil)
	c := dial(t, srv.LmgrdSpec(), "a")
	si, err := c.ServerInfo(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if si.Host != "gw-c" || si.Port != srv.Lmgrd.Port || len(si.LicenseFiles) != 1 ||
		len(si.Vendors) != 1 || si.Vendors[0] != (client.VendorInfo{Name: "acme", Port: srv.Vendor.Port, Up: true}) {
		t.Errorf("server info = %+v", si)
	}
	if _, off := time.Now().In(si.Location).Zone(); off != 9*3600 {
		t.Errorf("server zone offset = %d, want Tokyo's", off)
	}
}

func TestDialFailsOverAndNamesUnknownVendor(t *testing.T) {
	srv, _ := start(t, nil)
	// The first server of the list is down; the second answers.
	c := dial(t, "1@127.0.0.1,"+srv.LmgrdSpec(), "a")
	if c.Address().Port != srv.Lmgrd.Port {
		t.Errorf("connected to %v", c.Address())
	}
	_, err := client.Dial(ctx(t), srv.LmgrdSpec(), client.Options{Vendor: "nosuch"})
	var se *client.ServerError
	if !errors.As(err, &se) || se.Code != wire.CodeNoFeature {
		t.Errorf("Dial of an unknown vendor = %v", err)
	}
}

func TestQueuePositionsAdvance(t *testing.T) {
	srv, _ := start(t, nil)
	holder, err := dial(t, srv.LmgrdSpec(), "a").Checkout(ctx(t), client.CheckoutRequest{Feature: "cad"})
	if err != nil {
		t.Fatal(err)
	}
	type waiter struct {
		mu        sync.Mutex
		positions []int
		lic       chan *client.License
	}
	wait := func(user string) *waiter {
		w := &waiter{lic: make(chan *client.License, 1)}
		c := dial(t, srv.LmgrdSpec(), user)
		queued := make(chan struct{})
		var once sync.Once
		go func() {
			l, err := c.Checkout(context.Background(), client.CheckoutRequest{Feature: "cad", Wait: time.Minute,
				OnQueued: func(p int) {
					w.mu.Lock()
					w.positions = append(w.positions, p)
					w.mu.Unlock()
					once.Do(func() { close(queued) })
				}})
			if err != nil {
				t.Errorf("%s: %v", user, err)
			}
			w.lic <- l
		}()
		<-queued
		return w
	}
	b := wait("b")
	c := wait("c")
	if err := holder.Checkin(ctx(t)); err != nil {
		t.Fatal(err)
	}
	lb := <-b.lic
	if lb == nil {
		t.Fatal("b not granted")
	}
	if err := lb.Checkin(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if lc := <-c.lic; lc == nil {
		t.Fatal("c not granted")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.positions) < 2 || c.positions[0] != 2 || c.positions[len(c.positions)-1] != 1 {
		t.Errorf("c's positions = %v, want 2 then 1", c.positions)
	}
}

func TestDownAndReread(t *testing.T) {
	srv, s := start(t, map[string]any{"allow_shutdown": true})
	c := dial(t, srv.LmgrdSpec(), "admin")
	if _, err := c.Down(ctx(t)); err != nil {
		t.Fatal(err)
	}
	si, err := c.ServerInfo(ctx(t))
	if err != nil || si.Vendors[0].Up {
		t.Errorf("after Down: %+v, %v", si, err)
	}
	if _, err := c.Status(ctx(t), ""); err == nil {
		t.Error("Status succeeded while the vendor daemon is down")
	}
	msg, err := c.Reread(ctx(t))
	if err != nil || s.Reloads() != 1 || msg == "" {
		t.Fatalf("Reread = %q, %v (reloads %d)", msg, err, s.Reloads())
	}
	if _, err := c.Status(ctx(t), ""); err != nil {
		t.Errorf("Status after Reread: %v", err)
	}
}

func TestRefusedByConfiguration(t *testing.T) {
	srv, _ := start(t, map[string]any{"allow_remove": false, "allow_reread": false})
	c := dial(t, srv.LmgrdSpec(), "admin")
	var se *client.ServerError
	if _, err := c.Down(ctx(t)); !errors.As(err, &se) || se.Code != wire.CodeNotAllowed {
		t.Errorf("Down = %v, want not allowed", err)
	}
	if _, err := c.Reread(ctx(t)); !errors.As(err, &se) || se.Code != wire.CodeNotAllowed {
		t.Errorf("Reread = %v, want not allowed", err)
	}
	if _, err := c.Remove(ctx(t), 100); !errors.As(err, &se) || se.Code != wire.CodeNotAllowed {
		t.Errorf("Remove = %v, want not allowed", err)
	}
}
