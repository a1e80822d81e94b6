package report

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"
)

// Kinds of report.
const (
	KindUsage   = "usage"
	KindDenials = "denials"
	KindPeaks   = "peaks"
)

// Kinds lists the report kinds.
func Kinds() []string { return []string{KindUsage, KindDenials, KindPeaks} }

// Result is one report as the API and `licensegw report --format json`
// give it. Exactly one of Usage, Denials and Peaks is set.
type Result struct {
	Kind          string      `json:"kind"`
	Since         time.Time   `json:"since"`
	Until         time.Time   `json:"until"`
	By            []string    `json:"by"`
	EventsRead    int         `json:"events_read"`
	EventsInRange int         `json:"events_in_range"`
	Usage         []Usage     `json:"usage,omitempty"`
	Denials       []Denials   `json:"denials,omitempty"`
	Peaks         []DailyPeak `json:"peaks,omitempty"`
}

// Usage is one row of the usage report.
type Usage struct {
	Key
	Seats        int        `json:"seats,omitempty"` // the feature's seats (by feature only)
	Peak         int        `json:"peak"`
	PeakAt       *time.Time `json:"peak_at,omitempty"`
	Average      float64    `json:"average"`
	SeatHours    float64    `json:"seat_hours"`
	Utilisation  *float64   `json:"utilisation_pct,omitempty"` // average / seats (by feature only)
	Checkouts    int        `json:"checkouts"`
	Denials      int        `json:"denials"`
	QueueWaitP50 *float64   `json:"queue_wait_p50_seconds,omitempty"`
	QueueWaitP95 *float64   `json:"queue_wait_p95_seconds,omitempty"`
}

// Denials is one row of the denials report.
type Denials struct {
	Key
	Denials     int            `json:"denials"`
	TrueDenials int            `json:"true_denials"` // no grant to the user within the retry window
	Retries     int            `json:"retries"`      // a grant followed within the retry window
	Reasons     map[string]int `json:"reasons"`
	RetryWindow string         `json:"retry_window"`
}

// DailyPeak is one row of the peaks report: a key's peak on one UTC day.
type DailyPeak struct {
	Key
	Day   string    `json:"day"` // YYYY-MM-DD, UTC
	Peak  int       `json:"peak"`
	At    time.Time `json:"at"`
	Seats int       `json:"seats,omitempty"`
}

// Result finishes the report and returns the table of kind.
func (r *Report) Result(kind string) (*Result, error) {
	if r.read == 0 {
		return nil, fmt.Errorf("%w: the stream holds no events yet", ErrEmpty)
	}
	r.finish()
	res := &Result{Kind: kind, Since: r.q.Since.UTC(), Until: r.q.Until.UTC(), By: r.q.By, EventsRead: r.read, EventsInRange: r.inRange}
	rows := r.activeRows()
	if len(rows) == 0 {
		return nil, fmt.Errorf("%w between %s and %s (the stream holds events from %s to %s)", ErrEmpty,
			r.q.Since.UTC().Format(time.RFC3339), r.q.Until.UTC().Format(time.RFC3339),
			r.first.UTC().Format(time.RFC3339), r.last.UTC().Format(time.RFC3339))
	}
	switch kind {
	case KindUsage:
		res.Usage = r.usage(rows)
	case KindDenials:
		res.Denials = r.denialRows(rows)
	case KindPeaks:
		res.Peaks = r.peaks(rows)
	default:
		return nil, fmt.Errorf("%w: unknown report %q (one of usage, denials, peaks)", ErrQuery, kind)
	}
	return res, nil
}

// activeRows are the rows with anything in the range, sorted by key.
func (r *Report) activeRows() []*row {
	var out []*row
	for _, w := range r.rows {
		if w.seatNanos > 0 || w.checkouts > 0 || w.denials > 0 || w.peak > 0 {
			w.name = w.key.String()
			out = append(out, w)
		}
	}
	slices.SortFunc(out, func(a, b *row) int { return cmp.Compare(a.name, b.name) })
	return out
}

// featureSeats is the seats of every version of a feature, as last seen.
func (r *Report) featureSeats(k Key) int {
	if k.Feature == "" || k.User != "" || k.Host != "" || k.Group != "" || k.Protocol != "" {
		return 0
	}
	n := 0
	for p, s := range r.seats {
		if p.vendor == k.Vendor && p.feature == k.Feature {
			n += s
		}
	}
	return n
}

func (r *Report) usage(rows []*row) []Usage {
	span := float64(r.until - r.since)
	out := make([]Usage, 0, len(rows))
	for _, w := range rows {
		u := Usage{
			Key: w.key, Seats: r.featureSeats(w.key), Peak: w.peak,
			Average:   round(w.seatNanos/span, 3),
			SeatHours: round(w.seatNanos/float64(time.Hour), 3),
			Checkouts: w.checkouts, Denials: w.denials,
		}
		if w.peak > 0 {
			at := time.Unix(0, w.peakAt).UTC()
			u.PeakAt = &at
		}
		if u.Seats > 0 {
			pct := round(100*w.seatNanos/span/float64(u.Seats), 2)
			u.Utilisation = &pct
		}
		if len(w.waits) > 0 {
			sort.Float64s(w.waits)
			p50, p95 := round(percentile(w.waits, 0.50), 3), round(percentile(w.waits, 0.95), 3)
			u.QueueWaitP50, u.QueueWaitP95 = &p50, &p95
		}
		out = append(out, u)
	}
	return out
}

func (r *Report) denialRows(rows []*row) []Denials {
	var out []Denials
	for _, w := range rows {
		if w.denials == 0 {
			continue
		}
		out = append(out, Denials{Key: w.key, Denials: w.denials, TrueDenials: w.trueDenials, Retries: w.retries,
			Reasons: w.reasons, RetryWindow: r.q.RetryWindow.String()})
	}
	return out
}

func (r *Report) peaks(rows []*row) []DailyPeak {
	var out []DailyPeak
	for _, w := range rows {
		seats := r.featureSeats(w.key)
		for _, d := range slices.Sorted(mapKeys(w.daily)) {
			p := w.daily[d]
			if d < r.since-r.since%day || d >= r.until {
				continue
			}
			out = append(out, DailyPeak{Key: w.key, Day: time.Unix(0, d).UTC().Format("2006-01-02"),
				Peak: p.peak, At: time.Unix(0, p.at).UTC(), Seats: seats})
		}
	}
	return out
}

func mapKeys(m map[int64]dayPeak) func(func(int64) bool) {
	return func(yield func(int64) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// percentile of sorted values, nearest rank.
func percentile(sorted []float64, p float64) float64 {
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func round(v float64, digits int) float64 {
	f := math.Pow(10, float64(digits))
	return math.Round(v*f) / f
}
