package loadgen

import (
	"context"
	"testing"
	"time"
)

// TestCompareAgainstEcho: a short comparison of the baseline with itself
// counts cycles, requests and latencies, and answers of the probed size.
func TestCompareAgainstEcho(t *testing.T) {
	e, err := StartEcho(3000)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	c, err := Compare(context.Background(), "echo as server", Options{URL: e.URL(), Clients: 4, Duration: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []Result{c.Echo, c.Server} {
		if r.Cycles == 0 || r.Errors != 0 || r.Requests < 2*r.Cycles || r.P50 <= 0 || r.P99 < r.P50 || r.Max < r.P99 {
			t.Fatalf("result %+v", r)
		}
		if r.BodySize < 2900 || r.BodySize > 3100 {
			t.Fatalf("claim answers of %d bytes, want about 3000", r.BodySize)
		}
	}
	if c.Ratio() <= 0 {
		t.Fatalf("ratio %v", c.Ratio())
	}
	t.Log("\n" + c.String())
}

// TestRunCountsErrors: a server answering other statuses counts errors,
// and a run with no success fails.
func TestRunCountsErrors(t *testing.T) {
	e, err := StartEcho(100)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	r, err := Run(context.Background(), "wrong path", Options{URL: e.URL() + "/nope", Clients: 2, Duration: time.Second})
	if err == nil || r.Errors == 0 {
		t.Fatalf("%+v, %v", r, err)
	}
}
