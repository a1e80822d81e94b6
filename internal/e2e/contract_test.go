package e2e

import (
	"regexp"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
)

// rfc3339Sub is RFC 3339 in UTC with a fraction of a second.
var rfc3339Sub = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$`)

// TestEventContract checks a checkout/checkin pair against the events
// contract: exact field set, values, subject and Nats-Msg-Id.
func TestEventContract(t *testing.T) {
	t.Parallel()
	g := StartGateway(t, `
feature "cad.pro" {
  vendor  = "acme"
  version = "2024.1"
  seats   = 3
}
`)
	c := g.Dial()
	clientAddr := c.c.LocalAddr().String()
	lease := c.checkout("cad.pro", "alice", "ws-01")
	expect(t, c.Do("CHECKIN lease="+lease), "OK", "lease", lease)

	var out, in StreamEvent
	for _, e := range g.Events() {
		if e.Lease != lease {
			continue
		}
		switch e.Kind {
		case events.Checkout:
			out = e
		case events.Checkin:
			in = e
		}
	}
	if out.ID == "" || in.ID == "" {
		t.Fatalf("stream lacks the checkout (%q) or checkin (%q) of lease %s", out.ID, in.ID, lease)
	}

	common := []string{"schema", "id", "time", "kind", "gateway", "vendor", "feature", "version", "lease",
		"count", "user", "host", "protocol", "plugin", "client_addr", "in_use", "seats", "queued"}
	tests := []struct {
		ev          StreamEvent
		kind        string
		fields      []string
		inUse       float64
		wantSubject string
	}{
		{out, "checkout", common, 1, "licensegw.events.acme.cad_pro.checkout"},
		{in, "checkin", append(slices.Clone(common), "held_ms"), 0, "licensegw.events.acme.cad_pro.checkin"},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			e := tt.ev
			var got []string
			for k := range e.Raw {
				got = append(got, k)
			}
			sort.Strings(got)
			want := slices.Clone(tt.fields)
			sort.Strings(want)
			if !slices.Equal(got, want) {
				t.Errorf("fields %v\nwant   %v", got, want)
			}
			if e.Subject != tt.wantSubject {
				t.Errorf("subject %q, want %q", e.Subject, tt.wantSubject)
			}
			if e.MsgID != e.ID {
				t.Errorf("Nats-Msg-Id %q, id %q", e.MsgID, e.ID)
			}
			wantStr := map[string]string{
				"schema": events.Schema, "kind": tt.kind, "gateway": "gw-e2e", "vendor": "acme",
				"feature": "cad.pro", "version": "2024.1", "lease": lease, "user": "alice", "host": "ws-01",
				"protocol": "concurrent-lm", "plugin": "concurrentlm", "client_addr": clientAddr,
			}
			for k, v := range wantStr {
				if e.Raw[k] != v {
					t.Errorf("%s = %v, want %q", k, e.Raw[k], v)
				}
			}
			wantNum := map[string]float64{"count": 1, "in_use": tt.inUse, "seats": 3, "queued": 0}
			for k, v := range wantNum {
				if e.Raw[k] != v {
					t.Errorf("%s = %v, want %v", k, e.Raw[k], v)
				}
			}
			ts, _ := e.Raw["time"].(string)
			if !rfc3339Sub.MatchString(ts) {
				t.Errorf("time %q is not RFC 3339 UTC with sub-seconds", ts)
			}
			if d := time.Since(e.Time); d < 0 || d > time.Minute {
				t.Errorf("time %s is %s away from now", e.Time, d)
			}
		})
	}
	if in.ID <= out.ID {
		t.Errorf("ids not sortable by time: checkin %s <= checkout %s", in.ID, out.ID)
	}
	if held, ok := in.Raw["held_ms"].(float64); !ok || held < 0 || held > 60000 {
		t.Errorf("held_ms = %v", in.Raw["held_ms"])
	}
}
