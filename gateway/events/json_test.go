package events

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestMarshalRoundTrip(t *testing.T) {
	held := int64(1500)
	until := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	in := Event{
		Schema: Schema, ID: "01JDX", Time: time.Date(2026, 11, 26, 20, 35, 58, 0, time.FixedZone("X", 3600)),
		Kind: Checkin, Vendor: "acme", Feature: "cad pro", Version: "2024.1", Lease: "L1", Count: 2,
		User: "alice", InUse: 3, Seats: 10, HeldMS: &held, Expires: &until,
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{`"time":"2026-11-26T19:35:58.000000Z"`, `"held_ms":1500`, `"in_use":3`, `"kind":"checkin"`, `"expires":"2026-12-01T08:00:00.000000Z"`} {
		if !strings.Contains(s, want) {
			t.Errorf("%s: missing %s", s, want)
		}
	}
	for _, absent := range []string{`"ticket"`, `"reason"`, `"host"`} {
		if strings.Contains(s, absent) {
			t.Errorf("%s: has %s, which does not apply", s, absent)
		}
	}
	var out Event
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !out.Time.Equal(in.Time) || out.Lease != "L1" || *out.HeldMS != 1500 || !out.Expires.Equal(until) {
		t.Fatalf("round trip: got %+v", out)
	}
}

func TestSubject(t *testing.T) {
	tests := []struct {
		ev   Event
		want string
	}{
		{Event{Vendor: "acme", Feature: "cad_pro", Kind: Denied}, "licensegw.events.acme.cad_pro.denied"},
		{Event{Feature: "solver", Kind: Checkout}, "licensegw.events.local.solver.checkout"},
		{Event{Vendor: "a.b", Feature: "x y*>", Kind: Expired}, "licensegw.events.a_b.x_y__.expired"},
		{Event{Vendor: "acme", Feature: "", Kind: Queued}, "licensegw.events.acme._.queued"},
		{Event{Vendor: "evil", Feature: "made.up", Kind: Denied, Reason: ReasonUnknownFeature}, "licensegw.events._._unknown.denied"},
		{Event{Kind: Denied, Reason: ReasonSuppressed, Count: 7}, "licensegw.events._._suppressed.denied"},
		{Event{Vendor: "acme", Feature: strings.Repeat("f", 64), Kind: Checkin}, "licensegw.events.acme." + strings.Repeat("f", 64) + ".checkin"},
		{Event{Vendor: "acme", Feature: strings.Repeat("f", 65), Kind: Checkin}, "licensegw.events.acme." + strings.Repeat("f", 55) + "_924e8881.checkin"},
	}
	for _, tt := range tests {
		if got := tt.ev.Subject(DefaultPrefix); got != tt.want {
			t.Errorf("Subject(%+v) = %q, want %q", tt.ev, got, tt.want)
		}
	}
	if got := PluginSubject("p", "clm.1", "started"); got != "p.plugins.clm_1.started" {
		t.Errorf("PluginSubject = %q", got)
	}
}
