package report_test

import (
	"errors"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/report"
)

var t0 = time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)

func at(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }

// day of cad (2 seats): alice 8:00-10:00, bob 9:00-9:30, carol denied at
// 9:10 and granted at 9:15 (a retry), dave denied at 9:20 and never
// granted (a true denial), erin queued 9:20 and granted 9:30 (10 min wait).
func dayOfCAD() []events.Event {
	ev := func(min int, kind events.Kind, user, lease string) events.Event {
		return events.Event{Time: at(min), Kind: kind, Vendor: "acme", Feature: "cad", Version: "1.0", User: user, Host: user + "-pc",
			Protocol: "concurrent-lm", Lease: lease, Count: 1, Seats: 2}
	}
	held := func(e events.Event) events.Event { ms := int64(1); e.HeldMS = &ms; return e }
	denied := func(min int, user string) events.Event {
		e := ev(min, events.Denied, user, "")
		e.Reason = "no-seats"
		return e
	}
	queued := ev(80, events.Queued, "erin", "")
	queued.Ticket = "T1"
	fromQueue := ev(90, events.Checkout, "erin", "L4")
	fromQueue.Ticket = "T1"
	return []events.Event{
		ev(0, events.Checkout, "alice", "L1"),
		ev(60, events.Checkout, "bob", "L2"),
		denied(70, "carol"),
		ev(75, events.Checkout, "carol", "L3"), // 3 seats? no: the event stream says so; the report believes it
		denied(80, "dave"),
		queued,
		held(ev(90, events.Checkin, "bob", "L2")),
		fromQueue,
		held(ev(120, events.Checkin, "alice", "L1")),
		held(ev(125, events.Expired, "carol", "L3")),
		held(ev(150, events.Removed, "erin", "L4")),
	}
}

