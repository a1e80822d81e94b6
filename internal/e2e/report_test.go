package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/licensegw/licensegw/gateway/report"
	"github.com/licensegw/licensegw/gateway/token"
)

// TestReports runs usage and denial reports over a real journal through the
// CLI and the admin API, and feeds them bad input.
func TestReports(t *testing.T) {
	t.Parallel()
	g := StartGateway(t, `
feature "cad" {
  seats = 1
}
`)
	// An empty journal (only lifecycle messages so far) is a clear message.
	r := g.CLI(t.Context(), "report", "usage")
	if r.Code == 0 || !strings.Contains(r.Stderr, "no events") {
		t.Errorf("report over an empty stream: exit %d, stderr %q", r.Code, r.Stderr)
	}

	c := g.Dial()
	alice := c.checkout("cad", "alice", "h1")
	expect(t, c.Do("CHECKOUT feature=cad user=bob host=h2"), "DENIED", "reason", "no-seats")
	expect(t, c.Do("CHECKIN lease="+alice), "OK")
	_ = c.checkout("cad", "bob", "h2") // bob's retry: his denial was not a true one
	expect(t, c.Do("CHECKOUT feature=cad user=carol host=h3"), "DENIED", "reason", "no-seats")

	r = g.CLI(t.Context(), "report", "usage", "--since", "1h", "--format", "json")
	if r.Code != 0 {
		t.Fatalf("report usage: exit %d, stderr %q", r.Code, r.Stderr)
	}
	var usage report.Result
	if err := json.Unmarshal([]byte(r.Stdout), &usage); err != nil {
		t.Fatalf("report usage JSON: %v\n%s", err, r.Stdout)
	}
	if len(usage.Usage) != 1 {
		t.Fatalf("usage rows: %+v", usage.Usage)
	}
	u := usage.Usage[0]
	if u.Feature != "cad" || u.Seats != 1 || u.Peak != 1 || u.Checkouts != 2 || u.Denials != 2 || u.Utilisation == nil {
		t.Errorf("usage row %+v, want cad: 1 seat, peak 1, 2 checkouts, 2 denials, a utilisation", u)
	}
	if usage.EventsRead != 5 || usage.EventsInRange != 5 {
		t.Errorf("events read %d, in range %d; want 5 and 5", usage.EventsRead, usage.EventsInRange)
	}

	// The admin API answers the same document.
	var api report.Result
	getJSON(t, g, "/v1/reports/denials?since=1h&by=feature,user", http.StatusOK, &api)
	who := map[string]report.Denials{}
	for _, d := range api.Denials {
		who[d.User] = d
	}
	if who["bob"].Retries != 1 || who["bob"].TrueDenials != 0 || who["carol"].TrueDenials != 1 {
		t.Errorf("denials %+v, want bob a retry and carol a true denial", api.Denials)
	}

	// Table and CSV carry the same figures.
	r = g.CLI(t.Context(), "report", "denials", "--since", "1h", "--by", "user", "--format", "csv")
	if r.Code != 0 || !strings.Contains(r.Stdout, "user,denials,true_denials,retries,reasons\n") || !strings.Contains(r.Stdout, "carol,1,1,0,no-seats=1\n") {
		t.Errorf("CSV denials: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	r = g.CLI(t.Context(), "report", "peaks", "--since", "1h")
	if r.Code != 0 || !strings.Contains(r.Stdout, "local/cad") || !strings.Contains(r.Stdout, "PEAK") {
		t.Errorf("table peaks: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}

	// Bad input: clear messages, JSON errors from the API.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"report", "usage", "--since", "yesterday-ish"}, "not a duration back from now"},
		{[]string{"report", "usage", "--since", "2020-01-01", "--until", "2020-01-02"}, "no events between"},
		{[]string{"report", "usage", "--by", "colour"}, `unknown --by dimension "colour"`},
		{[]string{"report", "usage", "--format", "xml"}, "table, csv or json"},
	} {
		r := g.CLI(t.Context(), tc.args...)
		if r.Code == 0 || !strings.Contains(r.Stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, r.Code, r.Stderr, tc.want)
		}
	}
	for _, tc := range []struct {
		query string
		code  int
	}{
		{"usage?since=" + strings.Repeat("9", 2000), http.StatusBadRequest},
		{"usage?colour=red", http.StatusBadRequest},
		{"usage?since=1h&since=2h", http.StatusBadRequest},
		{"usage?since=-5d", http.StatusBadRequest},
		{"usage?retry=soon", http.StatusBadRequest},
		{"forecast", http.StatusNotFound},
	} {
		var body struct{ Error string }
		getJSON(t, g, "/v1/reports/"+tc.query, tc.code, &body)
		if body.Error == "" {
			t.Errorf("%s: no JSON error", tc.query)
		}
	}
}

// getJSON GETs path from g's admin API with its admin token, checks the
// status and decodes the JSON body into out.
func getJSON(t *testing.T, g *Gateway, path string, code int, out any) {
	t.Helper()
	tok, err := token.ReadFile(g.TokenFile())
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + g.AdminAddr + path
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != code {
		t.Errorf("GET %s: %d, want %d\n%s", url, resp.StatusCode, code, body)
		return
	}
	if err := json.Unmarshal(body, out); err != nil {
		t.Errorf("GET %s: %v\n%s", url, err, body)
	}
}
