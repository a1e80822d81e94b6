package eventbound

import (
	"strings"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/seats"
	clmwire "github.com/licensegw/licensegw/plugins/concurrentlm/wire"
	flexwire "github.com/licensegw/licensegw/plugins/flexlm/wire"
	sentwire "github.com/licensegw/licensegw/plugins/sentinel/wire"
	"github.com/licensegw/licensegw/sdk"
)

// engine serves one feature, so that a request can be granted, queued or
// denied for any of the engine's reasons.
func engine(t testing.TB) *seats.Engine {
	t.Helper()
	e, err := seats.New(seats.Config{Features: []seats.Feature{
		{Vendor: "acme", Name: "cad", Version: "1.0", Seats: 1 << 20, Borrow: true, MaxBorrow: 24 * time.Hour},
	}}, seats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// decide runs req as a plugin would send it: refused by the identifier
// rules, or decided by the engine, whose events must each encode within
// the bound and name a well-formed subject.
func decide(t *testing.T, e *seats.Engine, req sdk.CheckoutRequest, protocol string) {
	if err := req.Validate(); err != nil {
		return // the plugin answers bad-request; nothing reaches the core
	}
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	c := req.Client
	_, evs := e.Checkout(now, seats.CheckoutRequest{
		Vendor: req.Vendor, Feature: req.Feature, Version: req.Version, Count: req.Count,
		Client: seats.Client{User: c.User, Host: c.Host, Display: c.Display, Project: c.Project, Addr: c.Addr,
			Protocol: protocol, Plugin: strings.Repeat("p", 64)},
		Wait: req.Wait, Borrow: req.Borrow, Bound: req.BindConn, Key: req.RequestKey,
	}, nil)
	for i := range evs {
		ev := &evs[i]
		// What the ledger adds: the longest id and gateway name it writes.
		ev.Schema, ev.ID, ev.Gateway = events.Schema, strings.Repeat("0", 26), strings.Repeat("g", 64)
		b, err := ev.MarshalJSON() // byte for byte the journal's encoding (journal.TestEncodeEventMatchesMarshalJSON)
		if err != nil {
			t.Fatalf("encoding %+v: %v", ev, err)
		}
		if len(b) > sdk.MaxEventBytes {
			t.Fatalf("%s event of %d bytes, over %d: %s", ev.Kind, len(b), sdk.MaxEventBytes, b)
		}
		for _, tok := range []string{events.Token(ev.Vendor), events.Token(ev.Feature)} {
			if tok == "" || strings.Trim(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") != "" {
				t.Fatalf("subject token %q from vendor %q feature %q", tok, ev.Vendor, ev.Feature)
			}
		}
	}
}

// FuzzCLMLineToEvent: a CLM/1 line, parsed as the plugin parses it, into
// the CHECKOUT the plugin would ask for.
func FuzzCLMLineToEvent(f *testing.F) {
	for _, s := range []string{
		"CHECKOUT feature=cad user=alice host=ws-01 id=1",
		"CHECKOUT feature=" + strings.Repeat("F", 4030) + " user=a host=h id=x1",
		`CHECKOUT feature=cad user="` + strings.Repeat("<", 128) + `" host="` + strings.Repeat("\"", 100) + `" display=x`,
		"CHECKOUT feature=a.b*c> user=u host=h vendor=" + strings.Repeat("v", 64),
		"CHECKOUT feature=cad user=é host=\x01 count=3",
	} {
		f.Add(s)
	}
	e := engine(f)
	f.Fuzz(func(t *testing.T, line string) {
		var r clmwire.Request
		if clmwire.ParseLine(line, &r) != nil || r.Verb != clmwire.Checkout {
			return
		}
		req := sdk.CheckoutRequest{
			Vendor: r.Value(clmwire.KeyVendor), Feature: r.Value(clmwire.KeyFeature), Version: r.Value(clmwire.KeyVersion),
			Count: 1, Nonce: r.Value(clmwire.KeyNonce),
			Client: sdk.Client{User: r.Value(clmwire.KeyUser), Host: r.Value(clmwire.KeyHost), Display: r.Value(clmwire.KeyDisplay),
				Addr: "[2001:db8::1]:65535"},
			RequestKey: "clm-udp/[2001:db8::1]:65535/" + r.ID(),
		}
		if n, ok := clmwire.ParseNumber(r.Value(clmwire.KeyCount), 1_000_000); ok && n > 0 {
			req.Count = int(n)
		}
		decide(t, e, req, "concurrent-lm")
	})
}

// FuzzFlexLMFrameToEvent: a FlexLM-style frame, decoded as the plugin
// decodes it, into the CHECKOUT the plugin would ask for.
func FuzzFlexLMFrameToEvent(f *testing.F) {
	for _, fr := range []*flexwire.Frame{
		flexwire.New(flexwire.Checkout, 1).Str(flexwire.TFeature, "cad").Str(flexwire.TUser, "u").Str(flexwire.THost, "h").Int(flexwire.TCount, 1),
		flexwire.New(flexwire.Checkout, 2).Str(flexwire.TFeature, strings.Repeat("F", 65000)).Int(flexwire.TCount, 1<<32),
		flexwire.New(flexwire.Checkout, 3).Str(flexwire.TFeature, "cad").Str(flexwire.TUser, strings.Repeat("\x01", 128)).
			Str(flexwire.THost, strings.Repeat("<", 255)).Str(flexwire.TDisplay, strings.Repeat("\"", 128)).
			Str(flexwire.TProject, strings.Repeat("é", 64)).Int(flexwire.TCount, 1),
	} {
		b, err := fr.Encode()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	e := engine(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, _, err := flexwire.Decode(b)
		if err != nil || fr.Type != flexwire.Checkout {
			return
		}
		req := sdk.CheckoutRequest{
			Vendor: fr.GetStr(flexwire.TVendor), Feature: fr.GetStr(flexwire.TFeature), Version: fr.GetStr(flexwire.TVersion),
			Count: int(max(fr.GetInt(flexwire.TCount), 1)),
			Client: sdk.Client{User: fr.GetStr(flexwire.TUser), Host: fr.GetStr(flexwire.THost), Display: fr.GetStr(flexwire.TDisplay),
				Project: fr.GetStr(flexwire.TProject), Addr: "[2001:db8::1]:65535"},
			BindConn: true,
		}
		decide(t, e, req, "flexlm")
	})
}

// FuzzSentinelDatagramToEvent: a Sentinel-style datagram, decoded as the
// plugin decodes it, into the checkout the plugin would ask for.
func FuzzSentinelDatagramToEvent(f *testing.F) {
	for _, r := range []sentwire.Request{
		{ID: 1, Type: sentwire.Checkout, Feature: "cad", User: "u", Host: "h"},
		{ID: 2, Type: sentwire.Checkout, Feature: strings.Repeat("F", 64), User: strings.Repeat("<", 64), Host: strings.Repeat("\"", 64), Display: strings.Repeat("é", 32)},
		{ID: 3, Type: sentwire.Commute, Feature: "cad", Days: 3, User: "u"},
	} {
		b, err := sentwire.EncodeRequest(&r, 0)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	e := engine(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := sentwire.DecodeRequest(b)
		if err != nil || (r.Type != sentwire.Checkout && r.Type != sentwire.Commute) {
			return
		}
		req := sdk.CheckoutRequest{
			Feature: r.Feature, Version: r.Version, Count: max(r.Count, 1),
			Client:     sdk.Client{User: r.User, Host: r.Host, Display: r.Display, Addr: "[2001:db8::1]:65535"},
			RequestKey: "sentinel/[2001:db8::1]:65535/18446744073709551615",
		}
		if r.Type == sentwire.Commute {
			req.Borrow = time.Duration(r.Days) * 24 * time.Hour
		}
		decide(t, e, req, "sentinel")
	})
}