func run(t *testing.T, q report.Query, kind string, evs []events.Event) *report.Result {
	t.Helper()
	if err := q.Validate(at(600)); err != nil {
		t.Fatal(err)
	}
	r := report.New(q)
	for i := range evs {
		r.Add(&evs[i])
	}
	res, err := r.Result(kind)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestUsageByFeature(t *testing.T) {
	res := run(t, report.Query{Since: at(0), Until: at(240)}, report.KindUsage, dayOfCAD())
	if len(res.Usage) != 1 {
		t.Fatalf("%d rows, want 1: %+v", len(res.Usage), res.Usage)
	}
	u := res.Usage[0]
	// Seat-minutes: alice 120, bob 30, carol 50, erin 60 = 260.
	if want := 260.0 / 60; u.SeatHours != round3(want) {
		t.Errorf("seat hours %v, want %v", u.SeatHours, round3(want))
	}
	if want := 260.0 / 240; u.Average != round3(want) {
		t.Errorf("average %v, want %v", u.Average, round3(want))
	}
	// Peak 3 (alice, bob, carol) from 9:15.
	if u.Peak != 3 || u.PeakAt == nil || !u.PeakAt.Equal(at(75)) {
		t.Errorf("peak %d at %v, want 3 at %v", u.Peak, u.PeakAt, at(75))
	}
	if u.Seats != 2 || u.Utilisation == nil || *u.Utilisation != 54.17 {
		t.Errorf("seats %d utilisation %v, want 2 and 54.17%%", u.Seats, u.Utilisation)
	}
	if u.Checkouts != 4 || u.Denials != 2 {
		t.Errorf("checkouts %d denials %d, want 4 and 2", u.Checkouts, u.Denials)
	}
	if u.QueueWaitP50 == nil || *u.QueueWaitP50 != 600 || *u.QueueWaitP95 != 600 {
		t.Errorf("queue waits %v %v, want 600s", u.QueueWaitP50, u.QueueWaitP95)
	}
}

func round3(v float64) float64 { return float64(int64(v*1000+0.5)) / 1000 }

func TestUsageClipsToRange(t *testing.T) {
	// 9:00-10:00: alice the whole hour, bob 30 min, carol 45, erin 30.
	res := run(t, report.Query{Since: at(60), Until: at(120)}, report.KindUsage, dayOfCAD())
	u := res.Usage[0]
	if want := round3((60 + 30 + 45 + 30) / 60.0); u.SeatHours != want {
		t.Errorf("seat hours %v, want %v", u.SeatHours, want)
	}
	// alice's lease, granted before the range, counts from its start.
	if u.Checkouts != 3 {
		t.Errorf("checkouts in range %d, want 3 (bob, carol, erin)", u.Checkouts)
	}
}

func TestDenialsSplitRetries(t *testing.T) {
	res := run(t, report.Query{Since: at(0), Until: at(240), By: []string{"feature", "user"}}, report.KindDenials, dayOfCAD())
	got := map[string]report.Denials{}
	for _, d := range res.Denials {
		got[d.User] = d
	}
	if len(got) != 2 || got["carol"].Retries != 1 || got["carol"].TrueDenials != 0 || got["dave"].TrueDenials != 1 || got["dave"].Reasons["no-seats"] != 1 {
		t.Errorf("denials %+v, want carol 1 retry, dave 1 true no-seats denial", res.Denials)
	}
	// A 2-minute window makes carol's 5-minute wait a true denial.
	res = run(t, report.Query{Since: at(0), Until: at(240), RetryWindow: 2 * time.Minute}, report.KindDenials, dayOfCAD())
	if d := res.Denials[0]; d.TrueDenials != 2 || d.Retries != 0 {
		t.Errorf("with a 2m window: %+v, want 2 true denials", d)
	}
}

func TestByGroup(t *testing.T) {
	q := report.Query{Since: at(0), Until: at(240), By: []string{"group"},
		Groups: map[string][]string{"design": {"alice", "bob"}, "leads": {"alice"}}}
	res := run(t, q, report.KindUsage, dayOfCAD())
	hours := map[string]float64{}
	for _, u := range res.Usage {
		hours[u.Group] = u.SeatHours
	}
	// design: alice 120 + bob 30; leads: alice 120; "-": carol 50 + erin 60.
	want := map[string]float64{"design": 2.5, "leads": 2, "-": round3(110.0 / 60)}
	for g, h := range want {
		if hours[g] != h {
			t.Errorf("group %s: %v seat hours, want %v (all %v)", g, hours[g], h, hours)
		}
	}
}

func TestDailyPeaks(t *testing.T) {
	evs := dayOfCAD()
	next := events.Event{Time: at(24 * 60), Kind: events.Checkout, Vendor: "acme", Feature: "cad", Lease: "L9", Count: 2, Seats: 2}
	evs = append(evs, next)
	res := run(t, report.Query{Since: at(0), Until: at(48 * 60)}, report.KindPeaks, evs)
	// L9 is still held at the end of the range, across midnight: it is
	// the 11-04 peak too, from 00:00.
	want := []struct {
		day  string
		peak int
		at   time.Time
	}{{"2026-11-02", 3, at(75)}, {"2026-11-03", 2, at(24 * 60)}, {"2026-11-04", 2, time.Date(2026, 11, 4, 0, 0, 0, 0, time.UTC)}}
	if len(res.Peaks) != len(want) {
		t.Fatalf("%d peaks, want %d", len(res.Peaks), len(want))
	}
	for i, w := range want {
		if p := res.Peaks[i]; p.Day != w.day || p.Peak != w.peak || !p.At.Equal(w.at) {
			t.Errorf("peak %d: %s %d at %v, want %s %d at %v", i, p.Day, p.Peak, p.At, w.day, w.peak, w.at)
		}
	}
}

func TestBadInput(t *testing.T) {
	q := report.Query{Since: at(0), Until: at(10)}
	if err := q.Validate(at(0)); err != nil {
		t.Fatal(err)
	}
	if _, err := report.New(q).Result(report.KindUsage); !errors.Is(err, report.ErrEmpty) {
		t.Errorf("empty stream: %v, want ErrEmpty", err)
	}
	evs := dayOfCAD()
	r := report.New(report.Query{Since: at(1000), Until: at(1100), By: []string{"feature"}, RetryWindow: time.Minute})
	for i := range evs {
		r.Add(&evs[i])
	}
	if _, err := r.Result(report.KindUsage); !errors.Is(err, report.ErrEmpty) {
		t.Errorf("a range with nothing in it: %v, want ErrEmpty", err)
	}
	for _, q := range []report.Query{
		{Since: at(10), Until: at(0)},
		{Since: at(0), By: []string{"colour"}},
		{Since: at(0), RetryWindow: -time.Second},
	} {
		if err := q.Validate(at(100)); !errors.Is(err, report.ErrQuery) {
			t.Errorf("%+v: %v, want ErrQuery", q, err)
		}
	}
	r = report.New(report.Query{Since: at(0), Until: at(100), By: []string{"feature"}, RetryWindow: time.Minute})
	r.Add(&evs[0])
	if _, err := r.Result("colour"); !errors.Is(err, report.ErrQuery) {
		t.Errorf("unknown kind: %v", err)
	}
}
