package admin

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/licensegw/licensegw/gateway/report"
)

// reportBackend answers every report with an empty result and records
// that it was asked.
type reportBackend struct {
	backend
	asked int
}

func (b *reportBackend) Report(_ context.Context, kind string, q report.Query) (*report.Result, error) {
	b.asked++
	if err := q.Validate(time.Now()); err != nil {
		return nil, err
	}
	return &report.Result{Kind: kind}, nil
}

// TestReportQueries: a bad report query is a 400 with a JSON error, and
// never reaches the backend.
func TestReportQueries(t *testing.T) {
	b := &reportBackend{}
	srv := httptest.NewServer(Handler(b, hclog.NewNullLogger()))
	t.Cleanup(srv.Close)
	tests := []struct {
		query    string
		code     int
		contains string
	}{
		{"usage?since=7d&by=feature,user", 200, ""},
		{"usage?since=" + strings.Repeat("9", 2000), 400, "longer than 1024"},
		{"usage?since=%zz", 400, "malformed query string"},
		{"usage?since=1h;by=user", 400, "malformed query string"},
		{"usage?colour=red", 400, "unknown parameter colour"},
		{"usage?since=1h&since=2h", 400, "more than once"},
		{"usage?by=feature,user,host,group,protocol,feature", 400, "too many"},
		{"usage?retry=soon", 400, ""},
		{"nosuch", 404, "no report nosuch"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			before := b.asked
			resp, err := http.Get(srv.URL + "/v1/reports/" + tt.query)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct{ Error string }
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatalf("%d, body not JSON: %v", resp.StatusCode, err)
			}
			if resp.StatusCode != tt.code || !strings.Contains(body.Error, tt.contains) {
				t.Fatalf("%d %q, want %d containing %q", resp.StatusCode, body.Error, tt.code, tt.contains)
			}
			if tt.code != 200 && b.asked != before {
				t.Error("a refused query reached the backend")
			}
		})
	}
}
