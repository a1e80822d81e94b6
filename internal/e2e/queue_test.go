package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestEventNeverInsideStatus: an EVENT line may come between answers but
// never between the FEATURE lines and the END of one STATUS answer. A
// grant is made to fire while the waiting connection reads a stream of
// long STATUS answers.
func TestEventNeverInsideStatus(t *testing.T) {
	t.Parallel()
	var features strings.Builder
	for i := range 30 {
		fmt.Fprintf(&features, "feature \"f%02d\" {\n  seats = 1\n}\n", i)
	}
	features.WriteString("feature \"cad\" {\n  seats = 1\n  queue {}\n}\n")
	g := StartGateway(t, features.String())

	holder := g.Dial()
	w := g.Dial()
	for round := range 5 {
		lease := holder.checkout("cad", "holder", "h")
		q := w.Do(fmt.Sprintf("CHECKOUT feature=cad user=w host=h wait=60 id=q%d", round))
		expect(t, q, "QUEUED")

		var batch strings.Builder
		const statuses = 20
		for i := range statuses {
			fmt.Fprintf(&batch, "STATUS id=s%d\n", i)
		}
		w.Send(strings.TrimSuffix(batch.String(), "\n"))
		time.Sleep(time.Duration(round) * time.Millisecond)
		expect(t, holder.Do("CHECKIN lease="+lease), "OK")

		inside, ends, granted := false, 0, ""
		for ends < statuses || granted == "" {
			r, err := w.readLine(lineTimeout)
			if err != nil {
				t.Fatalf("round %d: %v (ends %d, granted %q)", round, err, ends, granted)
			}
			switch r.Verb {
			case "FEATURE":
				inside = true
			case "END":
				inside = false
				ends++
				if want := fmt.Sprint("s", ends-1); r.Get("id") != want {
					t.Errorf("END id=%q, want %s", r.Get("id"), want)
				}
			case "EVENT":
				if inside {
					t.Errorf("round %d: EVENT inside a STATUS answer: %q", round, r.Line)
				}
				if r.Get("id") != fmt.Sprint("q", round) {
					t.Errorf("EVENT id=%q, want the queued CHECKOUT's id q%d", r.Get("id"), round)
				}
				granted = r.Get("lease")
				t.Logf("round %d: EVENT after %d of %d END lines", round, ends, statuses)
			default:
				t.Fatalf("unexpected %q", r.Line)
			}
		}
		expect(t, w.Do("CHECKIN lease="+granted), "OK")
	}
}

// TestTicketsPerConnection: beyond max_tickets_per_connection, a CHECKOUT
// with wait= is tried without waiting and never QUEUED.
func TestTicketsPerConnection(t *testing.T) {
	t.Parallel()
	g := StartGateway(t, `
feature "cad" {
  seats = 1
  queue {
    max_length = 50
  }
}
`, WithPluginConfig(`    max_tickets_per_connection = 2`))
	g.Dial().checkout("cad", "holder", "h")
	w := g.Dial()
	expect(t, w.Do("CHECKOUT feature=cad user=w host=h wait=60"), "QUEUED", "position", "1")
	expect(t, w.Do("CHECKOUT feature=cad user=w host=h wait=60"), "QUEUED", "position", "2")
	expect(t, w.Do("CHECKOUT feature=cad user=w host=h wait=60"), "DENIED", "reason", "no-seats")
	expect(t, g.Dial().Do("CHECKOUT feature=cad user=x host=h wait=60"), "QUEUED", "position", "3")
}
