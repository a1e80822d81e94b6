package cli

import (
	"bytes"
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
