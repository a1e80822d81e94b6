package vendors

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/licensegw/licensegw/internal/e2etest"
	"github.com/licensegw/licensegw/plugins/sentinel/client"
)

// TestLsmonPaging: lists longer than one datagram come page by page, and
// lsmon shows every feature and every token holder.
func TestLsmonPaging(t *testing.T) {
	const (
		features = 30
		holders  = 40
	)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var cfg strings.Builder
	for i := range features {
		fmt.Fprintf(&cfg, "feature \"feature-with-a-long-name-%02d\" {\n  seats = 50\n}\n\n", i)
	}
	cfg.WriteString(`plugin "sentinel" {
  path   = "{{.Bin "licensegw-sentinel"}}"
  listen = { udp = "{{.UDP "sentinel"}}" }
  config {
    rate_limit = 100000
    rate_burst = 100000
  }
}
`)
	g := e2etest.Start(t, e2etest.Options{Bins: bins, Config: cfg.String()})
	addr := g.Addr("sentinel")
	for i := range holders {
		c, err := client.Dial(addr, client.Options{
			User: fmt.Sprintf("a-rather-long-user-name-%02d", i), Host: "a-rather-long-host-name.example.com", Display: ":0",
		})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, _, err := c.Checkout(ctx, client.CheckoutRequest{Feature: "feature-with-a-long-name-07"}); err != nil {
			t.Fatal(err)
		}
	}

	out := e2etest.Run(ctx, t, bins.Path("lsmon"), []string{addr})
	if out.Code != 0 {
		t.Fatalf("lsmon: exit %d\n%s", out.Code, out.Stderr)
	}
	if n := strings.Count(out.Stdout, "|- Feature Information"); n != features {
		t.Errorf("lsmon shows %d features, want %d", n, features)
	}
	for i := range features {
		if !strings.Contains(out.Stdout, fmt.Sprintf(`: "feature-with-a-long-name-%02d"`, i)) {
			t.Errorf("lsmon lacks feature %02d", i)
		}
	}
	out = e2etest.Run(ctx, t, bins.Path("lsmon"), []string{"-f", "feature-with-a-long-name-07", addr})
	if n := strings.Count(out.Stdout, "|- Client Information"); n != holders {
		t.Errorf("lsmon -f shows %d token holders, want %d", n, holders)
	}
	for i := range holders {
		if !strings.Contains(out.Stdout, fmt.Sprintf(": a-rather-long-user-name-%02d\n", i)) {
			t.Errorf("lsmon lacks holder %02d", i)
		}
	}
}
