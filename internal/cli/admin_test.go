package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/admin"
)

func TestWriteStatus(t *testing.T) {
	end := time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC) // expiry = "2027-12-31"
	st := &admin.Status{
		Gateway: "gw-01", Version: "0.1.0", Started: time.Date(2026, 11, 26, 20, 0, 0, 0, time.UTC),
		Features: []admin.Feature{
			{Vendor: "acme", Name: "cad_pro", Version: "2024.1", Seats: 10, InUse: 1, Expiry: &end,
				Leases: []admin.Lease{{ID: "lease1", Feature: "cad_pro", Version: "2024.1", Count: 1, User: "alice", Host: "ws-01", Protocol: "concurrent-lm"}}},
			{Vendor: "local", Name: "viewer", Version: "1.0", Seats: 50, Retired: true},
		},
		Plugins: []admin.Plugin{{Name: "clm", Protocol: "concurrent-lm", State: "running", PID: 42, Listeners: map[string]string{"udp": ":1648", "tcp": ":1648"}}},
	}
	var b bytes.Buffer
	writeStatus(&b, st, st.Started.Add(90*time.Second))
	out := b.String()
	for _, want := range []string{
		"Gateway gw-01, licensegw 0.1.0, up 1m30s",
		"cad_pro",
		"2027-12-31", // the last usable day, not the instant it ends
		"viewer (retired)",
		"permanent",
		"Leases: 1",
		"lease1",
		"tcp=:1648 udp=:1648",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "2028-01-01") {
		t.Errorf("status shows the instant the licence ends, not its last day:\n%s", out)
	}
}

func TestEventSubject(t *testing.T) {
	tests := []struct{ vendor, feature, kind, want string }{
		{"", "", "", "licensegw.events.*.*.*"},
		{"", "cad pro", "denied", "licensegw.events.*.cad_pro.denied"},
		{"acme", "", "", "licensegw.events.acme.*.*"},
	}
	for _, tt := range tests {
		if got := eventSubject("licensegw", tt.vendor, tt.feature, tt.kind); got != tt.want {
			t.Errorf("eventSubject(%q, %q, %q) = %q, want %q", tt.vendor, tt.feature, tt.kind, got, tt.want)
		}
	}
}
