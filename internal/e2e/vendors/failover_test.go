package vendors

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/licensegw/licensegw/internal/e2etest"
	flexclient "github.com/licensegw/licensegw/plugins/flexlm/client"
	sentclient "github.com/licensegw/licensegw/plugins/sentinel/client"
)

// The tests here give the clients two real single-node gateways, as the
// nodes of a cluster, and kill -9 the one serving mid-session. The two
// gateways do not share their seats (that is the cluster's job, tested
// elsewhere): what is checked is that the clients and the tools move to
// the surviving one by themselves and are served there.

// TestFlexLMTriadFailsOverBetweenGateways: a FlexLM-style client given
// port@g1,port@g2 holds a licence on g1; g1's daemon is killed (its plugin
// exits and the vendor connection drops); the client checks the licence
// out again on g2 and keeps it, and lmutil given the triad shows g1 down
// and g2 serving the client.
func TestFlexLMTriadFailsOverBetweenGateways(t *testing.T) {
	g1, g2 := startFlexLM(t), startFlexLM(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	triad := lmgrd(g1) + "," + lmgrd(g2)
	c, err := flexclient.Dial(ctx, triad, flexclient.Options{Vendor: "zeta", User: "erin", Host: "erin-ws", Display: ":0",
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	lic, err := c.Checkout(ctx, flexclient.CheckoutRequest{Feature: "modeler"})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Address().String(); got != lmgrd(g1) {
		t.Fatalf("served by %s, want the first gateway %s", got, lmgrd(g1))
	}

	g1.Kill()
	e2etest.Eventually(t, 30*time.Second, "the licence checked out again on the second gateway", func() error {
		if n := lic.Current().Reacquired; n < 1 {
			return errors.New("not yet")
		}
		return nil
	})
	select {
	case <-lic.Lost():
		t.Fatalf("licence lost: %v", lic.Err())
	default:
	}
	if got := c.Address().String(); got != lmgrd(g2) {
		t.Errorf("served by %s after the kill, want %s", got, lmgrd(g2))
	}

	out := e2etest.Run(ctx, t, bins.Path("lmutil"), []string{"lmstat", "-a", "-c", triad})
	if out.Code != 0 {
		t.Errorf("lmstat of the triad exited %d, want 0 (one server up):\n%s%s", out.Code, out.Stdout, out.Stderr)
	}
	for _, want := range []string{
		"License server status: " + triad + "\n",
		" 127.0.0.1: license server DOWN\n",
		"   e2ehost: license server UP (MASTER) v",
		// erin's licence, on the second gateway's port.
		"    erin erin-ws :0 (v5.0) (e2ehost/" + strings.TrimSuffix(lmgrd(g2), "@127.0.0.1") + " ",
	} {
		if !strings.Contains(out.Stdout, want) {
			t.Errorf("lmstat output lacks %q:\n%s", want, out.Stdout)
		}
	}
	if err := lic.Checkin(ctx); err != nil {
		t.Errorf("checkin on the second gateway: %v", err)
	}
}

// TestSentinelListFailsOverBetweenGateways: a Sentinel-style client given
// g1,g2 is served by g1; after g1's daemon is killed its next call is
// answered by g2, and lsmon given the list (or $LSHOST) shows g2.
func TestSentinelListFailsOverBetweenGateways(t *testing.T) {
	g1, g2 := startSentinel(t, "5m"), startSentinel(t, "5m")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	list := g1.Addr("sentinel") + "," + g2.Addr("sentinel")
	c, err := sentclient.Dial(list, sentclient.Options{User: "dan", Host: "dan-ws", Timeout: 100 * time.Millisecond, MaxTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, _, err := c.Checkout(ctx, sentclient.CheckoutRequest{Feature: "cad"}); err != nil {
		t.Fatal(err)
	}
	first := c.ServerName()

	// Kill the gateway that served; its plugin exits with it.
	dead, live := g1, g2
	if first == g2.Addr("sentinel") {
		dead, live = g2, g1
	}
	dead.Kill()
	e2etest.Eventually(t, 30*time.Second, "the plugin of the killed gateway gone", func() error {
		probe, err := sentclient.Dial(dead.Addr("sentinel"), sentclient.Options{Timeout: 50 * time.Millisecond, Attempts: 2})
		if err != nil {
			return err
		}
		defer probe.Close()
		if _, err := probe.ServerInfo(ctx); err == nil {
			return errors.New("still answering")
		}
		return nil
	})
	tok, _, err := c.Checkout(ctx, sentclient.CheckoutRequest{Feature: "solver"})
	if err != nil {
		t.Fatalf("checkout after the kill: %v", err)
	}
	if c.ServerName() != live.Addr("sentinel") {
		t.Errorf("answered by %s, want the surviving gateway %s", c.ServerName(), live.Addr("sentinel"))
	}
	if err := c.Release(ctx, tok.Handle); err != nil {
		t.Errorf("release on the surviving gateway: %v", err)
	}

	want := `[Contacting licensegw Sentinel server on host "` + live.Addr("sentinel") + `"]`
	out := e2etest.Run(ctx, t, bins.Path("lsmon"), []string{"-f", "cad", list})
	if out.Code != 0 || !strings.Contains(out.Stdout, want) {
		t.Errorf("lsmon %s: exit %d\n%s%s", list, out.Code, out.Stdout, out.Stderr)
	}
	out = e2etest.Run(ctx, t, bins.Path("lsmon"), []string{"-f", "cad"}, "LSHOST="+strings.ReplaceAll(list, ",", "~"), "LSFORCEHOST=")
	if out.Code != 0 || !strings.Contains(out.Stdout, want) {
		t.Errorf("lsmon with LSHOST: exit %d\n%s%s", out.Code, out.Stdout, out.Stderr)
	}
}
