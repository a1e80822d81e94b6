package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/licensegw/licensegw/gateway/admin"
)

// manyLeases is an admin backend holding n leases of one feature.
type manyLeases struct{ n int }

func (b manyLeases) Status(context.Context) admin.Status {
	f := admin.Feature{Vendor: "acme", Name: "cad", Version: "1", Seats: b.n, InUse: b.n}
	for i := range b.n {
		f.Leases = append(f.Leases, admin.Lease{ID: fmt.Sprintf("L%06d", i), Vendor: "acme", Feature: "cad", Count: 1})
	}
	return admin.Status{Gateway: "gw", Features: []admin.Feature{f}}
}
func (manyLeases) RemoveLease(context.Context, string, string) error { return nil }
func (manyLeases) Reload(context.Context) error                      { return nil }
func (manyLeases) Ready(context.Context) error                       { return nil }

func TestLeasesFollowsPages(t *testing.T) {
	srv := httptest.NewServer(admin.Handler(manyLeases{n: 2345}, hclog.NewNullLogger()))
	t.Cleanup(srv.Close)
	var out, errb bytes.Buffer
	e := &env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	if code := mainEnv(t.Context(), e, []string{"leases", "-addr", srv.URL, "-page-size", "500", "-json"}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var got []admin.Lease
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2345 || got[0].ID != "L000000" || got[2344].ID != "L002344" {
		t.Fatalf("%d leases, first %v", len(got), got[:1])
	}
	out.Reset()
	if code := mainEnv(t.Context(), e, []string{"leases", "-addr", srv.URL}); code != 0 || !bytes.Contains(out.Bytes(), []byte("2345 leases")) {
		t.Fatalf("table: exit %d, %q", code, out.String()[max(0, out.Len()-200):])
	}
}
