package e2e

import (
	"regexp"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/internal/e2etest"
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

	var out, in e2etest.Event
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
		"count", "user", "host", "protocol", "plugin", "client_addr", "in_use", "seats", "queued",
		"term", "idx", "node", "prev"} // version 2
	tests := []struct {
		ev          e2etest.Event
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

// TestEventKindFields checks which fields the other kinds carry: those
// that apply and none that do not.
func TestEventKindFields(t *testing.T) {
	t.Parallel()
	g := StartGateway(t, `
feature "cad" {
  seats = 1
  queue {}
}
`)
	c := g.Dial()
	lease := c.checkout("cad", "alice", "h")
	expect(t, c.Do("CHECKOUT feature=cad user=bob host=h"), "DENIED", "reason", "no-seats")
	q := c.Do("CHECKOUT feature=cad user=carol host=h wait=60")
	expect(t, q, "QUEUED")
	expect(t, c.Do("CANCEL ticket="+q.Get("ticket")), "OK")
	if err := g.Admin().RemoveLease(t.Context(), lease); err != nil {
		t.Fatalf("remove: %v", err)
	}

	tests := []struct {
		kind    events.Kind
		match   func(e2etest.Event) bool
		present []string
		absent  []string
	}{
		{events.Denied, func(e e2etest.Event) bool { return e.User == "bob" },
			[]string{"reason", "user", "host", "in_use", "seats", "queued", "protocol", "plugin", "client_addr"},
			[]string{"lease", "ticket", "held_ms"}},
		{events.Queued, func(e e2etest.Event) bool { return e.Ticket == q.Get("ticket") },
			[]string{"ticket", "count", "user", "host", "in_use", "seats", "queued"},
			[]string{"lease", "held_ms", "reason"}},
		{events.Dequeued, func(e e2etest.Event) bool { return e.Ticket == q.Get("ticket") },
			[]string{"ticket", "reason", "in_use", "seats", "queued"},
			[]string{"lease", "held_ms"}},
		{events.Removed, func(e e2etest.Event) bool { return e.Lease == lease },
			[]string{"lease", "held_ms", "count", "user", "host", "in_use", "seats", "queued"},
			[]string{"ticket", "reason"}},
	}
	evs := g.Events()
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			var found *e2etest.Event
			for i := range evs {
				if evs[i].Kind == tt.kind && tt.match(evs[i]) {
					found = &evs[i]
				}
			}
			if found == nil {
				t.Fatalf("no %s event among %d", tt.kind, len(evs))
			}
			for _, k := range append([]string{"schema", "id", "time", "kind", "gateway", "vendor", "feature", "version"}, tt.present...) {
				if _, ok := found.Raw[k]; !ok {
					t.Errorf("%s event lacks %s: %v", tt.kind, k, found.Raw)
				}
			}
			for _, k := range tt.absent {
				if v, ok := found.Raw[k]; ok {
					t.Errorf("%s event has %s=%v, which does not apply", tt.kind, k, v)
				}
			}
			if want := "licensegw.events.local.cad." + string(tt.kind); found.Subject != want {
				t.Errorf("subject %q, want %q", found.Subject, want)
			}
		})
	}
}
