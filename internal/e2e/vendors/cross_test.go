package vendors

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/internal/e2etest"
	flex "github.com/licensegw/licensegw/plugins/flexlm/client"
	"github.com/licensegw/licensegw/plugins/sentinel/client"
)

// crossConfig serves the imported zeta features with both the flexlm and
// the sentinel plugin.
const crossConfig = flexlmConfig + `
plugin "sentinel" {
  path   = "{{.Bin "licensegw-sentinel"}}"
  listen = { udp = "{{.UDP "sentinel"}}" }
}
`

// TestCrossProtocol: one pool of seats whichever protocol a client speaks.
// A Sentinel token shows in lmstat with a handle lmremove -h takes, a
// FlexLM licence shows in lsmon, and the events name each protocol.
func TestCrossProtocol(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	g := e2etest.Start(t, e2etest.Options{
		Bins:   bins,
		Config: crossConfig,
		Files:  map[string]string{"zeta.lic": "testdata/zeta.lic", "zeta.opt": "testdata/zeta.opt"},
	})
	port := lmgrd(g)[:strings.Index(lmgrd(g), "@")]

	sam := dialSentinel(t, g.Addr("sentinel"), "sam")
	tok, _, err := sam.Checkout(ctx, client.CheckoutRequest{Feature: "modeler"})
	if err != nil {
		t.Fatal(err)
	}
	fay := dialFlex(ctx, t, g, "fay")
	lic, err := fay.Checkout(ctx, flex.CheckoutRequest{Feature: "modeler"})
	if err != nil {
		t.Fatal(err)
	}
	// The reserved seat is left: modeler is full for both of them.
	var denied *flex.DeniedError
	if _, err := fay.Checkout(ctx, flex.CheckoutRequest{Feature: "modeler"}); !errors.As(err, &denied) || denied.Reason != "reserved" {
		t.Errorf("a third modeler seat for fay: %v, want a denial: reserved", err)
	}

	out := lmutil(ctx, t, g, "lmstat", "-f", "modeler")
	m := regexp.MustCompile(regexp.QuoteMeta(fmt.Sprintf("    sam sam-ws :0 (v5.0) (e2ehost/%s ", port)) + `(\d+)\), start `).FindStringSubmatch(out.Stdout)
	if m == nil {
		t.Fatalf("lmstat does not list the Sentinel client sam:\n%s", out.Stdout)
	}
	if !regexp.MustCompile(`(?m)^` + userLine("fay", port, lic.Handle, "") + `$`).MatchString(out.Stdout) {
		t.Errorf("lmstat does not list fay under handle %d:\n%s", lic.Handle, out.Stdout)
	}
	if !strings.Contains(out.Stdout, "Users of modeler:  (Total of 3 licenses issued;  Total of 3 licenses in use)") {
		t.Errorf("lmstat: want 3 of 3 in use (2 held, 1 reserved):\n%s", out.Stdout)
	}

	ls := e2etest.Run(ctx, t, bins.Path("lsmon"), []string{"-f", "modeler", g.Addr("sentinel")})
	for _, user := range []string{"sam", "fay"} {
		if !regexp.MustCompile(`(?m)^     \|- User name +: ` + user + `$`).MatchString(ls.Stdout) {
			t.Errorf("lsmon does not list %s:\n%s", user, ls.Stdout)
		}
	}

	// lmremove -h with the number lmstat gave sam's Sentinel token.
	if r := lmutil(ctx, t, g, "lmremove", "-h", "modeler", "e2ehost", port, m[1]); r.Code != 0 {
		t.Fatalf("lmremove -h modeler e2ehost %s %s: exit %d\n%s%s", port, m[1], r.Code, r.Stdout, r.Stderr)
	}
	g.WaitEvent(10*time.Second, "sam's token removed", func(e e2etest.Event) bool {
		return e.Kind == events.Removed && e.Lease == tok.Handle
	})
	var se *client.StatusError
	if _, err := sam.Refresh(ctx, tok.Handle); !errors.As(err, &se) || se.Reason != "removed" {
		t.Errorf("sam's refresh after lmremove: %v, want gone: removed", err)
	}

	// The administrator's view after lmremove: both plugins run, only
	// fay's lease is left.
	st := g.CLI(ctx, "status")
	for _, re := range []string{`(?m)^flexlm +flexlm +\S+ +running `, `(?m)^sentinel +sentinel +\S+ +running `, `(?m)^modeler +zeta +5\.0 +3 +1 `, `(?m)^` + lic.Lease + ` +modeler +5\.0 +1 +fay +fay-ws +flexlm `} {
		if !regexp.MustCompile(re).MatchString(st.Stdout) {
			t.Errorf("licensegw status lacks %s:\n%s", re, st.Stdout)
		}
	}

	evs := g.Events()
	checkContract(t, evs)
	protocols := map[string]string{}
	for _, e := range e2etest.Kinds(evs, events.Checkout) {
		protocols[e.User] = e.Protocol
	}
	if protocols["sam"] != "sentinel" || protocols["fay"] != "flexlm" {
		t.Errorf("checkout events' protocols: %v, want sam sentinel and fay flexlm", protocols)
	}
}
