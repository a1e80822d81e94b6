package natsd_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/natsd"
)

func TestRouteURL(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		bad      bool
	}{
		{in: "nats-route://127.0.0.1:6222", want: "nats-route://127.0.0.1:6222"},
		{in: " 10.0.0.2:6222 ", want: "nats-route://10.0.0.2:6222"},
		{in: "[::1]:6222", want: "nats-route://[::1]:6222"},
		{in: "nats://127.0.0.1:6222", bad: true},
		{in: "127.0.0.1", bad: true},
		{in: ":6222", bad: true},
		{in: "h:0", bad: true},
		{in: "h:70000", bad: true},
	} {
		u, err := natsd.RouteURL(tc.in)
		switch {
		case tc.bad && err == nil:
			t.Errorf("RouteURL(%q) = %v, want an error", tc.in, u)
		case !tc.bad && err != nil:
			t.Errorf("RouteURL(%q): %v", tc.in, err)
		case !tc.bad && u.String() != tc.want:
			t.Errorf("RouteURL(%q) = %s, want %s", tc.in, u, tc.want)
		}
	}
}

func TestClusterNeedsNames(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for _, cfg := range []natsd.Config{
		{Name: "n1", Cluster: &natsd.Cluster{Listen: "127.0.0.1:0"}},
		{Cluster: &natsd.Cluster{Name: "c", Listen: "127.0.0.1:0"}},
		{Name: "n1", Cluster: &natsd.Cluster{Name: "c", Listen: "127.0.0.1"}},
		{Name: "n1", Cluster: &natsd.Cluster{Name: "c", Listen: "127.0.0.1:0", Routes: []string{"x"}}},
	} {
		cfg.StoreDir, cfg.NoListen = t.TempDir(), true
		s, err := natsd.Start(ctx, cfg, nil)
		if !errors.Is(err, natsd.ErrClusterConfig) {
			if s != nil {
				s.Shutdown()
			}
			t.Errorf("Start(%+v) = %v, want ErrClusterConfig", *cfg.Cluster, err)
		}
	}
}
