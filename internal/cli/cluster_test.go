package cli

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/admin"
)

func TestWriteStatusCluster(t *testing.T) {
	st := &admin.Status{Gateway: "gw-2", Version: "1", Cluster: &admin.ClusterStatus{
		Name: "lgw", Node: "gw-2", Leader: "gw-1", Term: 7, Unavailable: "no quorum: the NATS cluster has no meta leader",
		Nodes: []admin.ClusterNode{{Name: "gw-2", State: "ok"}, {Name: "gw-1", State: "offline", LastSeen: 3.25}},
	}}
	var b bytes.Buffer
	writeStatus(&b, st, time.Now())
	out := b.String()
	for _, want := range []string{
		"Cluster lgw: node gw-2 following (forwarding to the leader); leader gw-1, term 7; NO QUORUM",
		`UNAVAILABLE: clients are answered "unavailable, retry": no quorum`,
		"gw-1  offline  3.2s ago", "gw-2  ok       (this node)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
}

func TestWriteStatusConfigMismatch(t *testing.T) {
	for _, mismatch := range []bool{false, true} {
		st := &admin.Status{Gateway: "gw-2", Version: "1", Cluster: &admin.ClusterStatus{
			Name: "lgw", Node: "gw-2", Leader: "gw-1", Term: 7, Quorum: true,
			ConfigHash: "aaaa", LeaderConfigHash: "bbbb", ConfigMismatch: mismatch,
		}}
		var b bytes.Buffer
		writeStatus(&b, st, time.Now())
		want := "CONFIGURATION MISMATCH: this node's features and policies (aaaa) differ from the leader's (bbbb)"
		if got := strings.Contains(b.String(), want); got != mismatch {
			t.Errorf("mismatch %v: status says it %v:\n%s", mismatch, got, b.String())
		}
	}
}

func TestWriteStepDown(t *testing.T) {
	var b bytes.Buffer
	writeStepDown(&b, &admin.StepDownResult{Node: "gw-1", Term: 4, Next: "gw-3", NextTerm: 9, ReleasedMS: 21, ElectedMS: 68,
		Moved: []admin.StreamMove{{Stream: "LICENSEGW_EVENTS", From: "gw-1", To: "gw-2", TookMS: 120}}})
	for _, want := range []string{
		"gw-1 stepped down from term 4; lease released after 21ms",
		"gw-3 leads, term 9, 68ms after the request",
		"stream LICENSEGW_EVENTS: raft leader moved gw-1 -> gw-2 in 120ms",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	writeStepDown(&b, &admin.StepDownResult{Node: "gw-1", Term: 4, ReleasedMS: 21})
	if !strings.Contains(b.String(), "no other node had taken over yet") {
		t.Errorf("no next leader: %s", b.String())
	}
}

func TestWriteStatusNodeConfigs(t *testing.T) {
	st := &admin.Status{Gateway: "gw-1", Version: "1", Cluster: &admin.ClusterStatus{
		Name: "lgw", Node: "gw-1", Leader: "gw-1", Leading: true, Term: 7, Quorum: true,
		ConfigHash: "aaaa", LeaderConfigHash: "aaaa",
		Nodes: []admin.ClusterNode{
			{Name: "gw-1", State: "ok", Version: "1.2", ConfigHash: "aaaa"},
			{Name: "gw-2", State: "ok", LastSeen: 0.5, Version: "1.2", ConfigHash: "aaaa", Role: "standby"},
			{Name: "gw-3", State: "ok", LastSeen: 0.25, Version: "1.1", ConfigHash: "cccc", ConfigMismatch: true},
			{Name: "gw-4", State: "offline", LastSeen: 30},
		},
	}}
	var b bytes.Buffer
	writeStatus(&b, st, time.Now())
	out := b.String()
	for _, want := range []string{
		"CONFIGURATION MISMATCH: the features and policies of gw-3 differ from the leader's (aaaa)",
		"aaaa (leader)", "1.1      cccc MISMATCH (differs from the leader's)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "this node's features and policies") {
		t.Errorf("the leader reports itself mismatched:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^gw-2 .* aaaa +standby *$`).MatchString(out) {
		t.Errorf("status does not show gw-2's role:\n%s", out)
	}
}
