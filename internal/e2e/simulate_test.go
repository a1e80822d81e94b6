package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/licensegw/licensegw/gateway/simulate"
)

// TestSimulate replays a real journal under other seat counts and a
// proposed configuration file, through the CLI.
func TestSimulate(t *testing.T) {
	t.Parallel()
	g := StartGateway(t, `
feature "cad" {
  seats = 1
}
`)
	r := g.CLI(t.Context(), "simulate", "--seats", "cad=3")
	if r.Code == 0 || !strings.Contains(r.Stderr, "no events") {
		t.Errorf("simulate over an empty journal: exit %d, stderr %q", r.Code, r.Stderr)
	}
	c := g.Dial()
	alice := c.checkout("cad", "alice", "h1")
	expect(t, c.Do("CHECKOUT feature=cad user=bob host=h2"), "DENIED", "reason", "no-seats")
	expect(t, c.Do("CHECKOUT feature=cad user=carol host=h3"), "DENIED", "reason", "no-seats")
	expect(t, c.Do("CHECKIN lease="+alice), "OK")

	sim := func(args ...string) simulate.Feature {
		t.Helper()
		r := g.CLI(t.Context(), append([]string{"simulate", "--since", "1h", "--format", "json"}, args...)...)
		if r.Code != 0 {
			t.Fatalf("simulate %v: exit %d, stderr %q", args, r.Code, r.Stderr)
		}
		var res simulate.Result
		if err := json.Unmarshal([]byte(r.Stdout), &res); err != nil || len(res.Features) != 1 {
			t.Fatalf("simulate %v: %v\n%s", args, err, r.Stdout)
		}
		return res.Features[0]
	}
	f := sim("--seats", "cad=3")
	if f.Recorded.Granted != 1 || f.Recorded.Denied != 2 || f.Simulated.Granted != 3 || f.Simulated.Denied != 0 || f.Seats != 3 {
		t.Errorf("cad=3: %+v", f)
	}
	f = sim("--seats", "cad=1")
	if !reflect.DeepEqual(f.Simulated, f.Recorded) {
		t.Errorf("the configuration in force: simulated %+v, recorded %+v", f.Simulated, f.Recorded)
	}

	proposed := filepath.Join(t.TempDir(), "proposed.hcl")
	write := func(text string) {
		if err := os.WriteFile(proposed, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("feature \"cad\" {\n  seats = 2\n}\n")
	if f := sim("--config", proposed); f.Simulated.Granted != 2 || f.Simulated.Denied != 1 {
		t.Errorf("proposed 2 seats: %+v", f.Simulated)
	}

	// Table output, and bad input.
	r = g.CLI(t.Context(), "simulate", "--since", "1h", "--seats", "cad=2")
	if r.Code != 0 || !strings.Contains(r.Stdout, "local/cad") || !strings.Contains(r.Stdout, "2 -> 1") {
		t.Errorf("table: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	write("feature \"viewer\" {\n  seats = 2\n}\n")
	r = g.CLI(t.Context(), "simulate", "--since", "1h", "--config", proposed)
	if r.Code != 0 || !strings.Contains(r.Stdout, "(missing)") || !strings.Contains(r.Stdout, "not in the simulated configuration") {
		t.Errorf("a vanished feature: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	write("feature \"cad\" {\n  seats = many\n}\n")
	r = g.CLI(t.Context(), "simulate", "--config", proposed)
	if r.Code != 3 || !strings.Contains(r.Stderr, "proposed.hcl:2") {
		t.Errorf("a bad configuration: exit %d, stderr %q, want 3 and file:line", r.Code, r.Stderr)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"simulate"}, "give --config FILE or --seats"},
		{[]string{"simulate", "--seats", "cad"}, "is not feature=seats"},
		{[]string{"simulate", "--seats", "nosuch=3"}, `no feature "nosuch"`},
		{[]string{"simulate", "--seats", "cad=2", "--since", "2020-01-01", "--until", "2020-01-02"}, "no recorded requests between"},
	} {
		r := g.CLI(t.Context(), tc.args...)
		if r.Code == 0 || !strings.Contains(r.Stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, r.Code, r.Stderr, tc.want)
		}
	}
}
